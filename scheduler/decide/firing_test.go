package decide

import (
	"testing"

	"github.com/gomon/gomon/internal/config"
)

func TestFiring(t *testing.T) {
	svc := newService(newPeriod(t, "p0"), newPeriod(t, "p1"))
	state := func(op Status, exit int, sent ...int) *State {
		st := NewState(svc)
		st.OpStatus, st.ExitVal = op, exit
		for i, n := range sent {
			st.Periods[i].AlertSent = n
		}
		return st
	}
	for _, tc := range []struct {
		name   string
		st     *State
		period int
		line   string
		want   bool
	}{
		{"failing, alerted in its period", state(Fail, 1, 1), 0, "lvs -V x", true},
		{"alerted in another period only", state(Fail, 1, 0, 1), 0, "lvs -V x", false},
		{"the other period's line", state(Fail, 1, 0, 1), 1, "lvs -V x", true},
		{"not alerted yet (alertafter, numalerts, outside the period)", state(Fail, 1, 0), 0, "lvs -V x", false},
		{"exit value in the line's range", state(Fail, 2, 1), 0, "exit=1-3 lvs -V x", true},
		{"exit value outside the line's range", state(Fail, 1, 1), 0, "exit=2 lvs -V x", false},
		{"linkdown is a failure", state(LinkDown, 1, 1), 0, "lvs -V x", true},
		{"timeout is a failure", state(Timeout, 1, 3), 0, "lvs -V x", true},
		{"ok, a stale count aside", state(OK, 0, 1), 0, "lvs -V x", false},
		{"untested", state(Untested, 0), 0, "lvs -V x", false},
		{"warn is no failure", state(Warn, 1, 1), 0, "lvs -V x", false},
		{"no such period", state(Fail, 1, 1, 1), 2, "lvs -V x", false},
		{"negative period", state(Fail, 1, 1), -1, "lvs -V x", false},
		{"state of an older revision, without the period", &State{OpStatus: Fail, ExitVal: 1}, 0, "lvs -V x", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Firing(svc, tc.st, tc.period, line(t, tc.line)); got != tc.want {
				t.Errorf("Firing = %v, want %v", got, tc.want)
			}
		})
	}
}

// Firing answers what Process did: after each event of a scenario, a line
// fires exactly when the period has alerted on the failure and the line
// selects the last exit value.
func TestFiringFollowsProcess(t *testing.T) {
	p := newPeriod(t, "p", func(p *config.Period) {
		p.AlertAfterCount = 2
		p.Alerts = lines(t, "log.alert down", "exit=3 log.alert three")
	})
	svc := newService(p)
	st := NewState(svc)
	plain, three := p.Alerts[0], p.Alerts[1]
	for i, step := range []struct {
		ev             ev
		wantAny, want3 bool
		why            string
	}{
		{fail(0, "h1"), false, false, "alertafter: the first of two failures"},
		{fail(60, "h1", down), true, false, "alerted; exit 1 is not 3"},
		{fail(120, "h1", down), true, false, "the same failure"},
		{ev{at: 180, exit: 3, out: "h1", want: []string{down, "P0 failure log.alert three"}}, true, true, "exit 3"},
		{fail(240, "h1", down), true, false, "exit 1 again"},
		{ok(300, "", up), false, false, "recovered"},
		{fail(360, "h1"), false, false, "alertafter again: a new failure"},
	} {
		run(t, svc, st, []ev{step.ev})
		if got := Firing(svc, st, 0, plain); got != step.wantAny {
			t.Errorf("event %d (%s): Firing(down) = %v, want %v", i, step.why, got, step.wantAny)
		}
		if got := Firing(svc, st, 0, three); got != step.want3 {
			t.Errorf("event %d (%s): Firing(exit=3) = %v, want %v", i, step.why, got, step.want3)
		}
	}
}
