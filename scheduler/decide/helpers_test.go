package decide

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/period"
	"github.com/gomon/gomon/internal/shellwords"
)

// base is a Monday noon; event times are given in seconds after it.
var base = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

const always = "wd {Sun-Sat}"

// spec parses a period spec or fails the test.
func spec(t testing.TB, text string) period.Spec {
	t.Helper()
	s, err := period.Parse(text)
	if err != nil {
		t.Fatalf("period %q: %v", text, err)
	}
	return s
}

// line builds an alert line from its config text: [exit=R] NAME ARGS.
func line(t testing.TB, text string) config.AlertLine {
	t.Helper()
	var l config.AlertLine
	if r, rest, ok := strings.Cut(text, " "); ok && strings.HasPrefix(r, "exit=") {
		lo, hi, isRange := strings.Cut(strings.TrimPrefix(r, "exit="), "-")
		if !isRange {
			hi = lo
		}
		l.Exit = &config.ExitRange{Lo: atoi(t, lo), Hi: atoi(t, hi)}
		text = rest
	}
	l.Name, l.RawArgs, _ = strings.Cut(text, " ")
	args, err := shellwords.Split(l.RawArgs)
	if err != nil {
		t.Fatal(err)
	}
	l.Args = args
	return l
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func lines(t testing.TB, texts ...string) []config.AlertLine {
	t.Helper()
	var ls []config.AlertLine
	for _, s := range texts {
		ls = append(ls, line(t, s))
	}
	return ls
}

// newPeriod is an always-on period with "alert log.alert down" and
// "upalert log.alert up", adjusted by opts.
func newPeriod(t testing.TB, key string, opts ...func(*config.Period)) *config.Period {
	t.Helper()
	p := &config.Period{
		Key:      key,
		Spec:     spec(t, always),
		Alerts:   lines(t, "log.alert down"),
		UpAlerts: lines(t, "log.alert up"),
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func newService(periods ...*config.Period) *config.Service {
	return &config.Service{Name: "s", ServiceSpec: &config.ServiceSpec{Interval: time.Minute, Periods: periods}}
}

// world is the default world at second `at`: every alert but
// "missing.alert" exists; the group's hosts are h1, h2 and h3.
func world(at int64) World {
	return World{
		Now:      base.Add(time.Duration(at) * time.Second),
		HasAlert: func(l config.AlertLine) bool { return l.Name != "missing.alert" },
		Hosts:    []string{"h1", "h2", "h3"},
	}
}

// ev is one event of a scenario and the actions it must produce.
type ev struct {
	at   int64 // seconds after base
	exit int
	out  string
	kind Kind
	want []string // actions as formatted by act
	// opened, when not nil, makes the event the opening of these
	// periods (PeriodOpened) instead of a result.
	opened []int
}

// act formats an action compactly: "P<period> TYPE NAME ARGS", with
// "R" instead of "P<n>" for redistribute, and "@HOST" for a per-host
// alert.
func act(a Action) string {
	where := fmt.Sprintf("P%d", a.Period)
	if a.Redistribute {
		where = "R"
	}
	s := strings.TrimSpace(fmt.Sprintf("%s %s %s %s", where, a.Type, a.Line.Name, strings.Join(a.Line.Args, " ")))
	if a.Host != "" {
		s += " @" + a.Host
	}
	return s
}

func acts(d Decision) []string {
	var out []string
	for _, a := range d.Actions {
		out = append(out, act(a))
	}
	return out
}

// run feeds the events in order and checks the actions of each.
func run(t *testing.T, svc *config.Service, st *State, evs []ev) []Decision {
	t.Helper()
	var ds []Decision
	for i, e := range evs {
		var d Decision
		if e.opened != nil {
			d = PeriodOpened(svc, st, e.opened, world(e.at))
		} else {
			d = Process(svc, st, Result{Kind: e.kind, Exit: e.exit, Output: e.out}, world(e.at))
		}
		if got := acts(d); !equal(got, e.want) {
			t.Errorf("event %d (t=%d exit=%d %q): actions\n got %q\nwant %q\ntrace:\n%s",
				i, e.at, e.exit, e.out, got, e.want, traceText(d))
		}
		ds = append(ds, d)
	}
	return ds
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func traceText(d Decision) string {
	var b strings.Builder
	for _, tr := range d.Trace {
		fmt.Fprintf(&b, "  [%s] %s sent=%v: %s\n", tr.Period, tr.Rule, tr.Sent, tr.Msg)
	}
	return b.String()
}

// hasTrace reports whether d has a trace line of rule whose message
// contains msg.
func hasTrace(d Decision, rule, msg string) bool {
	for _, tr := range d.Trace {
		if tr.Rule == rule && strings.Contains(tr.Msg, msg) {
			return true
		}
	}
	return false
}

func requireTrace(t *testing.T, d Decision, rule, msg string) {
	t.Helper()
	if !hasTrace(d, rule, msg) {
		t.Errorf("no %q trace containing %q; trace:\n%s", rule, msg, traceText(d))
	}
}

// fail and ok are monitor events; down and up are the actions of the
// default period 0.
func fail(at int64, out string, want ...string) ev { return ev{at: at, exit: 1, out: out, want: want} }
func ok(at int64, out string, want ...string) ev   { return ev{at: at, exit: 0, out: out, want: want} }

// opens is the opening of periods at `at`.
func opens(at int64, periods []int, want ...string) ev {
	return ev{at: at, opened: periods, want: want}
}

const (
	down = "P0 failure log.alert down"
	up   = "P0 up log.alert up"
)

var errEval = errors.New("syntax error")
