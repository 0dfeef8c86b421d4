package decide

import (
	"testing"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/depend"
)

// Golden startupalert: one startup alert per period with startupalert
// lines, empty input, retval 0, no flag.
func TestStartup(t *testing.T) {
	svc := newService(
		newPeriod(t, "first", func(p *config.Period) { p.StartupAlerts = lines(t, "log.alert first") }),
		newPeriod(t, "second", func(p *config.Period) { p.StartupAlerts = lines(t, "log.alert second") }),
		newPeriod(t, "night", func(p *config.Period) {
			p.Spec = spec(t, "hr {0-8}")
			p.StartupAlerts = lines(t, "log.alert night")
		}),
		newPeriod(t, "none"),
	)
	st := NewState(svc)
	d := Startup(svc, st, world(0))
	if got, want := acts(d), []string{"P0 startup log.alert first", "P1 startup log.alert second"}; !equal(got, want) {
		t.Fatalf("actions %q, want %q", got, want)
	}
	a := d.Actions[0]
	if a.Input != "" || a.Retval == nil || *a.Retval != 0 || a.Type != StartupAlert || !a.Record {
		t.Errorf("startup action %+v", a)
	}
	if want := (Env{OpStatus: Untested}); a.Env != want {
		t.Errorf("env %+v", a.Env)
	}
	requireTrace(t, d, "no_lines", "no startupalert lines in this period")
	if st.AlertCount != 2 || st.Periods[0].AlertSent != 1 || st.Periods[2].AlertSent != 0 {
		t.Errorf("accounting: count %d sent %+v", st.AlertCount, st.Periods)
	}
}

// Q-SCH-8: a startup alert counts as a sent alert: it uses up numalerts
// and pairs a later upalert.
func TestStartupCountsAsSent(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) {
		p.StartupAlerts = lines(t, "log.alert start")
		p.NumAlerts = 1
	}))
	st := NewState(svc)
	if got := acts(Startup(svc, st, world(0))); !equal(got, []string{"P0 startup log.alert start"}) {
		t.Fatalf("startup: %q", got)
	}
	ds := run(t, svc, st, []ev{fail(1, "x"), ok(2, "y", up)})
	requireTrace(t, ds[0], "numalerts", "numalerts 1 reached")
}

func TestAck(t *testing.T) {
	// Golden ack: alertevery 1h, a changed summary is not alerted while
	// acked; the upalert still goes out and carries MON_ACK.
	svc := newService(newPeriod(t, "p", func(p *config.Period) { p.AlertEvery = 3600e9 }))
	st := NewState(svc)
	run(t, svc, st, []ev{fail(0, "backup failed\n", down)})
	if !CanAcknowledge(st) {
		t.Fatal("failing service cannot be acknowledged")
	}
	d := Acknowledge(svc, st, "", "tape drive offline", world(5))
	if len(d.Actions) != 0 || st.Ack != base.Unix()+5 || st.AckComment != ": tape drive offline" {
		t.Fatalf("ack: %q %d %q", acts(d), st.Ack, st.AckComment)
	}
	requireTrace(t, d, "no_lines", "no ackalert lines")
	ds := run(t, svc, st, []ev{fail(6, "backup failed differently\n"), ok(7, "backup ok\n", up)})
	requireTrace(t, ds[0], "ack", "suppressed failure alert: acknowledged at 2026-05-04 12:00:05 (: tape drive offline)")
	if env := ds[1].Actions[0].Env; env.Ack != ": tape drive offline" || env.LastSummary != "backup failed differently" {
		t.Errorf("upalert env %+v", env)
	}
	if st.Ack != 0 || st.AckComment != "" || CanAcknowledge(st) {
		t.Errorf("ack not cleared by success: %d %q", st.Ack, st.AckComment)
	}
}

// Ack alerts go to periods that sent a down alert (or no_comp_alerts),
// with the comment as input, no retval, -a; they count as sent.
func TestAckAlerts(t *testing.T) {
	withAck := func(p *config.Period) { p.AckAlerts = lines(t, "log.alert ack") }
	svc := newService(
		newPeriod(t, "alerted", withAck),
		newPeriod(t, "silent", withAck, func(p *config.Period) { p.AlertAfterCount = 5 }),
		newPeriod(t, "nocomp", withAck, func(p *config.Period) { p.AlertAfterCount = 5; p.NoCompAlerts = true }),
	)
	st := NewState(svc)
	run(t, svc, st, []ev{fail(0, "x", down)})
	for i := range 2 {
		d := Acknowledge(svc, st, "admin", "rebooting", world(int64(10+i)))
		if got, want := acts(d), []string{"P0 ack log.alert ack", "P2 ack log.alert ack"}; !equal(got, want) {
			t.Fatalf("ack %d: %q, want %q\n%s", i, got, want, traceText(d))
		}
		a := d.Actions[0]
		if a.Input != "admin: rebooting" || a.Retval != nil || a.Type != AckAlert || a.Env.Ack != "admin: rebooting" {
			t.Errorf("ack action %+v", a)
		}
		requireTrace(t, d, "pairing", "suppressed ack alert: no down alert was sent in this period")
	}
	if st.Periods[0].AlertSent != 3 || st.Periods[2].AlertSent != 2 || st.AlertCount != 5 {
		t.Errorf("accounting: count %d periods %+v", st.AlertCount, st.Periods)
	}
}

func TestUnackSummary(t *testing.T) {
	for _, tc := range []struct {
		name      string
		after     int
		wantAlert bool
	}{
		{"changed summary clears the ack and alerts", 0, true},
		// The reset _consec_failures is 1, so alertafter 2 holds it back.
		{"consecutive count restarts at 1", 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(newPeriod(t, "p", func(p *config.Period) { p.AlertAfterCount = tc.after }))
			svc.UnackSummary = true
			st := NewState(svc)
			Process(svc, st, Result{Exit: 1, Output: "disk full"}, world(0))
			Process(svc, st, Result{Exit: 1, Output: "disk full"}, world(1))
			Acknowledge(svc, st, "admin", "on it", world(2))
			// Whitespace differences do not count as a change.
			ds := run(t, svc, st, []ev{fail(3, "disk  full ")})
			requireTrace(t, ds[0], "ack", "acknowledged at")
			var want []string
			if tc.wantAlert {
				want = []string{down}
			}
			ds = run(t, svc, st, []ev{{at: 4, exit: 1, out: "disk on fire\nsda1", want: want}})
			requireTrace(t, ds[0], "unack_summary",
				`acknowledgement (admin: on it) cleared: summary changed from "disk  full " to "disk on fire"`)
			if st.Ack != 0 || st.AckComment != "" || st.ConsecFailures != 1 {
				t.Errorf("after unack: ack %d %q consec %d", st.Ack, st.AckComment, st.ConsecFailures)
			}
		})
	}
}

func TestDisabled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		watch  bool
		svcOff bool
		msg    string
	}{
		{"watch", true, false, "suppressed failure alert: the watch is disabled"},
		{"service", false, true, "suppressed failure alert: the service is disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(newPeriod(t, "p", func(p *config.Period) { p.StartupAlerts = lines(t, "log.alert s") }))
			svc.Redistribute = "redist.alert"
			st := NewState(svc)
			st.Disabled = tc.svcOff
			w := world(0)
			w.WatchDisabled = tc.watch
			d := Process(svc, st, Result{Exit: 1, Output: "x"}, w)
			if got := acts(d); !equal(got, []string{"R failure redist.alert"}) {
				t.Errorf("failure: %q", got)
			}
			requireTrace(t, d, "disabled", tc.msg)
			if got := acts(Startup(svc, st, w)); !equal(got, []string{"R startup redist.alert"}) {
				t.Errorf("startup: %q", got)
			}
			// Monitors keep running: the status is still updated.
			if st.OpStatus != Fail || st.FailureCount != 1 || st.AlertCount != 0 {
				t.Errorf("state %+v", st)
			}
		})
	}
}

func TestStopped(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) { p.StartupAlerts = lines(t, "log.alert s") }))
	svc.Redistribute = "redist.alert"
	st := NewState(svc)
	w := world(0)
	w.Stopped = true
	for _, d := range []Decision{
		Startup(svc, st, w),
		Process(svc, st, Result{Exit: 1, Output: "x"}, w),
		Acknowledge(svc, st, "admin", "c", w),
		Process(svc, st, Result{Exit: 0, Output: "y"}, w),
		Process(svc, st, Result{Exit: 0, Output: "y"}, w),
	} {
		if len(d.Actions) != 0 {
			t.Errorf("actions while stopped: %q", acts(d))
		}
		requireTrace(t, d, "stopped", "the mon scheduler is stopped")
	}
	if st.OpStatus != OK || st.FailureCount != 1 {
		t.Errorf("state not updated while stopped: %+v", st)
	}
}

func TestRedistribute(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) { p.StartupAlerts = lines(t, "log.alert s") }))
	svc.Redistribute = `redist.alert -x "two words"`
	st := NewState(svc)
	Startup(svc, st, world(0))
	ds := run(t, svc, st, []ev{
		// The startup alert counts as sent (Q-SCH-8), so with redistribute
		// (every success runs do_alert) even this first OK sends an upalert.
		ok(1, "fine", "R up redist.alert -x two words", up),
		fail(2, "bad\n", "R failure redist.alert -x two words", down),
		{at: 3, kind: Trap, exit: 4, out: "trap", want: []string{"R trap redist.alert -x two words", "P0 trap log.alert down"}},
		ok(4, "fine", "R up redist.alert -x two words", up),
		ok(5, "fine2", "R up redist.alert -x two words"),
	})
	r := ds[4].Actions[0]
	if r.Period != -1 || r.Record || r.Input != "fine" || r.Retval == nil || *r.Retval != 0 || r.Type != UpAlert ||
		r.Line.RawArgs != `-x "two words"` {
		t.Errorf("redistribute on success: %+v", r)
	}
	if *ds[2].Actions[0].Retval != 4 || ds[2].Actions[0].Input != "trap" {
		t.Errorf("redistribute on trap: %+v", ds[2].Actions[0])
	}
	// Only period alerts are counted: startup, two upalerts, two failures.
	if st.AlertCount != 5 {
		t.Errorf("alert count %d", st.AlertCount)
	}

	// Q-CFG-3 fixed: the first word is looked up, not the whole text.
	var asked []string
	w := world(10)
	w.HasAlert = func(l config.AlertLine) bool { asked = append(asked, l.Name); return l.Name == "redist.alert" }
	Process(svc, st, Result{Exit: 0, Output: "x"}, w)
	if !equal(asked, []string{"redist.alert"}) {
		t.Errorf("looked up %q", asked)
	}
	svc.Redistribute = "missing.alert arg"
	d := Process(svc, st, Result{Exit: 0, Output: "x"}, world(11))
	if len(d.Actions) != 0 {
		t.Errorf("missing redistribute alert sent: %q", acts(d))
	}
	requireTrace(t, d, "redistribute", "no alert found while trying to run missing.alert")
}

func mustDepend(t *testing.T, text string) *depend.Expr {
	t.Helper()
	e, err := depend.Parse(text, "w")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestDepend(t *testing.T) {
	evalTo := func(up bool, err error) func() (bool, error) {
		return func() (bool, error) { return up, err }
	}
	for _, tc := range []struct {
		name     string
		setup    func(*config.Service)
		eval     func() (bool, error)
		want     []string
		wantStat string // "nil", "true", "false"
		trace    string
	}{
		{"depend a, parent down", func(s *config.Service) { s.Depend, s.DepBehavior = mustDepend(t, "router:ping"), config.DepAlert },
			evalTo(false, nil), nil, "false", "suppressed failure alert: dependency router:ping is down"},
		{"depend a, parent up", func(s *config.Service) { s.Depend, s.DepBehavior = mustDepend(t, "router:ping"), config.DepAlert },
			evalTo(true, nil), []string{down}, "true", ""},
		{"Q-SCH-7: alertdepend alone is evaluated", func(s *config.Service) { s.AlertDepend = mustDepend(t, "router:ping") },
			evalTo(false, nil), nil, "false", "dependency router:ping is down"},
		{"Q-SCH-7: evaluation error counts as up", func(s *config.Service) { s.AlertDepend = mustDepend(t, "router:ping") },
			evalTo(false, errEval), []string{down}, "nil",
			"dependency router:ping could not be evaluated (syntax error); treating it as up"},
		{"depend m is not evaluated here", func(s *config.Service) { s.Depend, s.DepBehavior = mustDepend(t, "router:ping"), config.DepMonitor },
			func() (bool, error) { t.Error("EvalDepend called for dep_behavior m"); return false, nil }, []string{down}, "nil", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(newPeriod(t, "p"))
			tc.setup(svc)
			st := NewState(svc)
			w := world(0)
			w.EvalDepend = tc.eval
			d := Process(svc, st, Result{Exit: 1, Output: "x"}, w)
			if got := acts(d); !equal(got, tc.want) {
				t.Errorf("actions %q, want %q\n%s", got, tc.want, traceText(d))
			}
			stat := "nil"
			if st.DependStatus != nil {
				stat = map[bool]string{true: "true", false: "false"}[*st.DependStatus]
			}
			if stat != tc.wantStat {
				t.Errorf("depend status %s, want %s", stat, tc.wantStat)
			}
			if tc.trace != "" {
				requireTrace(t, d, "depend", tc.trace)
			}
		})
	}
}

// Startup and up alerts bypass the dependency check; ack alerts do not.
func TestDependBypass(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) {
		p.StartupAlerts = lines(t, "log.alert s")
		p.AckAlerts = lines(t, "log.alert a")
	}))
	svc.AlertDepend = mustDepend(t, "router:ping")
	st := NewState(svc)
	w := world(0)
	w.EvalDepend = func() (bool, error) { return false, nil }
	if got := acts(Startup(svc, st, w)); !equal(got, []string{"P0 startup log.alert s"}) {
		t.Errorf("startup: %q", got)
	}
	Process(svc, st, Result{Exit: 1, Output: "x"}, w)
	if got := acts(Acknowledge(svc, st, "admin", "c", w)); len(got) != 0 {
		t.Errorf("ack: %q", got)
	}
	if got := acts(Process(svc, st, Result{Exit: 0, Output: "y"}, w)); !equal(got, []string{up}) {
		t.Errorf("up: %q", got)
	}
}

// Q-SCH-9: disable alerts fire, before the service is marked disabled.
func TestDisable(t *testing.T) {
	svc := newService(newPeriod(t, "p", func(p *config.Period) { p.DisableAlerts = lines(t, "log.alert off") }))
	st := NewState(svc)
	d := Disable(svc, st, "admin", world(0))
	if got := acts(d); !equal(got, []string{"P0 disable log.alert off"}) {
		t.Fatalf("disable: %q\n%s", got, traceText(d))
	}
	a := d.Actions[0]
	if a.Input != "admin" || a.Retval != nil || a.Type != DisableAlert {
		t.Errorf("disable action %+v", a)
	}
	if !st.Disabled || st.Periods[0].AlertSent != 1 {
		t.Errorf("disabled %v, sent %d", st.Disabled, st.Periods[0].AlertSent)
	}
	if got := acts(Process(svc, st, Result{Exit: 1, Output: "x"}, world(1))); len(got) != 0 {
		t.Errorf("alert after disable: %q", got)
	}
	w := world(2)
	w.WatchDisabled = true
	if got := acts(Disable(svc, st, "admin", w)); len(got) != 0 {
		t.Errorf("disable alert of a disabled watch: %q", got)
	}
}
