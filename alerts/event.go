package alerts

import (
	"strings"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// Getenv returns the value of key in the event's environment (the last
// assignment wins, as in a process environment).
func (e Event) Getenv(key string) (string, bool) {
	for i := len(e.Env) - 1; i >= 0; i-- {
		k, v, ok := strings.Cut(e.Env[i], "=")
		if ok && k == key {
			return v, true
		}
	}
	return "", false
}

// SplitInput returns the first line of the input without its newline and
// everything after it, verbatim: what the bundled scripts get from
// "$summary = <STDIN>; chomp $summary" and the rest of STDIN.
func (e Event) SplitInput() (first string, rest []byte) {
	s := string(e.Input)
	first, after, found := strings.Cut(s, "\n")
	if !found {
		return first, nil
	}
	return first, []byte(after)
}

// IsUpalert reports whether mon would pass -u for this event.
func (e Event) IsUpalert() bool {
	if e.Flag != nil {
		return *e.Flag == "-u"
	}
	return e.Type == decide.UpAlert
}

// shortTime is "WDAY MON DAY HH:MM:SS", the first four words of Perl's
// scalar localtime, as the scripts put it in subjects and records.
func shortTime(t time.Time) string { return t.Local().Format("Mon Jan 2 15:04:05") }

// ctime is Perl's scalar localtime: "Thu Sep  9 01:46:40 2021".
func ctime(t time.Time) string { return t.Local().Format("Mon Jan _2 15:04:05 2006") }
