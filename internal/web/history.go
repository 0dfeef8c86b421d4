package web

import (
	"strconv"
	"strings"
	"time"
)

// The scheduler keeps mon's history lines (they are what `list
// alerthist` sends and what the historicfile holds); the API and the
// console read them as objects.

// alertEntry is one line of the alert history:
// "TYPE GROUP SERVICE TIME PROGRAM (ARGS) SUMMARY".
type alertEntry struct {
	Type    string    `json:"type"` // alert, upalert, ...
	Group   string    `json:"group"`
	Service string    `json:"service"`
	Time    time.Time `json:"time"`
	Alert   string    `json:"alert"` // the program
	Args    string    `json:"args"`
	Summary string    `json:"summary"`
}

// failureEntry is one line of the failure history:
// "GROUP SERVICE TIME SUMMARY".
type failureEntry struct {
	Group   string    `json:"group"`
	Service string    `json:"service"`
	Time    time.Time `json:"time"`
	Summary string    `json:"summary"`
}

func parseAlertLine(l string) (alertEntry, bool) {
	f := strings.SplitN(l, " ", 6)
	if len(f) < 5 {
		return alertEntry{}, false
	}
	t, ok := epoch(f[3])
	if !ok {
		return alertEntry{}, false
	}
	e := alertEntry{Type: f[0], Group: f[1], Service: f[2], Time: t, Alert: f[4]}
	if len(f) == 6 {
		// The arguments are in parentheses; a summary may hold ") " too,
		// arguments seldom do, so the first one ends them.
		rest := f[5]
		if strings.HasPrefix(rest, "(") {
			if i := strings.Index(rest, ") "); i >= 0 {
				e.Args, e.Summary = rest[1:i], rest[i+2:]
			} else {
				e.Args = strings.TrimSuffix(rest[1:], ")")
			}
		} else {
			e.Summary = rest
		}
	}
	return e, true
}

func parseFailureLine(l string) (failureEntry, bool) {
	f := strings.SplitN(l, " ", 4)
	if len(f) < 3 {
		return failureEntry{}, false
	}
	t, ok := epoch(f[2])
	if !ok {
		return failureEntry{}, false
	}
	e := failureEntry{Group: f[0], Service: f[1], Time: t}
	if len(f) == 4 {
		e.Summary = f[3]
	}
	return e, true
}

func epoch(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// histories returns the alert and failure histories, newest first,
// of one service or (group "") of all.
func histories(src Source, group, service string) ([]alertEntry, []failureEntry) {
	alerts, failures := []alertEntry{}, []failureEntry{}
	lines := src.AlertHistory()
	for i := len(lines) - 1; i >= 0; i-- {
		if e, ok := parseAlertLine(lines[i]); ok && (group == "" || e.Group == group && e.Service == service) {
			alerts = append(alerts, e)
		}
	}
	lines = src.FailureHistory()
	for i := len(lines) - 1; i >= 0; i-- {
		if e, ok := parseFailureLine(lines[i]); ok && (group == "" || e.Group == group && e.Service == service) {
			failures = append(failures, e)
		}
	}
	return alerts, failures
}
