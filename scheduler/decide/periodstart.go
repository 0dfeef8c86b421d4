package decide

import (
	"github.com/gomon/gomon/internal/config"
)

// PeriodOpened is the catch-up of alert_on_period_start. opened lists
// the periods whose time window has just opened (every period, when the
// service's exclude_period has just ended). In each of them that has
// alert_on_period_start, a service still failing gets the down alert
// its failure has not had in that period, instead of waiting for the
// next failure transition as mon does.
func PeriodOpened(svc *config.Service, st *State, opened []int, w World) Decision {
	c := newDecider(svc, st, w)
	set := map[int]bool{}
	for _, i := range opened {
		if i >= 0 && i < len(svc.Periods) && svc.Periods[i].AlertOnPeriodStart {
			set[i] = true
		}
	}
	if len(set) == 0 {
		return c.d
	}
	if !st.OpStatus.IsFailure() {
		for i := range set {
			c.trace(svc.Periods[i].Key, false, "period_start", "period opened; the service is %s, nothing to catch up", st.OpStatus)
		}
		return c.d
	}
	if svc.TracksHosts() && len(st.Hosts) > 0 {
		c.hosts = &hostEvent{known: true, down: st.FailingHosts(w.Hosts)}
	}
	exit := st.ExitVal
	c.doAlert(alertCall{typ: FailureAlert, output: st.FailureOutput(), retval: &exit, opened: set})
	return c.d
}

// catchUpHeld decides a catch-up alert in its period: none when the
// failure was already alerted there, and alertexitrange and alertafter
// as the failure stands now (without moving their counters).
func (c *decider) catchUpHeld(p *config.Period, sub subject, a alertCall) bool {
	key, who := p.Key, sub.who()
	if sub.ps.AlertSent > 0 {
		c.trace(key, false, "period_start", "%snot sent: this failure was already alerted in this period", who)
		return true
	}
	if c.exitRangeHeld(p, sub, a) {
		return true
	}
	if n := p.AlertAfterCount; n > 0 && sub.consec < n {
		c.trace(key, false, "period_start", "%snot sent: %d of %d consecutive failures (alertafter)", who, sub.consec, n)
		return true
	}
	if t := seconds(p.AlertAfterTime); p.AlertAfterCount == 0 && t > 0 && c.now-sub.first <= t {
		c.trace(key, false, "period_start", "%snot sent: failing for %s, alertafter %s not yet exceeded", who, secs(c.now-sub.first), p.AlertAfterTime)
		return true
	}
	c.trace(key, false, "period_start", "%speriod opened while failing since %s; sending the alert this period has not had",
		who, c.clock(sub.first))
	return false
}
