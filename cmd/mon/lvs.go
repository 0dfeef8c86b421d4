package main

import (
	"slices"
	"strings"

	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/scheduler"
)

// lvsHealth shows the scheduler to the lvs reconciler.
type lvsHealth struct{ sched *scheduler.Scheduler }

var _ lvs.Health = (*lvsHealth)(nil)

// Services reads every service's configuration, state and hosts.
func (h *lvsHealth) Services() []lvs.Service {
	disabledWatches := h.sched.DisabledList().Watches
	all := h.sched.StatusAll()
	out := make([]lvs.Service, 0, len(all))
	for _, st := range all {
		s := lvs.Service{
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

// observeLVS passes the scheduler's events on to the reconciler: a pass
// follows every load (start, reset, reload), every result, and every
// state imported from another cluster node.
func observeLVS(r *lvs.Reconciler, e scheduler.Event) {
	switch e.Kind {
	case "load":
		r.Loaded()
	case "monitor-done", "trap", "import":
		r.Result(e.Group, e.Service)
	}
}
