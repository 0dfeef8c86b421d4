package decide

import (
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// Golden upalert_recovery: F F S, each failure alerts (no alertevery),
// then one upalert fed the output of the last failing run.
func TestFailureAndUpalert(t *testing.T) {
	svc := newService(newPeriod(t, "wd {Sun-Sat}"))
	st := NewState(svc)
	out := "web down on www1 www2\nconnection refused\n"
	ds := run(t, svc, st, []ev{
		fail(0, out, down),
		fail(1, out, down),
		ok(2, "web ok\n", up),
		ok(3, "web ok\n"),
	})

	first := ds[0].Actions[0]
	if first.Input != out || first.Retval == nil || *first.Retval != 1 || !first.Record || first.Type != FailureAlert {
		t.Errorf("first alert: %+v", first)
	}
	wantEnv := Env{OpStatus: Fail, LastSummary: "web down on www1 www2", HasLastSummary: true,
		LastFailure: base.Unix(), FirstFailure: base.Unix(), HasFirstFailure: true}
	if first.Env != wantEnv {
		t.Errorf("first alert env\n got %+v\nwant %+v", first.Env, wantEnv)
	}
	if second := ds[1].Actions[0].Env; !second.HasLastOutput || second.LastOutput != out || second.LastFailure != base.Unix()+1 {
		t.Errorf("second alert env: %+v", second)
	}

	upA := ds[2].Actions[0]
	if upA.Input != out || upA.Retval == nil || *upA.Retval != 0 || upA.Type != UpAlert {
		t.Errorf("upalert: %+v", upA)
	}
	wantUp := Env{OpStatus: OK, LastSummary: "web down on www1 www2", HasLastSummary: true,
		LastOutput: out, HasLastOutput: true, LastFailure: base.Unix() + 1,
		FirstFailure: base.Unix(), HasFirstFailure: true}
	if upA.Env != wantUp {
		t.Errorf("upalert env\n got %+v\nwant %+v", upA.Env, wantUp)
	}
	if !ds[0].Failure || ds[0].Recovered || ds[2].Failure || !ds[2].Recovered || ds[3].Recovered {
		t.Errorf("Failure/Recovered flags: %v/%v %v/%v %v", ds[0].Failure, ds[0].Recovered,
			ds[2].Failure, ds[2].Recovered, ds[3].Recovered)
	}

	if st.AlertCount != 3 || st.FailureCount != 2 || st.ConsecFailures != 0 || st.Periods[0].AlertSent != 0 {
		t.Errorf("counters: alerts %d failures %d consec %d sent %d",
			st.AlertCount, st.FailureCount, st.ConsecFailures, st.Periods[0].AlertSent)
	}
	if st.OpStatus != OK || st.LastOpStatus != OK || st.LastSummary != "web ok" || st.LastOutput != "web ok\n" ||
		st.LastSuccess != base.Unix()+3 || st.LastFailure != 0 || st.FirstFailure != 0 || st.FailureOutput() != "" {
		t.Errorf("state after recovery: %+v", st)
	}
}

func TestFailureState(t *testing.T) {
	svc := newService(newPeriod(t, "p"))
	st := NewState(svc)
	run(t, svc, st, []ev{fail(5, "a\nb\nc", down), fail(7, "x\ny", down)})
	if st.OpStatus != Fail || st.LastOpStatus != Fail || st.ExitVal != 1 || !st.HasExitVal ||
		st.LastSummary != "x" || st.LastDetail != "y" || st.LastOutput != "x\ny" || st.FailureOutput() != "x\ny" ||
		st.FirstFailure != base.Unix()+5 || st.LastFailure != base.Unix()+7 || st.ConsecFailures != 2 ||
		st.Periods[0].AlertSent != 2 || st.Periods[0].LastAlert != base.Unix()+7 {
		t.Errorf("state: %+v", st)
	}
}

// _first_failure is only set when the failure follows OK, UNKNOWN or
// UNTESTED: after a status set to LINKDOWN the older value stays.
func TestFirstFailureOnlyFromUp(t *testing.T) {
	for _, tc := range []struct {
		from Status
		want int64
	}{
		{OK, 100}, {Unknown, 100}, {Untested, 100},
		{LinkDown, 7}, {Timeout, 7}, {ColdStart, 7}, {Fail, 7},
	} {
		svc := newService(newPeriod(t, "p"))
		st := NewState(svc)
		st.OpStatus, st.FirstFailure, st.HasFirstFailure = tc.from, base.Unix()+7, true
		Process(svc, st, Result{Exit: 1, Output: "x"}, world(100))
		if got := st.FirstFailure - base.Unix(); got != tc.want {
			t.Errorf("from %d: first failure %d, want %d", tc.from, got, tc.want)
		}
	}
}

func TestNoSummary(t *testing.T) {
	svc := newService(newPeriod(t, "p"))
	st := NewState(svc)
	d := Process(svc, st, Result{Exit: 2, Output: " \t\ndetail"}, world(0))
	if st.LastSummary != "(NO SUMMARY)" || st.LastDetail != "detail" || d.Actions[0].Env.LastSummary != "(NO SUMMARY)" {
		t.Errorf("failure: summary %q detail %q", st.LastSummary, st.LastDetail)
	}
	Process(svc, st, Result{Exit: 0, Output: ""}, world(1))
	if st.LastSummary != "" {
		t.Errorf("success: summary %q, want empty (no substitution)", st.LastSummary)
	}
}

// An upalert is only sent by periods that sent a down alert.
func TestUpalertPairing(t *testing.T) {
	svc := newService(
		newPeriod(t, "alerts"),
		newPeriod(t, "late", func(p *config.Period) { p.AlertAfterCount = 3 }),
	)
	st := NewState(svc)
	ds := run(t, svc, st, []ev{
		fail(0, "x", down),
		ok(1, "y", up),
		ok(2, "y"),
	})
	requireTrace(t, ds[1], "pairing", "suppressed up alert: no down alert was sent in this period")
	if tr := ds[1].Trace; tr[len(tr)-1].Period != "late" {
		t.Errorf("pairing trace period: %+v", tr)
	}
}

// No upalert lines anywhere: a recovery is traced but nothing is sent.
func TestRecoveryWithoutUpalert(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) { p.UpAlerts = nil }))
	st := NewState(svc)
	ds := run(t, svc, st, []ev{fail(0, "x", down), ok(1, "y")})
	requireTrace(t, ds[1], "upalert", "no upalert is configured")
}

func TestMissingAlertIsNotCounted(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) {
		p.Alerts = lines(t, "missing.alert a", "log.alert down")
	}))
	st := NewState(svc)
	ds := run(t, svc, st, []ev{fail(0, "x", down)})
	requireTrace(t, ds[0], "missing", "no alert found while trying to run missing.alert")
	if st.AlertCount != 1 || st.Periods[0].AlertSent != 1 {
		t.Errorf("alert count %d, sent %d", st.AlertCount, st.Periods[0].AlertSent)
	}

	svc = newService(newPeriod(t, "p", func(p *config.Period) { p.Alerts = lines(t, "missing.alert") }))
	st = NewState(svc)
	run(t, svc, st, []ev{fail(0, "x"), ok(1, "y")})
	if st.AlertCount != 0 {
		t.Errorf("alert count %d", st.AlertCount)
	}
}

func TestMultiplePeriods(t *testing.T) {
	svc := newService(
		newPeriod(t, "day", func(p *config.Period) {
			p.Spec = spec(t, "hr {9-17}")
			p.Alerts = lines(t, "day.alert")
			p.UpAlerts = lines(t, "day.alert up")
		}),
		newPeriod(t, "night", func(p *config.Period) {
			p.Spec = spec(t, "hr {0-8}")
			p.Alerts = lines(t, "night.alert")
		}),
		newPeriod(t, "all", func(p *config.Period) {
			p.AlertEvery = time.Hour
			p.Alerts = lines(t, "all.alert a", "all.alert b")
		}),
	)
	st := NewState(svc)
	ds := run(t, svc, st, []ev{
		fail(0, "x", "P0 failure day.alert", "P2 failure all.alert a", "P2 failure all.alert b"),
		// 12:01: alertevery only throttles period "all".
		fail(60, "x", "P0 failure day.alert"),
		// 20:00: no period covers it but "all".
		fail(8*3600, "x", "P2 failure all.alert a", "P2 failure all.alert b"),
		// 13:00 next day... back in "day": its upalert is paired.
		ok(25*3600, "ok", "P0 up day.alert up", "P2 up log.alert up"),
	})
	requireTrace(t, ds[0], "period", "skipped: outside period hr {0-8}")
	requireTrace(t, ds[1], "alertevery", "suppressed: alertevery 1h0m0s, last sent 1m0s ago, same summary")
	if st.AlertCount != 8 {
		t.Errorf("alert count %d", st.AlertCount)
	}
}

func TestFailureInterval(t *testing.T) {
	svc := newService(newPeriod(t, "p"))
	svc.Interval, svc.FailureInterval = time.Hour, time.Second
	st := NewState(svc)

	Process(svc, st, Result{Exit: 1, Output: "x"}, world(0))
	if st.Interval != time.Second || !st.FailureIntervalActive || !st.ResetSchedule {
		t.Fatalf("after failure: %v %v %v", st.Interval, st.FailureIntervalActive, st.ResetSchedule)
	}
	Process(svc, st, Result{Exit: 1, Output: "x"}, world(1))
	if st.Interval != time.Second || st.ResetSchedule {
		t.Fatalf("second failure: %v reset=%v", st.Interval, st.ResetSchedule)
	}
	Process(svc, st, Result{Exit: 0, Output: "ok"}, world(2))
	if st.Interval != time.Hour || st.FailureIntervalActive || !st.ResetSchedule {
		t.Fatalf("after success: %v %v %v", st.Interval, st.FailureIntervalActive, st.ResetSchedule)
	}
	Process(svc, st, Result{Exit: 0, Output: "ok"}, world(3))
	if st.ResetSchedule {
		t.Fatal("second success resets the schedule again")
	}
	// Traps do not switch to the failure interval.
	Process(svc, st, Result{Kind: Trap, Exit: 1, Output: "x"}, world(4))
	if st.Interval != time.Hour || st.ResetSchedule {
		t.Fatalf("after trap: %v reset=%v", st.Interval, st.ResetSchedule)
	}
}

func TestTraps(t *testing.T) {
	svc := newService(newPeriod(t, "p"))
	st := NewState(svc)
	st.SetIntended("nosuch:thing")
	out := "stray trap\n\nfrom elsewhere"
	ds := run(t, svc, st, []ev{
		{at: 0, kind: Trap, exit: 3, out: out, want: []string{"P0 trap log.alert down"}},
		{at: 1, kind: Trap, exit: 0, out: "stray ok\n\n", want: []string{up}},
		{at: 2, kind: TrapTimeout, exit: 1, out: "trap timeout\ntrap timeout after 4s at X\n",
			want: []string{"P0 traptimeout log.alert down"}},
	})
	a := ds[0].Actions[0]
	if a.Type != TrapAlert || *a.Retval != 3 || a.Input != out || a.Env.Intended != "nosuch:thing" {
		t.Errorf("trap alert: %+v", a)
	}
	if ds[1].Actions[0].Input != out {
		t.Errorf("trap upalert input %q", ds[1].Actions[0].Input)
	}
	if ds[2].Actions[0].Type != TrapTimeoutAlert {
		t.Errorf("traptimeout type %q", ds[2].Actions[0].Type)
	}
	if st.LastDetail != "trap timeout after 4s at X\n" {
		t.Errorf("detail %q", st.LastDetail)
	}
}

func BenchmarkProcess(b *testing.B) {
	svc := newService(
		newPeriod(b, "a", func(p *config.Period) { p.AlertEvery = time.Hour }),
		newPeriod(b, "b", func(p *config.Period) { p.AlertAfterCount = 2; p.AlertAfterTime = time.Hour }),
		newPeriod(b, "c", func(p *config.Period) {
			p.NumAlerts = 100
			p.Alerts = lines(b, "exit=1 log.alert one", "exit=2-9 log.alert more", "mail.alert ops@example.com")
		}),
	)
	st := NewState(svc)
	w := world(0)
	res := Result{Exit: 1, Output: "web down on www1 www2\nconnection refused\n"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		w.Now = base.Add(time.Duration(i) * time.Second)
		st.Periods[2].AlertSent = 0
		Process(svc, st, res, w)
	}
}

// The trace explains, period by period, why an event did or did not page.
func TestTraceExplainsEveryPeriod(t *testing.T) {
	svc := newService(
		newPeriod(t, "night", func(p *config.Period) { p.Spec = spec(t, "hr {0-8}") }),
		newPeriod(t, "ops", func(p *config.Period) { p.AlertEvery = time.Hour }),
		newPeriod(t, "mgmt", func(p *config.Period) { p.AlertAfterCount = 3 }),
		newPeriod(t, "pager", func(p *config.Period) {
			p.Alerts = lines(t, "exit=2 pager.alert", "mail.alert ops@example.com")
		}),
	)
	st := NewState(svc)
	Process(svc, st, Result{Exit: 1, Output: "db down\n"}, world(0))
	d := Process(svc, st, Result{Exit: 1, Output: "db down\n"}, world(720))
	want := []Trace{
		{Period: "night", Rule: "period", Msg: "skipped: outside period hr {0-8}"},
		{Period: "ops", Rule: "alertevery", Msg: "suppressed: alertevery 1h0m0s, last sent 12m0s ago, same summary"},
		{Period: "mgmt", Rule: "alertafter", Msg: "suppressed: 2 of 3 consecutive failures"},
		{Period: "pager", Rule: "exit", Msg: "skipped pager.alert: exit 1 not in exit=2"},
		{Period: "pager", Rule: "sent", Sent: true, Msg: "sent failure alert mail.alert ops@example.com"},
	}
	if len(d.Trace) != len(want) {
		t.Fatalf("trace:\n%s", traceText(d))
	}
	for i, tr := range d.Trace {
		want[i].Time = base.Add(720 * time.Second)
		if tr != want[i] {
			t.Errorf("trace %d:\n got %+v\nwant %+v", i, tr, want[i])
		}
	}
}
