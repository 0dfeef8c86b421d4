package web

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// The page of one service: its state, last output, the decision trace as
// steps, its alert and failure history, the day's timeline and the
// actions the logged-in user may take.

type serviceData struct {
	base
	S        svcView
	Trace    []decision // newest first
	Alerts   []alertEntry
	Failures []failureEntry
	Timeline timelineView
	Can      map[string]bool // ack, disable, enable, test
}

var servicePage = page("service.html")

// findService returns the status of group/service.
func findService(src Source, group, service string) (scheduler.Status, error) {
	all := src.StatusAll()
	if i := slices.IndexFunc(all, func(s scheduler.Status) bool { return s.Group == group && s.Service == service }); i >= 0 {
		return all[i], nil
	}
	if !slices.ContainsFunc(all, func(s scheduler.Status) bool { return s.Group == group }) {
		return scheduler.Status{}, scheduler.ErrUnknownGroup
	}
	return scheduler.Status{}, scheduler.ErrUnknownService
}

func (c *console) service(w http.ResponseWriter, r *http.Request) {
	g, s := r.URL.Query().Get("group"), r.URL.Query().Get("service")
	st, err := findService(c.src, g, s)
	if err != nil {
		b := c.base(w, r, "not found — gomon")
		b.Error = g + "/" + s + ": " + err.Error()
		render(w, servicePage, http.StatusNotFound, serviceData{base: b})
		return
	}
	d := serviceData{base: c.base(w, r, g+"/"+s+" — gomon"), S: newWorld(c.src).view(st), Can: map[string]bool{}}
	d.Trace = decisionsOf(c.src, g, s)
	slices.Reverse(d.Trace)
	d.Alerts, d.Failures = histories(c.src, g, s)
	h, _ := c.src.StateHistory(g, s)
	d.Timeline = timelineOf(h, d.Now)
	if c.op != nil {
		for _, a := range []string{"ack", "disable", "enable", "test"} {
			d.Can[a] = c.op.Allowed(d.User, a)
		}
	}
	render(w, servicePage, http.StatusOK, d)
}

// decision is one step of the decision trace in the API and the console.
type decision struct {
	Time   time.Time `json:"time"`
	Period string    `json:"period,omitempty"`
	Sent   bool      `json:"sent"`
	Rule   string    `json:"rule"`
	Msg    string    `json:"msg"`
}

// decisionsOf returns a service's decision trace, oldest first (nil for
// an unknown service).
func decisionsOf(src Source, group, service string) []decision {
	tr, _ := src.Trace(group, service)
	out := make([]decision, len(tr))
	for i, t := range tr {
		out[i] = decisionOf(t)
	}
	return out
}

func decisionOf(t decide.Trace) decision {
	return decision{Time: t.Time.UTC(), Period: t.Period, Sent: t.Sent, Rule: t.Rule, Msg: t.Msg}
}

// isNotFound reports an unknown group or service.
func isNotFound(err error) bool {
	return errors.Is(err, scheduler.ErrUnknownGroup) || errors.Is(err, scheduler.ErrUnknownService)
}
