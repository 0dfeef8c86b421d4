package web

import (
	"net/http"
	"time"
)

// The JSON endpoints that read one service or the histories; every one
// is documented with an example in docs/api.md.

func registerAPI(mux *http.ServeMux, src Source) {
	mux.HandleFunc("GET /api/history", func(w http.ResponseWriter, r *http.Request) {
		g, s := r.URL.Query().Get("group"), r.URL.Query().Get("service")
		if (g == "") != (s == "") {
			writeJSON(w, http.StatusBadRequest, apiError{"give both group and service, or neither"})
			return
		}
		if g != "" {
			if _, err := findService(src, g, s); err != nil {
				writeJSON(w, http.StatusNotFound, apiError{err.Error()})
				return
			}
		}
		var h historyDoc
		h.Alerts, h.Failures = histories(src, g, s)
		writeJSON(w, http.StatusOK, h)
	})
	mux.HandleFunc("GET /api/downtimes", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, downtimesOf(src))
	})
	mux.HandleFunc("GET /api/decisions", func(w http.ResponseWriter, r *http.Request) {
		g, s, ok := serviceParams(w, r, src)
		if ok {
			writeJSON(w, http.StatusOK, decisionsOf(src, g, s))
		}
	})
	mux.HandleFunc("GET /api/service", func(w http.ResponseWriter, r *http.Request) {
		g, s, ok := serviceParams(w, r, src)
		if !ok {
			return
		}
		st, _ := findService(src, g, s)
		d := serviceDoc{Service: newWorld(src).serviceOf(st), Decisions: decisionsOf(src, g, s), Timeline: []stateChange{}}
		d.Alerts, d.Failures = histories(src, g, s)
		h, _ := src.StateHistory(g, s)
		for _, c := range h {
			d.Timeline = append(d.Timeline, stateChange{Time: c.Time.UTC(), Status: c.Status.String(),
				State: kindOf(c.Status, c.Acked, c.Disabled), Acked: c.Acked, Disabled: c.Disabled})
		}
		writeJSON(w, http.StatusOK, d)
	})
}

// serviceParams reads ?group=G&service=S of a known service, answering
// 400 or 404 itself when they are missing or unknown.
func serviceParams(w http.ResponseWriter, r *http.Request, src Source) (string, string, bool) {
	g, s := r.URL.Query().Get("group"), r.URL.Query().Get("service")
	if g == "" || s == "" {
		writeJSON(w, http.StatusBadRequest, apiError{"group and service are required"})
		return "", "", false
	}
	if _, err := findService(src, g, s); err != nil {
		code := http.StatusInternalServerError
		if isNotFound(err) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, apiError{err.Error()})
		return "", "", false
	}
	return g, s, true
}

// historyDoc is /api/history: newest first.
type historyDoc struct {
	Alerts   []alertEntry   `json:"alerts"`
	Failures []failureEntry `json:"failures"`
}

// serviceDoc is /api/service.
type serviceDoc struct {
	Service   service        `json:"service"`
	Decisions []decision     `json:"decisions"` // oldest first
	Alerts    []alertEntry   `json:"alerts"`    // newest first
	Failures  []failureEntry `json:"failures"`  // newest first
	Timeline  []stateChange  `json:"timeline"`  // oldest first
}

// stateChange is one entry of a service's state history.
type stateChange struct {
	Time     time.Time `json:"time"`
	Status   string    `json:"status"` // the opstatus
	State    string    `json:"state"`  // the console's state
	Acked    bool      `json:"acked"`
	Disabled bool      `json:"disabled"`
}
