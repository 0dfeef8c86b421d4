package decide

import (
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// The catch-up of alert_on_period_start. base is Monday 12:00, so a
// period "hr {13}" opens at second 3600 of the scenarios.
func TestAlertOnPeriodStart(t *testing.T) {
	afternoon := func(opts ...func(*config.Period)) func(*config.Period) {
		return func(p *config.Period) {
			p.Spec = spec(t, "hr {13}")
			p.AlertOnPeriodStart = true
			for _, o := range opts {
				o(p)
			}
		}
	}
	runCases(t, []ruleCase{
		{name: "a failure from outside the period is alerted when it opens", period: afternoon(),
			events: []ev{fail(0, "x"), opens(3600, []int{0}, down), fail(3660, "x", down)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[0], "period", "skipped: outside period hr {13}")
				requireTrace(t, ds[1], "period_start", "period opened while failing since 2026-05-04 12:00:00; sending the alert this period has not had")
				if a := ds[1].Actions[0]; a.Input != "x" || *a.Retval != 1 || !a.Record {
					t.Errorf("catch-up alert: input %q retval %d", a.Input, *a.Retval)
				}
			}},
		{name: "mon's behaviour without the keyword: wait for the next failure", period: func(p *config.Period) {
			afternoon()(p)
			p.AlertOnPeriodStart = false
		},
			events: []ev{fail(0, "x"), opens(3600, []int{0}), fail(3660, "x", down)}},
		{name: "a failure already alerted in the period is not alerted again", period: afternoon(),
			events: []ev{fail(3600, "x", down), opens(86400+3600, []int{0})}, // the next day
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "period_start", "not sent: this failure was already alerted in this period")
			}},
		{name: "a recovered service has nothing to catch up", period: afternoon(),
			events: []ev{fail(0, "x"), ok(60, "y"), opens(3600, []int{0})},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "period_start", "period opened; the service is ok, nothing to catch up")
			}},
		{name: "alertafter N: held until the failure has N consecutive failures",
			period: afternoon(func(p *config.Period) { p.AlertAfterCount = 3 }),
			events: []ev{fail(0, "x"), fail(60, "x"), opens(3600, []int{0}), fail(3660, "x", down)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "period_start", "not sent: 2 of 3 consecutive failures (alertafter)")
			}},
		{name: "alertafter N: sent when the failure has them", period: afternoon(func(p *config.Period) { p.AlertAfterCount = 2 }),
			events: []ev{fail(0, "x"), fail(60, "x"), opens(3600, []int{0}, down)}},
		{name: "alertafter TIME counts from the first failure",
			period: afternoon(func(p *config.Period) { p.AlertAfterTime = 2 * time.Hour }),
			events: []ev{fail(0, "x"), opens(3600, []int{0})},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "period_start", "not sent: failing for 1h0m0s, alertafter 2h0m0s not yet exceeded")
			}},
		{name: "only the periods that opened", period: afternoon(),
			events: []ev{fail(0, "x"), opens(3600, []int{1})}},
		{name: "acknowledged: no catch-up", period: afternoon(),
			events: []ev{fail(0, "x")},
			check: func(t *testing.T, st *State, _ []Decision) {
				svc := newService(newPeriod(t, "p", afternoon()))
				Acknowledge(svc, st, "op", "known", world(10))
				if d := PeriodOpened(svc, st, []int{0}, world(3600)); len(d.Actions) != 0 {
					t.Errorf("catch-up of an acknowledged failure: %q", acts(d))
				}
			}},
		{name: "per host: one catch-up per failing host", period: afternoon(perHost()),
			events: []ev{fail(0, "h1 h2"), opens(3600, []int{0}, downH1, downH2), fail(3660, "h1", upH2, downH1)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				if a := ds[1].Actions[1]; a.Input != "h2\n" || a.Env.Host != "h2" {
					t.Errorf("h2's catch-up: input %q host %q", a.Input, a.Env.Host)
				}
			}},
	})
}

// TestCatchUpWhileFlapping: a flapping service's failure alerts are held,
// the catch-up too.
func TestCatchUpWhileFlapping(t *testing.T) {
	p := newPeriod(t, "p")
	p.AlertOnPeriodStart = true
	svc := newService(p)
	flapping(3, 10, 60)(svc)
	st := NewState(svc)
	run(t, svc, st, []ev{fail(0, "x", down), ok(60, "", up), fail(120, "x", "P0 flapping log.alert down")})
	st.Periods[0].AlertSent = 0 // as if the period had just opened
	d := PeriodOpened(svc, st, []int{0}, world(180))
	if len(d.Actions) != 0 {
		t.Errorf("catch-up while flapping: %q", acts(d))
	}
	requireTrace(t, d, "flapping", "held failure alert: the service is flapping")
}
