package decide

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// Per-host verdicts and alert_per_host (docs/extensions.md). The world's
// group is h1 h2 h3; "@h" marks an alert for host h alone.

const (
	downH1 = "P0 failure log.alert down @h1"
	downH2 = "P0 failure log.alert down @h2"
	upH1   = "P0 up log.alert up @h1"
	upH2   = "P0 up log.alert up @h2"
)

func perHost(opts ...func(*config.Period)) func(*config.Period) {
	return func(p *config.Period) {
		p.AlertPerHost = true
		for _, o := range opts {
			o(p)
		}
	}
}

// failing returns the failing hosts and their consecutive failures.
func failing(st *State) map[string]int {
	out := map[string]int{}
	for h, hs := range st.Hosts {
		out[h] = hs.ConsecFailures
	}
	return out
}

func TestHostVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		out   []string // one failing run's output each; "" = success
		want  []map[string]int
		trace string // of the last event
	}{
		{"hosts enter with their first failure and leave when they recover",
			[]string{"h1 h2\nh1: refused\nh2: timeout", "h2\nh2: timeout", ""},
			[]map[string]int{{"h1": 1, "h2": 1}, {"h2": 2}, {}}, "host h2 recovered after 2m0s"},
		{"words that are not hosts of the group are ignored",
			[]string{"h1 h9 refused"}, []map[string]int{{"h1": 1}}, "host h1 failing"},
		{"a summary naming no host leaves the verdicts as they are",
			[]string{"h3", "connection refused"}, []map[string]int{{"h3": 1}, {"h3": 1}},
			"the summary names no host of the group; host verdicts unchanged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(newPeriod(t, "p"))
			svc.HostVerdicts = true
			st := NewState(svc)
			var d Decision
			for i, out := range tc.out {
				exit := 1
				if out == "" {
					exit = 0
				}
				d = Process(svc, st, Result{Exit: exit, Output: out}, world(int64(60*i)))
				if got := failing(st); !reflect.DeepEqual(got, tc.want[i]) {
					t.Errorf("event %d: failing %v, want %v", i, got, tc.want[i])
				}
			}
			requireTrace(t, d, "per_host", tc.trace)
		})
	}
}

func TestHostStateIsKeptPerHost(t *testing.T) {
	svc := newService(newPeriod(t, "p"))
	svc.HostVerdicts = true
	st := NewState(svc)
	Process(svc, st, Result{Exit: 1, Output: "h1 h2\nh1: refused\nh2: timeout\nother line"}, world(0))
	Process(svc, st, Result{Exit: 1, Output: "h1\nh1: reset by peer"}, world(30))
	h1 := st.Hosts["h1"]
	want := HostState{FirstFailure: base.Unix(), LastFailure: base.Unix() + 30, ConsecFailures: 2, LastOutput: "h1: reset by peer"}
	if !reflect.DeepEqual(*h1, want) || st.Hosts["h2"] != nil {
		t.Errorf("h1 = %+v, want %+v; hosts %v", *h1, want, failing(st))
	}
	// The state is what a cluster replicates: it survives JSON.
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Hosts, st.Hosts) {
		t.Errorf("JSON round trip: %v %+v", err, back.Hosts)
	}
	// Without the keyword the state is mon's.
	plain := newService(newPeriod(t, "p"))
	pst := NewState(plain)
	Process(plain, pst, Result{Exit: 1, Output: "h1"}, world(0))
	if pst.Hosts != nil {
		t.Errorf("hosts kept without host_verdicts: %v", failing(pst))
	}
}

func TestAlertPerHost(t *testing.T) {
	runCases(t, []ruleCase{
		{name: "one down per newly failing host, one up per recovered host", period: perHost(every(time.Hour, "")),
			events: []ev{fail(0, "h1\nh1: refused", downH1), fail(60, "h1 h2", downH2), fail(120, "h2", upH1),
				fail(180, "h2"), ok(240, "", upH2)},
			check: func(t *testing.T, st *State, ds []Decision) {
				requireTrace(t, ds[1], "alertevery", "host h1: suppressed: alertevery 1h0m0s, last sent 1m0s ago, same summary")
				if st.Hosts != nil || st.Periods[0].AlertSent != 0 {
					t.Errorf("after recovery: hosts %v, period %+v", failing(st), st.Periods[0])
				}
			}},
		{name: "without alertevery each failing host alerts on each failure, as mon does for the service", period: perHost(),
			events: []ev{fail(0, "h1", downH1), fail(60, "h1 h2", downH1, downH2)}},
		{name: "alertafter counts each host's consecutive failures", period: perHost(func(p *config.Period) { p.AlertAfterCount = 2 }),
			events: []ev{fail(0, "h1"), fail(60, "h1 h2", downH1), fail(120, "h2", upH1, downH2)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "alertafter", "host h2: suppressed: 1 of 2 consecutive failures")
			}},
		{name: "an upalert pairs with its host's down alert", period: perHost(func(p *config.Period) { p.AlertAfterCount = 2 }),
			events: []ev{fail(0, "h1 h2"), fail(60, "h1", downH1), ok(120, "", upH1)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[1], "pairing", "host h2: suppressed up alert: no down alert was sent in this period")
			}},
		{name: "upalertafter measures the host's outage", period: perHost(func(p *config.Period) { p.UpAlertAfter = 2 * time.Minute }),
			events: []ev{fail(0, "h1", downH1), fail(60, "h1 h2", downH1, downH2), ok(150, "", upH1)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[2], "upalertafter", "host h2: suppressed up alert: the outage lasted 1m30s")
			}},
		{name: "a summary naming no host alerts for the service", period: perHost(),
			events: []ev{fail(0, "timeout", down), ok(60, "", up)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				requireTrace(t, ds[0], "per_host", "no host named: alerting for the service")
			}},
		{name: "the alert names its host: input, MON_HOST and the host's times", period: perHost(),
			events: []ev{fail(0, "h2", downH2), fail(60, "h1 h2\nh1: refused\nh2: timeout", downH1, downH2)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				a := ds[1].Actions[1]
				if a.Input != "h2\nh2: timeout\n" || a.Env.Host != "h2" || a.Env.FirstFailure != base.Unix() ||
					a.Env.LastFailure != base.Unix()+60 {
					t.Errorf("h2's alert: input %q env %+v", a.Input, a.Env)
				}
			}},
		{name: "acknowledged: host alerts are suppressed like the service's", period: perHost(),
			events: []ev{fail(0, "h1", downH1)},
			check: func(t *testing.T, st *State, _ []Decision) {
				Acknowledge(newService(newPeriod(t, "p", perHost())), st, "op", "on it", world(10))
				d := Process(newService(newPeriod(t, "p", perHost())), st, Result{Exit: 1, Output: "h1 h2"}, world(20))
				if len(d.Actions) != 0 {
					t.Errorf("alerts while acknowledged: %q", acts(d))
				}
			}},
	})
}

// TestAlertPerHostBesideAServicePeriod: one period alerts per host, the
// other for the service as mon does; Firing sees the per-host period's
// alert.
func TestAlertPerHostBesideAServicePeriod(t *testing.T) {
	pages := newPeriod(t, "pages", perHost())
	mail := newPeriod(t, "mail")
	svc := newService(pages, mail)
	st := NewState(svc)
	run(t, svc, st, []ev{
		fail(0, "h1 h2", downH1, downH2, "P1 failure log.alert down"),
		ok(60, "", upH1, "P0 up log.alert up @h2", "P1 up log.alert up"),
	})
	st2 := NewState(svc)
	Process(svc, st2, Result{Exit: 1, Output: "h1"}, world(0))
	if !Firing(svc, st2, 0, pages.Alerts[0]) {
		t.Error("Firing: the per-host period's alert is not seen")
	}
}
