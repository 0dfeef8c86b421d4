package decide

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gomon/gomon/internal/config"
)

// ruleCase is one scenario on a one-period service.
type ruleCase struct {
	name   string
	period func(*config.Period)
	events []ev
	check  func(*testing.T, *State, []Decision)
}

func runCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeriod(t, "p")
			if tc.period != nil {
				tc.period(p)
			}
			svc := newService(p)
			st := NewState(svc)
			ds := run(t, svc, st, tc.events)
			if tc.check != nil {
				tc.check(t, st, ds)
			}
		})
	}
}

func every(d time.Duration, mode config.AlertEveryMode) func(*config.Period) {
	return func(p *config.Period) { p.AlertEvery, p.AlertEveryMode = d, mode }
}

func TestAlertEvery(t *testing.T) {
	runCases(t, []ruleCase{
		{name: "same output alerts once (golden same)", period: every(time.Hour, ""),
			events: []ev{fail(0, "same failure\nsame detail", down), fail(1, "same failure\nsame detail"),
				fail(2, "same failure\nsame detail")},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "alertevery", "suppressed: alertevery 1h0m0s, last sent 1s ago, same summary")
			}},
		{name: "summary change alerts again (golden summary)", period: every(time.Hour, config.EverySummary),
			events: []ev{fail(0, "summary A\n", down), fail(1, "summary B\n", down), fail(2, "summary B\n"),
				fail(3, "summary C\n", down), fail(4, "summary C\n")}},
		{name: "detail change is ignored by default (golden detail)", period: every(time.Hour, ""),
			events: []ev{fail(0, "detail summary\nrun 1\n", down), fail(1, "detail summary\nrun 2\n"),
				fail(2, "detail summary\nrun 3\n")}},
		{name: "observe_detail compares the full output", period: every(time.Hour, config.EveryObserveDetail),
			events: []ev{fail(0, "s\nrun 1\n", down), fail(1, "s\nrun 2\n", down), fail(2, "s\nrun 2\n")},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "alertevery", "same output")
			}},
		{name: "ignore_summary suppresses changes", period: every(time.Hour, config.EveryIgnoreSummary),
			events: []ev{fail(0, "A", down), fail(1, "B"), fail(3600, "C", down)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "alertevery", "ignore_summary")
			}},
		{name: "window expires after exactly alertevery", period: every(time.Hour, ""),
			events: []ev{fail(0, "x", down), fail(3599, "x"), fail(3600, "x", down)}},
		{name: "success resets the window", period: every(time.Hour, ""),
			events: []ev{fail(0, "x", down), ok(10, "y", up), fail(20, "x", down)}},
		{name: "strict suppresses changes and survives recovery", period: func(p *config.Period) {
			every(time.Hour, config.EveryStrict)(p)
			p.UpAlerts = nil
		},
			events: []ev{fail(0, "A", down), fail(1, "B"), ok(10, "y"), fail(20, "C"), fail(3600, "D", down)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[3], "alertevery", "suppressed: alertevery 1h0m0s, last sent 20s ago, strict")
			}},
		{name: "a sent upalert clears the strict window", period: every(time.Hour, config.EveryStrict),
			events: []ev{fail(0, "A", down), ok(10, "y", up), fail(20, "C", down)}},
	})
}

func TestAlertAfter(t *testing.T) {
	count := func(n int) func(*config.Period) { return func(p *config.Period) { p.AlertAfterCount = n } }
	window := func(n int, d time.Duration) func(*config.Period) {
		return func(p *config.Period) { p.AlertAfterCount, p.AlertAfterTime = n, d }
	}
	runCases(t, []ruleCase{
		{name: "N=3 (golden three)", period: count(3),
			events: []ev{fail(0, "r1"), ok(1, "ok"), fail(2, "r3"), fail(3, "r4"), fail(4, "r5", down), ok(5, "ok", up)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[3], "alertafter", "suppressed: 2 of 3 consecutive failures")
			}},
		{name: "N=2 (golden two)", period: count(2),
			events: []ev{fail(0, "r1"), ok(1, "ok"), fail(2, "r3"), fail(3, "r4", down), ok(4, "ok", up)}},
		{name: "T only: alert once failing longer than T", period: window(0, 30*time.Second),
			events: []ev{fail(0, "x"), fail(10, "x"), fail(30, "x"), fail(31, "x", down), ok(40, "y", up),
				fail(50, "x"), fail(81, "x", down)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "alertafter", "suppressed: failing for 30s, alertafter 30s not yet exceeded")
			}},
		{name: "N T: N failures within T", period: window(3, 10*time.Minute),
			events: []ev{fail(0, "x"), fail(60, "x"), fail(120, "x", down), fail(180, "x", down), ok(200, "y", up),
				fail(1000, "x")},
			check: func(t *testing.T, st *State, ds []Decision) {
				requireTrace(t, ds[1], "alertafter", "suppressed: 2 of 3 failures within 10m0s")
				// _failcount is not reset by success; the window restarts.
				if st.Periods[0].FailCount != 1 || st.Periods[0].FirstFailTime != base.Unix()+1000 {
					t.Errorf("failcount %d first %d", st.Periods[0].FailCount, st.Periods[0].FirstFailTime)
				}
			}},
		{name: "N T: window expiry restarts the count", period: window(3, 10*time.Minute),
			events: []ev{fail(0, "x"), fail(60, "x"), fail(700, "x"), fail(760, "x"), fail(820, "x", down)}},
		{name: "counters only advance when reached", period: func(p *config.Period) {
			window(2, time.Hour)(p)
			every(time.Hour, "")(p)
		},
			events: []ev{fail(0, "x"), fail(1, "x", down), fail(2, "x"), fail(3, "x")},
			check: func(t *testing.T, st *State, _ []Decision) {
				if st.Periods[0].FailCount != 2 {
					t.Errorf("failcount %d, want 2 (alertevery stopped it)", st.Periods[0].FailCount)
				}
			}},
	})
}

func TestNumAlerts(t *testing.T) {
	limit := func(n int) func(*config.Period) { return func(p *config.Period) { p.NumAlerts = n } }
	runCases(t, []ruleCase{
		{name: "capped (golden)", period: limit(2),
			events: []ev{fail(0, "run 1", down), fail(1, "run 2", down), fail(2, "run 3"), fail(3, "run 4")},
			check: func(t *testing.T, st *State, ds []Decision) {
				requireTrace(t, ds[2], "numalerts", "suppressed: numalerts 2 reached")
				if st.Periods[0].AlertSent != 2 {
					t.Errorf("alerts sent %d", st.Periods[0].AlertSent)
				}
			}},
		{name: "per episode (golden episode)", period: func(p *config.Period) { p.NumAlerts = 1; p.UpAlerts = nil },
			events: []ev{fail(0, "one", down), fail(1, "one"), fail(2, "one"), ok(3, "ok"),
				fail(4, "two", down), fail(5, "two"), ok(6, "ok")}},
	})
}

func TestExitRanges(t *testing.T) {
	runCases(t, []ruleCase{
		{name: "exit= on alert lines (golden exit_ranges)", period: func(p *config.Period) {
			p.Alerts = lines(t, "log.alert any", "exit=1 log.alert only-1", "exit=2-6 log.alert two-to-six",
				"exit=10-20 log.alert ten-to-twenty")
		},
			events: []ev{
				{at: 0, exit: 1, out: "exit one", want: []string{"P0 failure log.alert any", "P0 failure log.alert only-1"}},
				{at: 1, exit: 5, out: "exit five", want: []string{"P0 failure log.alert any", "P0 failure log.alert two-to-six"}},
				{at: 2, exit: 12, out: "exit twelve", want: []string{"P0 failure log.alert any", "P0 failure log.alert ten-to-twenty"}},
				ok(3, "fine", up),
			},
			check: func(t *testing.T, st *State, ds []Decision) {
				requireTrace(t, ds[0], "exit", "skipped log.alert: exit 1 not in exit=2-6")
				if ds[3].Actions[0].Input != "exit twelve" || st.Periods[0].AlertSent != 0 || st.AlertCount != 7 {
					t.Errorf("upalert input %q, sent %d, count %d", ds[3].Actions[0].Input, st.Periods[0].AlertSent, st.AlertCount)
				}
			}},
		{name: "exit= on upalert lines compares retval 0", period: func(p *config.Period) {
			p.UpAlerts = lines(t, "exit=0 log.alert up0", "exit=1 log.alert up1")
		},
			events: []ev{fail(0, "x", down), ok(1, "y", "P0 up log.alert up0")}},
		{name: "alertexitrange", period: func(p *config.Period) { p.AlertExitRange = &config.ExitRange{Lo: 2, Hi: 3} },
			events: []ev{
				{at: 0, exit: 1, out: "x"},
				{at: 1, exit: 3, out: "x", want: []string{down}},
				{at: 2, exit: 4, out: "x"},
				ok(3, "y", up),
			},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[0], "alertexitrange", "suppressed: exit 1 not in alertexitrange 2-3")
			}},
	})
}

func TestNoCompAlerts(t *testing.T) {
	nocomp := func(p *config.Period) { p.AlertAfterCount = 3; p.NoCompAlerts = true }
	runCases(t, []ruleCase{
		{name: "one upalert per cycle without down alerts (golden nocomp)", period: nocomp,
			events: []ev{fail(0, "nocomp fail"), ok(1, "nocomp ok", up), fail(2, "nocomp fail again"), ok(3, "nocomp ok")},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[3], "no_comp_alerts", "suppressed up alert: one was already sent")
			}},
		{name: "without no_comp_alerts no upalert (golden plain)", period: func(p *config.Period) { p.AlertAfterCount = 3 },
			events: []ev{fail(0, "plain fail"), ok(1, "plain ok"), fail(2, "plain fail again"), ok(3, "plain ok")}},
		{name: "a down alert re-arms the upalert", period: nocomp,
			events: []ev{fail(0, "x"), ok(1, "y", up), fail(2, "x"), fail(3, "x"), fail(4, "x", down), ok(5, "y", up),
				ok(6, "y")}},
	})
}

// Q-SCH-5: upalertafter is honoured as documented.
func TestUpAlertAfter(t *testing.T) {
	runCases(t, []ruleCase{
		{name: "short outage sends no upalert (golden upalertafter differs)",
			period: func(p *config.Period) { p.UpAlertAfter = time.Hour },
			events: []ev{fail(0, "resolve failed\nSERVFAIL\n", down), fail(1, "resolve failed\nSERVFAIL\n", down),
				ok(2, "resolve ok\n")},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "upalertafter", "suppressed up alert: the outage lasted 2s, upalertafter is 1h0m0s")
			}},
		{name: "long enough outage sends it", period: func(p *config.Period) { p.UpAlertAfter = time.Hour },
			events: []ev{fail(0, "x", down), fail(1800, "x", down), ok(3600, "y", up)}},
	})
}

// TestHugeOutputIsClippedInTheState: a monitor printing a 10 MB line
// leaves at most MaxSummary and MaxDetail in the state (what is logged,
// listed and saved), while the alert still gets the whole output; and
// alertevery still recognises the same failure.
func TestHugeOutputIsClippedInTheState(t *testing.T) {
	svc := newService(newPeriod(t, "p", every(time.Hour, config.EverySummary)))
	st := NewState(svc)
	huge := strings.Repeat("x", 10<<20) + "\n" + strings.Repeat("d", 1<<20) + "\n"
	d := Process(svc, st, Result{Kind: Monitor, Exit: 1, Output: huge}, world(0))
	if len(d.Actions) != 1 || d.Actions[0].Input != huge {
		t.Fatalf("the alert did not get the whole output: %d actions", len(d.Actions))
	}
	if len(st.LastSummary) > MaxSummary || len(st.LastDetail) > MaxDetail+1 ||
		len(st.LastOutput) > MaxSummary+MaxDetail+1 || len(st.FailureOutput()) > MaxSummary+MaxDetail+1 {
		t.Errorf("state keeps %d/%d/%d/%d bytes", len(st.LastSummary), len(st.LastDetail), len(st.LastOutput), len(st.FailureOutput()))
	}
	if !strings.HasSuffix(st.LastSummary, "bytes cut]") || !strings.HasPrefix(st.LastSummary, "xxx") {
		t.Errorf("summary %q…", st.LastSummary[:40])
	}
	if d.Actions[0].Env.LastSummary != st.LastSummary {
		t.Error("MON_LAST_SUMMARY is not the clipped summary")
	}
	d = Process(svc, st, Result{Kind: Monitor, Exit: 1, Output: huge}, world(60))
	if len(d.Actions) != 0 {
		t.Errorf("alertevery 1h did not hold back the same huge failure: %d actions", len(d.Actions))
	}
}

func TestClipCutsOnARuneBoundary(t *testing.T) {
	s := strings.Repeat("é", 100) // 200 bytes
	got := Clip(s, 50)
	if len(got) > 50 || !utf8.ValidString(got) || !strings.HasSuffix(got, "bytes cut]") {
		t.Errorf("Clip = %q (%d bytes)", got, len(got))
	}
	if Clip("short", 50) != "short" {
		t.Error("a short string was changed")
	}
}
