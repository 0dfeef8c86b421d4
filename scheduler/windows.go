package scheduler

import (
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/period"
	"github.com/gomon/gomon/scheduler/decide"
)

// windows is what a service with alert_on_period_start remembers of its
// time windows from one change to the next: which periods were open, and
// whether its exclude_period held it.
type windows struct {
	open     []bool
	excluded bool
}

// watchesWindows reports whether any period of c catches up its alert
// when it opens; only such services get a window timer.
func watchesWindows(c *config.Service) bool {
	for _, p := range c.Periods {
		if p.AlertOnPeriodStart {
			return true
		}
	}
	return false
}

func windowsAt(c *config.Service, now time.Time) *windows {
	w := &windows{open: make([]bool, len(c.Periods))}
	for i, p := range c.Periods {
		w.open[i] = p.Spec.In(now)
	}
	w.excluded = c.ExcludePeriod != nil && c.ExcludePeriod.In(now)
	return w
}

// nextWindowChange is the next time one of the windows that matter to c
// may open or close (zero: never).
func nextWindowChange(c *config.Service, now time.Time) time.Time {
	var next time.Time
	consider := func(sp period.Spec) {
		if n := sp.NextChange(now); !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	for _, p := range c.Periods {
		if p.AlertOnPeriodStart {
			consider(p.Spec)
		}
	}
	if c.ExcludePeriod != nil {
		consider(*c.ExcludePeriod)
	}
	return next
}

// armWindows records the service's windows at now and sets the timer for
// their next change. Called with s.mu held.
func (s *Scheduler) armWindows(svc *service, now time.Time) {
	if !watchesWindows(svc.cfg) {
		return
	}
	svc.more().windows = windowsAt(svc.cfg, now)
	s.arm(svc, tWindow, nextWindowChange(svc.cfg, now))
}

// windowChange handles the window timer: the periods with
// alert_on_period_start that have just opened, or that are open as the
// service's exclude_period ends, get the engine's catch-up. Called with
// s.mu held.
func (s *Scheduler) windowChange(svc *service, now time.Time) {
	was := svc.peek().windows
	if was == nil {
		was = &windows{}
	}
	s.armWindows(svc, now)
	cur := svc.peek().windows
	if cur == nil || cur.excluded {
		return
	}
	var opened []int
	for i, p := range svc.cfg.Periods {
		if p.AlertOnPeriodStart && cur.open[i] && (was.excluded || i >= len(was.open) || !was.open[i]) {
			opened = append(opened, i)
		}
	}
	if len(opened) == 0 {
		return
	}
	d := decide.PeriodOpened(svc.cfg, svc.st, opened, s.world(svc, now))
	s.carryOut(svc, d, now, true)
}
