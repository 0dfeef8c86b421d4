package reconcile

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler/decide"
)

// testKind is a built-in registered for these tests only: its lines'
// arguments are kept as they are.
const testKind = "reconcile-test"

func init() {
	alerts.Register(&alerts.Builtin{Name: testKind, Aliases: []string{testKind + ".alert"},
		New: func([]string) (alerts.Alert, error) { return nil, nil }})
}

func parseArgs(args []string) ([]string, error) {
	if len(args) > 0 && args[0] == "bad" {
		return nil, errors.New("bad arguments")
	}
	return args, nil
}

// service is web/NAME with one period whose alert lines are lines
// (name, then arguments).
func service(name string, st decide.State, members []string, lines ...[]string) Service {
	per := &config.Period{Key: "wd {Sun-Sat}"}
	for _, l := range lines {
		per.Alerts = append(per.Alerts, config.AlertLine{Name: l[0], Args: l[1:]})
	}
	if len(st.Periods) == 0 {
		st.Periods = make([]decide.PeriodState, 1)
	}
	return Service{Group: "web", Name: name, Config: &config.Service{Name: name, ServiceSpec: &config.ServiceSpec{Periods: []*config.Period{per}}},
		State: st, Members: members}
}

// down is a failure (exit 1) whose down alert was sent in period 0.
func down(summary string) decide.State {
	return decide.State{OpStatus: decide.Fail, ExitVal: 1, LastSummary: summary,
		Periods: []decide.PeriodState{{AlertSent: 1}}}
}

// Lines finds the built-in's lines by any of its names but not a script
// of the same name, and reports a line that does not parse.
func TestLines(t *testing.T) {
	services := []Service{
		service("http", decide.State{}, nil,
			[]string{"mail.alert", "root"},
			[]string{testKind, "1"},
			[]string{testKind + ".alert", "2"},
			[]string{"builtin:" + testKind, "3"},
			[]string{"script:" + testKind + ".alert", "4"},
			[]string{testKind, "bad"}),
		{Group: "web", Name: "noconfig"},
	}
	lines, errs := Lines(services, testKind, parseArgs)
	var got []string
	for _, l := range lines {
		got = append(got, l.Group+"/"+l.Service+" "+strings.Join(l.Alert, " "))
	}
	if want := []string{"web/http 1", "web/http 2", "web/http 3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "web/http: bad arguments") {
		t.Errorf("errors %v, want the bad line's", errs)
	}
}

// The verdict a line's service gives on its members.
func TestFailing(t *testing.T) {
	members := []string{"h1", "h2"}
	for _, tc := range []struct {
		name     string
		st       decide.State
		disabled bool
		fixed    bool
		want     []string
	}{
		{name: "untested", st: decide.State{OpStatus: decide.Untested}},
		{name: "depend", st: decide.State{OpStatus: decide.Depend}},
		{name: "disabled", st: down("h1"), disabled: true},
		{name: "up", st: decide.State{OpStatus: decide.OK}, want: []string{}},
		{name: "failing members from the summary", st: down("h2 other h2"), want: []string{"h2"}},
		{name: "a summary naming no member", st: down("timeout")},
		{name: "fixed target: every member", st: down("timeout"), fixed: true, want: members},
		{name: "not alerted yet", st: decide.State{OpStatus: decide.Fail, ExitVal: 1, LastSummary: "h1",
			Periods: []decide.PeriodState{{}}}},
	} {
		s := service("http", tc.st, members, []string{testKind})
		s.Disabled = tc.disabled
		lines, _ := Lines([]Service{s}, testKind, parseArgs)
		if got := lines[0].Failing(tc.fixed); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: failing %#v, want %#v", tc.name, got, tc.want)
		}
	}
}

// Loaded and Result only signal (they run with the scheduler locked):
// once for a load or a result of a service with lines of the kind, never
// blocking.
func TestSignals(t *testing.T) {
	r := New(testKind, nil, nil, parseArgs, nil)
	r.watched = map[Ref]bool{{"web", "http"}: true}
	pending := func() bool {
		select {
		case <-r.wake:
			return true
		default:
			return false
		}
	}
	for _, tc := range []struct {
		name string
		call func()
		want bool
	}{
		{"load", r.Loaded, true},
		{"result of a watched service", func() { r.Result("web", "http") }, true},
		{"result of another service", func() { r.Result("web", "ping") }, false},
		{"result of a service of another watch", func() { r.Result("db", "http") }, false},
	} {
		tc.call()
		tc.call() // a second signal while one is pending must not block
		if got := pending(); got != tc.want {
			t.Errorf("%s: signalled %v, want %v", tc.name, got, tc.want)
		}
		if pending() {
			t.Errorf("%s: more than one pass pending", tc.name)
		}
	}
}

// fakeHealth is a Health that returns fixed services.
type fakeHealth []Service

func (f fakeHealth) Services() []Service { return f }

// A pass learns which services to watch from the health it reads, hands
// their lines to converge, and logs an error that repeats once and its
// end.
func TestPass(t *testing.T) {
	health := fakeHealth{
		service("http", down("h1"), []string{"h1"}, []string{testKind, "x"}),
		service("ping", down("h1"), []string{"h1"}, []string{"mail.alert"}),
	}
	var (
		log   strings.Builder
		calls [][]Line[[]string]
		fail  = errors.New("server unreachable")
	)
	r := New(testKind, health, slog.New(slog.NewTextHandler(&log, nil)), parseArgs,
		func(_ context.Context, lines []Line[[]string]) error {
			calls = append(calls, lines)
			return fail
		})
	r.pass(context.Background())
	r.pass(context.Background())
	fail = nil
	r.pass(context.Background())
	if !r.watched[Ref{"web", "http"}] || len(r.watched) != 1 {
		t.Errorf("watched %v, want web/http", r.watched)
	}
	if len(calls) != 3 || len(calls[0]) != 1 || calls[0][0].Alert[0] != "x" {
		t.Errorf("converge calls %v, want 3 with the one line", calls)
	}
	if n := strings.Count(log.String(), testKind+" reconcile failed"); n != 1 {
		t.Errorf("error logged %d times, want once:\n%s", n, log.String())
	}
	if !strings.Contains(log.String(), testKind+" reconcile works again") {
		t.Errorf("recovery not logged:\n%s", log.String())
	}
}

// configuredHealth is a fakeHealth that shows its configuration and
// counts the snapshots taken.
type configuredHealth struct {
	fakeHealth
	snapshots int
}

func (h *configuredHealth) Services() []Service { h.snapshots++; return h.fakeHealth }

func (h *configuredHealth) Config() *config.Config {
	w := &config.Watch{Name: "web"}
	for _, s := range h.fakeHealth {
		w.Services = append(w.Services, s.Config)
	}
	return &config.Config{Watches: []*config.Watch{w}}
}

// A pass reads every service only when a line names its kind: at scale
// the snapshot costs, and most configurations have no such lines.
func TestPassSkipsTheSnapshotWithoutLines(t *testing.T) {
	for _, tc := range []struct {
		alert     string
		snapshots int
	}{{"mail.alert", 0}, {testKind + ".alert", 1}} {
		h := &configuredHealth{fakeHealth: fakeHealth{service("http", down("h1"), []string{"h1"}, []string{tc.alert})}}
		converged := 0
		r := New(testKind, h, slog.New(slog.NewTextHandler(io.Discard, nil)), parseArgs,
			func(context.Context, []Line[[]string]) error { converged++; return nil })
		r.pass(context.Background())
		if h.snapshots != tc.snapshots || converged != tc.snapshots {
			t.Errorf("alert %s: %d snapshots and %d converge calls, want %d", tc.alert, h.snapshots, converged, tc.snapshots)
		}
	}
}
