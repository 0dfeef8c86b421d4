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
	AckUntil                    time.Time              // a timed ack's end; zero: until the service recovers
	Disabled                    *scheduler.DisableNote // who, when, why; nil if unknown
	DisabledUntil               time.Time              // a timed disable's end; zero: until enabled
	WatchDisabled               bool
	WatchHold                   *scheduler.Downtime // the watch's downtime, if it has one
	// FailingHosts are the per-host verdicts (host_verdicts,
	// alert_per_host), in the group's order.
	FailingHosts []failingHost
	// FlapPercent is nil unless the service has flap_detection.
	FlapPercent  *float64
	Flapping     bool
	AlertFailure string
	Interval     time.Duration
	st           scheduler.Status
}

type hostView struct {
	Name              string
	Failing, Disabled bool
}

func (v svcView) Label() string { return kindLabel(v.Kind) }
func (v svcView) Name() string  { return v.Group + "/" + v.Service }

// world is what a service's view needs beyond its own status.
type world struct {
	src       Source
	disabled  map[string]bool // disabled watches
	downtimes []scheduler.Downtime
}

func newWorld(src Source) world {
	w := world{src: src, disabled: map[string]bool{}, downtimes: src.Downtimes()}
	for _, g := range src.DisabledList().Watches {
		w.disabled[g] = true
	}
	return w
}

// downtime returns the downtime of this kind in force for group (and
// service), or nil.
func (w world) downtime(kind, group, service string) *scheduler.Downtime {
	for i, d := range w.downtimes {
		if d.Kind == kind && d.Group == group && d.Service == service {
			return &w.downtimes[i]
		}
	}
	return nil
}

// flapOf is a service's flap state: ok is false without flap_detection,
// where the percentage means nothing.
func flapOf(st scheduler.Status) (percent float64, flapping, ok bool) {
	if st.Config == nil || st.Config.Flap == nil {
		return 0, false, false
	}
	return st.State.FlapPercent(), st.State.Flapping, true
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
		if d := w.downtime(scheduler.DowntimeAck, st.Group, st.Service); d != nil {
			v.AckUntil = d.Until
		}
	}
	if d := w.downtime(scheduler.DowntimeService, st.Group, st.Service); d != nil && s.Disabled {
		v.DisabledUntil = d.Until
		if v.Disabled == nil { // disabled before this process started: the record still says who and why
			v.Disabled = &scheduler.DisableNote{By: d.Who, Reason: d.Reason, Time: d.Set}
		}
	}
	if v.WatchDisabled {
		v.WatchHold = w.downtime(scheduler.DowntimeWatch, st.Group, "")
	}
	if p, flapping, ok := flapOf(st); ok {
		v.FlapPercent, v.Flapping = &p, flapping
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
	hosts, _ := w.src.GroupMembers(st.Group)
	names := make([]string, len(hosts))
	for i, h := range hosts {
		names[i] = strings.TrimPrefix(h, "*")
	}
	for _, h := range s.FailingHosts(names) {
		hs := s.Hosts[h]
		v.FailingHosts = append(v.FailingHosts, failingHost{h, hs.FirstFailure, hs.ConsecFailures, hs.LastOutput})
	}
	// The per-host verdicts say which hosts fail when the service keeps
	// them; otherwise mon's monitors name the failing hosts in the
	// summary, and mon.cgi marks them the same way.
	failed := map[string]bool{}
	for h := range s.Hosts {
		failed[h] = true
	}
	if len(failed) == 0 && s.OpStatus.IsFailure() {
		for _, f := range strings.Fields(s.LastSummary) {
			failed[f] = true
		}
	}
	for i, h := range hosts {
		v.Hosts = append(v.Hosts, hostView{Name: names[i], Disabled: strings.HasPrefix(h, "*"), Failing: failed[names[i]]})
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
