package web

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// The console shows every service in one of these states, each drawn
// differently: an acked failure is not the red of an unacked one, and a
// disabled service is not a green "ok".
const (
	kindFailing    = "failing"
	kindAcked      = "acked"      // failing, acknowledged
	kindWarn       = "warn"       // coldstart, warmstart, unknown, warn
	kindSuppressed = "suppressed" // a dependency is down
	kindUntested   = "untested"
	kindDisabled   = "disabled" // the service or its watch
	kindOK         = "ok"
)

// kinds in the order the console sorts and counts them, with their labels.
var kinds = []struct{ Kind, Label string }{
	{kindFailing, "failing"}, {kindAcked, "acknowledged"}, {kindWarn, "warning"},
	{kindSuppressed, "dependency down"}, {kindUntested, "untested"}, {kindDisabled, "disabled"}, {kindOK, "ok"},
}

func kindRank(k string) int {
	return slices.IndexFunc(kinds, func(x struct{ Kind, Label string }) bool { return x.Kind == k })
}

func kindLabel(k string) string { return kinds[kindRank(k)].Label }

// kindOf is the console state of a service: disabled first (nothing is
// alerted), then the failure and whether it is acknowledged.
func kindOf(s decide.Status, acked, disabled bool) string {
	switch {
	case disabled:
		return kindDisabled
	case s.IsFailure() && acked:
		return kindAcked
	case s.IsFailure():
		return kindFailing
	case s == decide.Depend:
		return kindSuppressed
	case s == decide.Untested:
		return kindUntested
	case s.IsWarning():
		return kindWarn
	}
	return kindOK
}

// svcView is one service as the console shows it.
type svcView struct {
	Group, Service, Description string
	Kind, Status                string
	Hosts                       []hostView
	DownSince                   time.Time // zero unless failing
	LastCheck                   time.Time
	Running, Overdue            bool
	Summary, Detail             string
	AckComment                  string
	AckTime                     time.Time
	Disabled                    *scheduler.DisableNote // who, when, why; nil if unknown
	WatchDisabled               bool
	AlertFailure                string
	Interval                    time.Duration
	st                          scheduler.Status
}

type hostView struct {
	Name              string
	Failing, Disabled bool
}

func (v svcView) Label() string { return kindLabel(v.Kind) }
func (v svcView) Name() string  { return v.Group + "/" + v.Service }

// world is what a service's view needs beyond its own status.
type world struct {
	src      Source
	disabled map[string]bool // disabled watches
}

func newWorld(src Source) world {
	w := world{src: src, disabled: map[string]bool{}}
	for _, g := range src.DisabledList().Watches {
		w.disabled[g] = true
	}
	return w
}

func (w world) view(st scheduler.Status) svcView {
	s := st.State
	v := svcView{
		Group: st.Group, Service: st.Service, Description: st.Description,
		Status: s.OpStatus.String(), LastCheck: st.LastCheck, Running: st.Running, Overdue: st.Overdue,
		Summary: s.LastSummary, Detail: s.LastDetail, AckComment: s.AckComment,
		Disabled: st.DisabledBy, WatchDisabled: w.disabled[st.Group], Interval: s.Interval, st: st,
	}
	v.Kind = kindOf(s.OpStatus, s.Ack != 0, s.Disabled || v.WatchDisabled)
	if s.Ack != 0 {
		v.AckTime = time.Unix(s.Ack, 0)
	}
	if s.OpStatus.IsFailure() && s.FirstFailure > 0 {
		v.DownSince = time.Unix(s.FirstFailure, 0)
	}
	if f := st.AlertFailure; f != nil {
		state := "retrying"
		if f.Final {
			state = "gave up"
		}
		v.AlertFailure = fmt.Sprintf("%s alert %s failed %d× (%s): %s", f.Type, f.Alert, f.Attempts, state, f.Err)
	}
	// mon's monitors name the failing hosts in the summary; mon.cgi
	// marks them the same way.
	failed := map[string]bool{}
	if s.OpStatus.IsFailure() {
		for _, f := range strings.Fields(s.LastSummary) {
			failed[f] = true
		}
	}
	hosts, _ := w.src.GroupMembers(st.Group)
	for _, h := range hosts {
		hv := hostView{Name: strings.TrimPrefix(h, "*"), Disabled: strings.HasPrefix(h, "*")}
		hv.Failing = failed[hv.Name]
		v.Hosts = append(v.Hosts, hv)
	}
	return v
}

// humanDuration is a duration as an operator reads it: "3d 4h", "2h 5m",
// "12 min", "40 s".
func humanDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}
