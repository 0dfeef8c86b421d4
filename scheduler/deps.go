package scheduler

import (
	"fmt"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/depend"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/scheduler/decide"
)

// dependFor returns the expression that gates kind 'a' (alerts) or 'm'
// (monitor runs): `depend` when dep_behavior selects that kind, else
// alertdepend / monitordepend.
func (svc *service) dependFor(kind byte) *depend.Expr {
	c := svc.cfg
	if c.Depend != nil && string(c.DepBehavior) == string(kind) {
		return c.Depend
	}
	if kind == 'a' {
		return c.AlertDepend
	}
	return c.MonitorDepend
}

func (svc *service) monitorDepend() *depend.Expr { return svc.dependFor('m') }

// evalDepend evaluates a dependency expression (spec §11.1): a referenced
// service is up when its status is in the SUCCESS set, it has not failed
// within its dep_memory, and its own dependencies of the same kind are up.
// Unknown services count as down; unlike mon, no phantom entries are
// created (Q-SCH-13).
func (s *Scheduler) evalDepend(expr *depend.Expr, depth int, kind byte, now time.Time) (bool, error) {
	if depth > s.cfg.Globals.DepRecurLimit {
		return false, fmt.Errorf("recursion too deep for (%s)", expr)
	}
	ok, err := expr.Eval(func(r depend.Ref) (bool, error) {
		d := s.watchIdx.service(r.Group, r.Service)
		if d == nil {
			return false, nil
		}
		up := d.st.OpStatus.IsSuccess() && !d.failedWithin(d.cfg.DepMemory, now)
		if sub := d.dependFor(kind); sub != nil {
			r, err := s.evalDepend(sub, depth+1, kind, now)
			if err != nil {
				return false, err
			}
			up = up && r
		}
		return up, nil
	})
	if err != nil && depth == 0 {
		s.log.Warn(fmt.Sprintf("eval error for dependency starting at %s: %v", expr, err), syslog.Key, "notice")
	}
	return ok, err
}

// failedWithin reports a failure less than d ago (dep_memory, Q-SCH-14).
func (svc *service) failedWithin(d time.Duration, now time.Time) bool {
	last := svc.peek().lastFailureTime
	return d > 0 && last != 0 && now.Sub(last.Time()) < d
}

// depSummaries returns the failure summaries of the services a host
// dependency names (spec §11.3); ok is false when there is no host
// dependency or a named service does not exist (then no host is dropped).
func (s *Scheduler) depSummaries(svc *service, now time.Time) (sums []string, ok bool) {
	c := svc.cfg
	expr := c.HostDepend
	if c.Depend != nil && c.DepBehavior == config.DepHostMonitor {
		expr = c.Depend
	}
	if expr == nil {
		return nil, false
	}
	for _, r := range expr.Refs() {
		d := s.watchIdx.service(r.Group, r.Service)
		if d == nil {
			return nil, false
		}
		if d.st.OpStatus == decide.Fail || d.failedWithin(d.cfg.DepMemory, now) {
			sums = append(sums, d.st.LastSummary)
		}
	}
	return sums, true
}
