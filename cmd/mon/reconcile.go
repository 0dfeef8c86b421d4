package main

import (
	"slices"
	"strings"

	"github.com/gomon/gomon/alerts/reconcile"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler"
)

// schedHealth shows the scheduler to the reconcilers (lvs, dnsupdate).
type schedHealth struct{ sched *scheduler.Scheduler }

var (
	_ reconcile.Health     = (*schedHealth)(nil)
	_ reconcile.Configured = (*schedHealth)(nil)
)

// Config is the running configuration: a pass reads Services only when
// its kind has lines there.
func (h *schedHealth) Config() *config.Config { return h.sched.Config() }

// Services reads every service's configuration, state and hosts.
func (h *schedHealth) Services() []reconcile.Service {
	disabledWatches := h.sched.DisabledList().Watches
	all := h.sched.StatusAll()
	out := make([]reconcile.Service, 0, len(all))
	for _, st := range all {
		s := reconcile.Service{
			Group:    st.Group,
			Name:     st.Service,
			Config:   st.Config,
			State:    st.State,
			Disabled: st.State.Disabled || slices.Contains(disabledWatches, st.Group),
		}
		members, _ := h.sched.GroupMembers(st.Group)
		for _, m := range members {
			if host, disabled := strings.CutPrefix(m, "*"); disabled || slices.Contains(st.Config.ExcludeHosts, m) {
				s.Unchecked = append(s.Unchecked, host)
			} else {
				s.Members = append(s.Members, m)
			}
		}
		out = append(out, s)
	}
	return out
}

// reconciler is what the daemon tells each reconciler.
type reconciler interface {
	Loaded()
	Result(group, service string)
}

// observeReconcilers passes the scheduler's events on to the
// reconcilers: a pass follows every load (start, reset, reload), every
// result, and every state imported from another cluster node.
func observeReconcilers(rs []reconciler, e scheduler.Event) {
	for _, r := range rs {
		switch e.Kind {
		case "load":
			r.Loaded()
		case "monitor-done", "trap", "import":
			r.Result(e.Group, e.Service)
		}
	}
}
