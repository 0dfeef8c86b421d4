package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/clock"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

// rig runs a scheduler on a fake clock. Monitors and alerts are mostly
// Go values that record their calls (fakeMonitor, recAlert), injected as
// built-ins; a few tests use real scripts in a temporary directory to
// cover the external-program path end to end.
type rig struct {
	t      *testing.T
	dir    string
	clk    *clock.Fake
	s      *Scheduler
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	log []Event
}

var epoch = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// timeout bounds every wait of the rig; no test should come near it.
const timeout = 10 * time.Second

// newRig parses cfg (a mon.cf text; DIR is replaced by the rig's
// directory) and starts the scheduler. impls maps monitor and alert names
// to what runs them: a monitors.Monitor or alerts.Alert is a built-in of
// that name; a string is the body of a shell script placed in DIR/mon.d
// (or DIR/alert.d for a name ending in .alert). Without Go alerts the
// real built-in alerts stay available.
func newRig(t *testing.T, cfg string, impls map[string]any) *rig {
	t.Helper()
	return newRigWith(t, cfg, impls, nil)
}

// newRigWith is newRig with more options (set sets them).
func newRigWith(t *testing.T, cfg string, impls map[string]any, set func(*Options)) *rig {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	var mons registry.Registry[monitors.Monitor]
	var als registry.Registry[alerts.Alert]
	opts := Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for name, impl := range impls {
		switch v := impl.(type) {
		case string:
			sub := "mon.d"
			if strings.HasSuffix(name, ".alert") {
				sub = "alert.d"
			}
			if err := os.WriteFile(filepath.Join(dir, sub, name), []byte("#!/bin/sh\n"+v), 0o755); err != nil {
				t.Fatal(err)
			}
		case monitors.Monitor:
			mons.Register(&registry.Builtin[monitors.Monitor]{Name: name, New: func([]string) (monitors.Monitor, error) { return v, nil }})
			opts.Monitors = &mons
		case alerts.Alert:
			als.Register(&registry.Builtin[alerts.Alert]{Name: name, New: func([]string) (alerts.Alert, error) { return v, nil }})
			opts.Alerts = &als
		default:
			t.Fatalf("%s: %T is neither a script nor a Go monitor or alert", name, impl)
		}
	}
	head := fmt.Sprintf("basedir = %s\ncfbasedir = %s\nmondir = mon.d\nalertdir = alert.d\nstatedir = state\nlogdir = log\n", dir, dir)
	c, err := configfile.Parse("test.cf", []byte(head+strings.ReplaceAll(cfg, "DIR", dir)), configfile.LoadOptions{Cwd: dir})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	configfile.Resolve(c, dir)
	r := &rig{t: t, dir: dir, clk: clock.NewFake(epoch), events: make(chan Event, 1000), done: make(chan struct{})}
	opts.Clock = r.clk
	opts.Events = func(e Event) {
		r.mu.Lock()
		r.log = append(r.log, e)
		r.mu.Unlock()
		r.events <- e
	}
	if set != nil {
		set(&opts)
	}
	r.s = New(c, opts)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.s.Run(ctx)
		close(r.done)
	}()
	t.Cleanup(r.stop)
	return r
}

// stop ends Run, which waits for every running monitor and alert.
func (r *rig) stop() {
	r.cancel()
	<-r.done
}

// settle returns once the scheduler loop has handled everything due at
// the fake clock's current time and gone back to wait. It pokes the loop
// and waits for the next pass's timer: Run makes one timer per pass,
// under s.mu and after taking back the pokes that pass answers, so a
// timer beyond the count read here with the poke comes from a pass that
// began after it.
func (r *rig) settle() {
	r.t.Helper()
	r.s.mu.Lock()
	n := r.clk.Made()
	r.s.poke()
	r.s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := r.clk.WaitMade(ctx, n); err != nil {
		r.t.Fatalf("the scheduler loop did not come round: %v", err)
	}
}

// advance moves the fake clock and waits until the scheduler has reacted
// to the timers that fell due.
func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.clk.Advance(d)
	r.settle()
}

// wait returns the next event of the given kind, failing after timeout.
func (r *rig) wait(kind string) Event {
	r.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind {
				return e
			}
		case <-deadline:
			r.t.Fatalf("timeout waiting for %s", kind)
		}
	}
}

// none asserts that no event of kind has happened once the scheduler has
// reacted to everything so far (or has stopped). It sees what the loop
// itself does; what a monitor or alert goroutine does later is awaited
// through its own event.
func (r *rig) none(kind string) {
	r.t.Helper()
	select {
	case <-r.done:
	default:
		r.settle()
	}
	if e, ok := r.take(kind); ok {
		r.t.Fatalf("unexpected %s event %+v", kind, e)
	}
}

// take returns an event of kind that has already been reported, if any,
// dropping the events of other kinds before it.
func (r *rig) take(kind string) (Event, bool) {
	for {
		select {
		case e := <-r.events:
			if e.Kind == kind {
				return e, true
			}
		default:
			return Event{}, false
		}
	}
}

// starts returns the monitor starts so far as SERVICE@OFFSET, sorted.
func (r *rig) starts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []string
	for _, e := range r.log {
		if e.Kind == "monitor-start" {
			got = append(got, fmt.Sprintf("%s@%v", e.Service, e.Time.Sub(epoch)))
		}
	}
	slices.Sort(got)
	return got
}

func (r *rig) status(g, s string) Status {
	r.t.Helper()
	st, err := r.s.StatusOf(g, s)
	if err != nil {
		r.t.Fatal(err)
	}
	return st
}

// read returns a file a script wrote, by name relative to the rig's
// directory. Scripts write before they exit, so after the event of
// their end the file is complete.
func (r *rig) read(name string) string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// fakeMonitor is a Go-value monitor: it reports every run's request on
// runs and answers with exit and output, at once or, when gated, once
// the test lets one run go (release).
type fakeMonitor struct {
	exit   int
	output string
	gate   chan struct{} // nil: answer at once
	runs   chan monitors.Request
}

func answer(exit int, output string) *fakeMonitor {
	return &fakeMonitor{exit: exit, output: output, runs: make(chan monitors.Request, 1000)}
}

// gated makes every run wait for a release (or its context's end, as a
// killed monitor would).
func (m *fakeMonitor) gated() *fakeMonitor {
	m.gate = make(chan struct{})
	return m
}

func (m *fakeMonitor) Check(ctx context.Context, req monitors.Request) monitors.Result {
	m.runs <- req
	if m.gate != nil {
		select {
		case <-m.gate:
		case <-ctx.Done():
			return monitors.Result{Exit: 1, Output: []byte("killed\n")}
		}
	}
	return monitors.Result{Exit: m.exit, Output: []byte(m.output)}
}

// release lets one waiting run of a gated monitor answer.
func (r *rig) release(m *fakeMonitor) {
	r.t.Helper()
	select {
	case m.gate <- struct{}{}:
	case <-time.After(timeout):
		r.t.Fatal("no run of the gated monitor to release")
	}
}

// request returns the next run's request of a fake monitor.
func (r *rig) request(m *fakeMonitor) monitors.Request {
	r.t.Helper()
	select {
	case req := <-m.runs:
		return req
	case <-time.After(timeout):
		r.t.Fatal("the monitor did not run")
	}
	return monitors.Request{}
}

// recAlert is a Go-value alert that records every event it is sent.
type recAlert struct{ sent chan alerts.Event }

func recorder() *recAlert { return &recAlert{sent: make(chan alerts.Event, 1000)} }

func (a *recAlert) Send(_ context.Context, ev alerts.Event) error {
	a.sent <- ev
	return nil
}

// sent returns the next event the alert was sent.
func (r *rig) sent(a *recAlert) alerts.Event {
	r.t.Helper()
	select {
	case ev := <-a.sent:
		return ev
	case <-time.After(timeout):
		r.t.Fatal("the alert was not sent")
	}
	return alerts.Event{}
}

// envOf returns the value of NAME in a K=V list, and whether it is set.
func envOf(env []string, name string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func okMonitor() *fakeMonitor { return answer(0, "ok\n") }

func TestFirstRunComesOneIntervalAfterStart(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	r.advance(9 * time.Second)
	r.none("monitor-start")
	r.advance(time.Second)
	e := r.wait("monitor-start")
	if !e.Time.Equal(epoch.Add(10 * time.Second)) {
		t.Errorf("first run at %v, want start+10s", e.Time)
	}
	r.wait("monitor-done")
	if st := r.status("g", "s"); st.State.OpStatus != decide.OK {
		t.Errorf("status %v after a successful run", st.State.OpStatus)
	}
}

func TestFixedRateSchedule(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 5s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	var starts []time.Duration
	for i := 0; i < 3; i++ {
		r.advance(5 * time.Second)
		starts = append(starts, r.wait("monitor-start").Time.Sub(epoch))
		r.wait("monitor-done")
	}
	if want := []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second}; !slices.Equal(starts, want) {
		t.Errorf("runs at %v, want %v", starts, want)
	}
}

// TestStartReportsWhenDue: a run reports when it fell due, so lateness
// (Time − Due) can be measured; a manual run is due at once.
func TestStartReportsWhenDue(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 5s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	r.advance(5*time.Second + 300*time.Millisecond) // the clock jumps past the due time
	e := r.wait("monitor-start")
	if !e.Due.Equal(epoch.Add(5*time.Second)) || e.Time.Sub(e.Due) != 300*time.Millisecond {
		t.Errorf("due %v, started %v: want due at 5s and 300ms late", e.Due.Sub(epoch), e.Time.Sub(epoch))
	}
	r.wait("monitor-done")
	if err := r.s.TestMonitor("g", "s"); err != nil {
		t.Fatal(err)
	}
	r.advance(0)
	if e := r.wait("monitor-start"); !e.Due.Equal(e.Time) {
		t.Errorf("manual run due %v, started %v: want no lateness", e.Due.Sub(epoch), e.Time.Sub(epoch))
	}
}

func TestNoOverlappingRuns(t *testing.T) {
	slow := answer(0, "done\n").gated()
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 1s
        monitor slow.monitor
`, map[string]any{"slow.monitor": slow})
	r.advance(time.Second)
	r.wait("monitor-start")
	// The next slots pass while the run is still going: no second run.
	r.advance(time.Second)
	r.advance(time.Second)
	r.none("monitor-start")
	r.release(slow)
	r.wait("monitor-done")
	// The slots at 2s and 3s were missed: they are skipped, and the next
	// run keeps to the grid at 4s.
	r.advance(time.Second)
	if e := r.wait("monitor-start"); !e.Time.Equal(epoch.Add(4 * time.Second)) {
		t.Errorf("run after the overrun at %v, want start+4s", e.Time.Sub(epoch))
	}
	r.release(slow)
	r.wait("monitor-done")
	r.mu.Lock()
	defer r.mu.Unlock()
	running := 0
	for _, e := range r.log {
		switch e.Kind {
		case "monitor-start":
			running++
		case "monitor-done":
			running--
		}
		if running > 1 {
			t.Fatal("two runs of one service at once")
		}
	}
}

func TestMaxprocsQueuesInsteadOfDropping(t *testing.T) {
	slow := answer(0, "").gated()
	r := newRig(t, `
maxprocs = 1
hostgroup g h1

watch g
    service a
        interval 10s
        monitor slow.monitor
    service b
        interval 10s
        monitor slow.monitor
`, map[string]any{"slow.monitor": slow})
	r.advance(10*time.Second + phaseStep) // b's phase is one step after a's
	first := r.wait("monitor-start")
	r.none("monitor-start")
	r.release(slow)
	r.wait("monitor-done")
	second := r.wait("monitor-start")
	if first.Service == second.Service {
		t.Errorf("same service started twice: %s", first.Service)
	}
	r.release(slow)
	r.wait("monitor-done")
}

func TestFailureRunsAlertWithMonArgvStdinAndEnv(t *testing.T) {
	r := newRig(t, `
hostgroup g h1 h2

watch g
    service s
        description the service
        X_VAR=hello world
        interval 10s
        monitor fail.monitor -x "a b"
        period wd {Sun-Sat}
            alert rec.alert arg1 "arg 2"
`, map[string]any{
		"fail.monitor": `echo "args:$*" > "$(dirname "$0")/../monargs"; echo "h1 h2 failed"; echo "detail line"; exit 3` + "\n",
		"rec.alert":    `d="$(dirname "$0")/.."; for a in "$@"; do echo "[$a]"; done > "$d/argv"; env | grep -E '^(MON_|X_)' | sort > "$d/env"; cat > "$d/stdin"` + "\n",
	})
	r.advance(10 * time.Second)
	r.wait("alert")
	r.stop() // waits for the alert program
	if got := r.read("monargs"); got != "args:-x a b h1 h2\n" {
		t.Errorf("monitor argv %q", got)
	}
	ts := epoch.Add(10 * time.Second).Unix()
	wantArgv := fmt.Sprintf("[-s]\n[s]\n[-g]\n[g]\n[-h]\n[h1 h2]\n[-t]\n[%d]\n[arg1]\n[arg 2]\n", ts)
	if got := r.read("argv"); got != wantArgv {
		t.Errorf("alert argv:\n%s\nwant:\n%s", got, wantArgv)
	}
	if got := r.read("stdin"); got != "h1 h2 failed\ndetail line\n" {
		t.Errorf("alert stdin %q", got)
	}
	env := r.read("env")
	for _, want := range []string{
		"MON_ALERTTYPE=failure", "MON_GROUP=g", "MON_SERVICE=s", "MON_RETVAL=3", "MON_OPSTATUS=0",
		"MON_DESCRIPTION=the service", fmt.Sprintf("MON_FIRST_FAILURE=%d", ts), fmt.Sprintf("MON_LAST_FAILURE=%d", ts),
		"MON_LAST_SUCCESS=0", "MON_FIRST_SUCCESS=", "MON_LAST_SUMMARY=h1 h2 failed", "X_VAR=hello world",
		"MON_STATEDIR=" + filepath.Join(r.dir, "state"), "MON_LOGDIR=" + filepath.Join(r.dir, "log"), "MON_CFBASEDIR=" + r.dir,
	} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("alert env lacks %q:\n%s", want, env)
		}
	}
	if strings.Contains(env, "MON_LAST_OUTPUT") {
		t.Errorf("MON_LAST_OUTPUT present on the first event:\n%s", env)
	}
	hist := r.s.AlertHistory()
	wantHist := fmt.Sprintf("alert g s %d %s (arg1 \"arg 2\") h1 h2 failed", ts, filepath.Join(r.dir, "alert.d", "rec.alert"))
	if len(hist) != 1 || hist[0] != wantHist {
		t.Errorf("alert history %q, want %q", hist, wantHist)
	}
	if fh := r.s.FailureHistory(); len(fh) != 1 || fh[0] != fmt.Sprintf("g s %d h1 h2 failed", ts) {
		t.Errorf("failure history %q", fh)
	}
}

func TestTrapRoutingAndDefaultService(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

hostgroup default d

watch g
    service t
        period
            alert rec.alert

watch default
    service default
        period
            alert rec.alert
`, map[string]any{"rec.alert": rec})
	if err := r.s.Trap(TrapEvent{From: "127.0.0.1", Group: "g", Service: "t", Status: "1", Summary: "sum", Detail: "dtl"}); err != nil {
		t.Fatal(err)
	}
	st := r.status("g", "t")
	if st.State.OpStatus != decide.Fail || st.State.LastDetail != "\ndtl" || st.State.LastTrap() != epoch.Unix() {
		t.Errorf("after a failing trap: %+v", st.State)
	}
	// Known group, unknown service: dropped even though default/default exists.
	if err := r.s.Trap(TrapEvent{Group: "g", Service: "nosuch", Status: "1"}); err == nil ||
		err.Error() != "trap received for undefined service type g/nosuch" {
		t.Errorf("trap for an unknown service of a known group: %v", err)
	}
	if err := r.s.Trap(TrapEvent{Group: "nogroup", Service: "nosvc", Status: "2", Summary: "x"}); err != nil {
		t.Fatal(err)
	}
	// The alerts of the two traps run concurrently: tell them apart by
	// group. Only the rerouted one says where the trap was meant to go.
	byGroup := map[string]alerts.Event{}
	for range 2 {
		ev := r.sent(rec)
		byGroup[ev.Group] = ev
	}
	if v, ok := envOf(byGroup["g"].Env, "MON_TRAP_INTENDED"); ok {
		t.Errorf("trap for its own service has MON_TRAP_INTENDED=%s", v)
	}
	if v, _ := envOf(byGroup["default"].Env, "MON_TRAP_INTENDED"); v != "nogroup:nosvc" {
		t.Errorf("rerouted trap MON_TRAP_INTENDED=%q, want nogroup:nosvc (alerts %+v)", v, byGroup)
	}
}

func TestTrapTimeoutHeartbeat(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service hb
        traptimeout 30s
        period
            alert rec.alert
`, map[string]any{"rec.alert": rec})
	r.advance(20 * time.Second)
	r.s.Trap(TrapEvent{Group: "g", Service: "hb", Status: "0"})
	r.advance(20 * time.Second) // 40s: the trap at 20s re-armed the timer
	r.none("alert")
	r.advance(10 * time.Second) // 50s = last trap + 30s
	r.wait("alert")
	ev := r.sent(rec)
	if got := ev.Argv(); !slices.Contains(got, "-O") {
		t.Errorf("trap timeout alert argv %q lacks -O", got)
	}
	if got := string(ev.Input); !strings.HasPrefix(got, "trap timeout\ntrap timeout after 30s at ") {
		t.Errorf("trap timeout output %q", got)
	}
}

// A stop freezes the trap timers too (kept apart from the run timers,
// which most services alone have): the time left runs on after a start.
func TestStopFreezesTrapTimeout(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service hb
        traptimeout 30s
        period
            alert rec.alert
`, map[string]any{"rec.alert": rec})
	r.advance(20 * time.Second)
	r.s.Stop()
	r.advance(60 * time.Second)
	r.s.Start()
	r.advance(9 * time.Second) // 10 s remained when stopped
	r.none("alert")
	r.advance(time.Second)
	r.wait("alert")
}

func TestStopFreezesTimersAndDropsAlerts(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	r.advance(4 * time.Second)
	r.s.Stop()
	r.advance(60 * time.Second)
	r.none("monitor-start")
	r.s.Start()
	r.advance(5 * time.Second) // 6 s of the interval remained when stopped
	r.none("monitor-start")
	r.advance(time.Second)
	r.wait("monitor-start")
}

func TestResetWithBadConfigKeepsRunningConfig(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	r.s.opts.Reload = func() (*config.Config, error) { return nil, fmt.Errorf("bad config") }
	if err := r.s.Reset(ResetOptions{}); err == nil {
		t.Fatal("reset with a bad config succeeded")
	}
	if st := r.status("g", "s"); st.State.OpStatus != decide.OK {
		t.Errorf("state lost after a rejected reset: %v", st.State.OpStatus)
	}
	r.advance(10 * time.Second)
	r.wait("monitor-start")
}

func TestDisableHostRemovesItFromMonitorArgs(t *testing.T) {
	args := okMonitor()
	r := newRig(t, `
hostgroup g h1 h2 h3

watch g
    service s
        interval 10s
        exclude_hosts h3
        monitor args.monitor
`, map[string]any{"args.monitor": args})
	if missing := r.s.DisableHosts([]string{"h1", "nosuch"}); !slices.Equal(missing, []string{"nosuch"}) {
		t.Errorf("missing %q", missing)
	}
	if missing := r.s.DisableHosts([]string{"h1"}); missing != nil {
		t.Fatal(missing)
	}
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	if req := r.request(args); !slices.Equal(req.Hosts, []string{"h2"}) || len(req.Args) != 0 {
		t.Errorf("monitor args %q hosts %q, want only h2 (h1 disabled, h3 excluded)", req.Args, req.Hosts)
	}
	if m, _ := r.s.GroupMembers("g"); !slices.Equal(m, []string{"*h1", "h2", "h3"}) {
		t.Errorf("group members %q", m)
	}
	if b, err := os.ReadFile(filepath.Join(r.dir, "state", "disabled")); err != nil || string(b) != "disable host h1\n" {
		t.Errorf("disabled state file %q, %v", b, err)
	}
}

func TestSaveAndLoadOpstatus(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor fail.monitor
        period
            alert rec.alert
`, map[string]any{"fail.monitor": answer(1, "broken\n"), "rec.alert": recorder()})
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	if err := r.s.SaveState("all"); err != nil {
		t.Fatal(err)
	}
	r.s.mu.Lock()
	r.s.load(r.s.cfg, r.clk.Now())
	r.s.mu.Unlock()
	if st := r.status("g", "s"); st.State.OpStatus != decide.Untested {
		t.Fatalf("fresh load kept status %v", st.State.OpStatus)
	}
	if err := r.s.LoadState("opstatus"); err != nil {
		t.Fatal(err)
	}
	st := r.status("g", "s")
	if st.State.OpStatus != decide.Fail || st.State.LastSummary != "broken" || st.AlertsSent != 1 {
		t.Errorf("restored state: status %v summary %q alerts_sent %d", st.State.OpStatus, st.State.LastSummary, st.AlertsSent)
	}
}

// After a state load mon exports the saved fields that were never set
// (first_failure before a failure, first_success always, last_summary
// before a run) as empty variables, since it loads every field as it is
// (conformance scenario env_after_loadstate).
func TestEmptyVariablesAfterStateLoad(t *testing.T) {
	m := okMonitor()
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
`, map[string]any{"ok.monitor": m})
	if err := r.s.SaveState("opstatus"); err != nil {
		t.Fatal(err)
	}
	if err := r.s.LoadState("opstatus"); err != nil {
		t.Fatal(err)
	}
	r.advance(10 * time.Second)
	env := r.request(m).Env
	for _, name := range []string{"MON_FIRST_FAILURE", "MON_FIRST_SUCCESS", "MON_LAST_SUMMARY"} {
		if v, ok := envOf(env, name); !ok || v != "" {
			t.Errorf("%s = %q (set %v), want set and empty", name, v, ok)
		}
	}
	r.wait("monitor-done")
	// The success assigns first_failure (0); first_success stays empty.
	r.advance(10 * time.Second)
	env = r.request(m).Env
	if v, _ := envOf(env, "MON_FIRST_FAILURE"); v != "0" {
		t.Errorf("MON_FIRST_FAILURE after a success = %q, want 0", v)
	}
	if v, ok := envOf(env, "MON_FIRST_SUCCESS"); !ok || v != "" {
		t.Errorf("MON_FIRST_SUCCESS after a success = %q (set %v), want set and empty", v, ok)
	}
}

func TestHugeOutputDoesNotBreakTheNextRun(t *testing.T) {
	// 300 kB of output: mon's next exec fails with E2BIG because the
	// whole output goes into MON_LAST_OUTPUT.
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor big.monitor
`, map[string]any{"big.monitor": `echo "run"; head -c 300000 /dev/zero | tr '\0' x; echo; echo "${#MON_LAST_OUTPUT}" > "$(dirname "$0")/../lastlen"` + "\n"})
	for i := 0; i < 2; i++ {
		r.advance(10 * time.Second)
		if e := r.wait("monitor-done"); e.Exit != 0 {
			t.Fatalf("run %d exited %d", i+1, e.Exit)
		}
	}
	// The state keeps the clipped output (decide.MaxDetail), well under
	// the kernel's limit for one variable.
	if n, _ := strconv.Atoi(strings.TrimSpace(r.read("lastlen"))); n < decide.MaxDetail || n > decide.MaxSummary+decide.MaxDetail+1 {
		t.Errorf("MON_LAST_OUTPUT length %d in the second run", n)
	}
}

func TestStoppingTheDaemonSendsNoAlertForKilledMonitors(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor hang.monitor
        period
            alert rec.alert
`, map[string]any{"hang.monitor": "sleep 60\n", "rec.alert": rec})
	r.advance(10 * time.Second)
	r.wait("monitor-start")
	r.stop()
	r.none("alert")
	select {
	case ev := <-rec.sent:
		t.Errorf("alert sent for a monitor killed at shutdown: %+v", ev)
	default:
	}
	if st := r.status("g", "s"); st.State.OpStatus != decide.Untested || len(r.s.FailureHistory()) != 0 {
		t.Errorf("a monitor killed at shutdown counted: status %v, failures %q", st.State.OpStatus, r.s.FailureHistory())
	}
}

func TestServicesOfOneIntervalAreStaggered(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service a
        interval 10s
        monitor ok.monitor
    service b
        interval 10s
        monitor ok.monitor
    service c
        interval 5s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	// Each step waits for the runs it started to end, so that the next
	// runs are armed before the clock moves on.
	r.advance(5 * time.Second)
	r.wait("monitor-done")
	r.advance(5 * time.Second)
	r.wait("monitor-done")
	r.wait("monitor-done")
	r.advance(phaseStep)
	r.wait("monitor-done")
	want := []string{"a@10s", "b@10.001s", "c@10s", "c@5s"}
	if got := r.starts(); !slices.Equal(got, want) {
		t.Errorf("runs %q, want %q", got, want)
	}
}

func TestCronSchedule(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        schedule */5 * * * *
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	// epoch is 12:00:00: the runs are at 12:05 and 12:10.
	r.advance(4 * time.Minute)
	r.none("monitor-start")
	r.advance(time.Minute)
	if e := r.wait("monitor-start"); !e.Time.Equal(epoch.Add(5 * time.Minute)) {
		t.Errorf("first run at %v", e.Time.Sub(epoch))
	}
	r.wait("monitor-done")
	r.advance(5 * time.Minute)
	if e := r.wait("monitor-start"); !e.Time.Equal(epoch.Add(10 * time.Minute)) {
		t.Errorf("second run at %v", e.Time.Sub(epoch))
	}
}

func TestExcludePeriodHoldsTheRunBack(t *testing.T) {
	// epoch is 12:00 UTC; the fake clock's times are UTC.
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        exclude_period hr {12}
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	r.advance(10 * time.Second)
	r.none("monitor-start")
	r.advance(time.Hour) // 13:00:10: outside; the due run starts within a second
	r.advance(time.Second)
	if e := r.wait("monitor-start"); e.Time.Hour() != 13 {
		t.Errorf("run at %v, inside the excluded hour", e.Time)
	}
}

func TestRandstartAndRandskewStayInBounds(t *testing.T) {
	r := newRig(t, `
randstart = 20s
hostgroup g h1

watch g
    service s
        interval 30s
        randskew 5s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	// Step one second at a time: an event's time is when its timer fired.
	// A run's end is awaited before the clock moves on, as randskew
	// counts from it.
	startAfter := func(limit time.Duration) time.Time {
		t.Helper()
		for step := time.Duration(0); step < limit; step += time.Second {
			r.advance(time.Second)
			if e, ok := r.take("monitor-start"); ok {
				r.wait("monitor-done")
				return e.Time
			}
		}
		t.Fatalf("no run within %v", limit)
		return time.Time{}
	}
	first := startAfter(20 * time.Second)
	if first.Sub(epoch) > 20*time.Second {
		t.Fatalf("first run at %v, outside randstart", first.Sub(epoch))
	}
	gap := startAfter(36 * time.Second).Sub(first)
	if gap < 25*time.Second || gap > 35*time.Second || gap == 30*time.Second {
		t.Errorf("gap %v, want 30s ± 1..5s", gap)
	}
}

func TestMonitorTimeoutIsAFailure(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor_timeout 0.3s
        monitor hang.monitor
        period
            alert rec.alert
`, map[string]any{"hang.monitor": "echo started\nsleep 30\n", "rec.alert": rec})
	r.advance(10 * time.Second)
	if e := r.wait("monitor-done"); e.Exit == 0 {
		t.Errorf("a timed-out monitor exited 0")
	}
	if got := string(r.sent(rec).Input); !strings.HasPrefix(got, "started\n") {
		t.Errorf("alert input %q: the monitor's own output should be kept", got)
	}
	if st := r.status("g", "s"); st.State.OpStatus != decide.Fail {
		t.Errorf("status %v", st.State.OpStatus)
	}
}

// TestUnstartableAlertIsNotCountedAsSent: the decision engine and
// dispatch read one table of resolved alert lines, so a line whose
// built-in rejects its arguments is neither counted as sent nor recorded,
// while a good line of the same period is.
func TestUnstartableAlertIsNotCountedAsSent(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service bad
        interval 10s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert mail.alert --bogus root
    service good
        interval 10s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert file.alert -d DIR/log alerts.log
`, map[string]any{"fail.monitor": answer(1, "h1 failed\n")})
	r.advance(11 * time.Second) // the second service's phase is 1 ms later
	r.wait("monitor-done")
	r.wait("monitor-done")
	if st := r.status("g", "bad").State; st.Periods[0].AlertSent != 0 || st.AlertCount != 0 {
		t.Errorf("bad line counted as sent: alert_sent=%d alerts=%d", st.Periods[0].AlertSent, st.AlertCount)
	}
	trace, _ := r.s.Trace("g", "bad")
	for _, tr := range trace {
		if tr.Sent {
			t.Errorf("trace says sent: %+v", tr)
		}
	}
	if st := r.status("g", "good").State; st.Periods[0].AlertSent != 1 {
		t.Errorf("good line: alert_sent=%d, want 1", st.Periods[0].AlertSent)
	}
	if hist := r.s.AlertHistory(); len(hist) != 1 || !strings.Contains(hist[0], "alert g good ") {
		t.Errorf("alert history %q, want only the good line", hist)
	}
}

// Timers re-armed over and over (every run arms and disarms its overdue
// and timeout timers) do not pile up stale heap entries, and the current
// one still fires when due.
func TestStaleTimersAreCompacted(t *testing.T) {
	r := newRig(t, "hostgroup g h1\n\nwatch g\n    service s\n        interval 10s\n        monitor ok.monitor\n",
		map[string]any{"ok.monitor": okMonitor()})
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	svc := s.watchIdx.service("g", "s")
	now := s.clk.Now()
	for i := range 100 * compactAt {
		s.arm(svc, tOverdue, now.Add(time.Hour+time.Duration(i)))
	}
	if n := len(s.timers); n > 2*compactAt+10 {
		t.Errorf("%d heap entries after re-arming one timer %d times", n, 100*compactAt)
	}
	want := now.Add(time.Hour + time.Duration(100*compactAt-1))
	if got := svc.dueAt(tOverdue).Time(); !got.Equal(want) {
		t.Errorf("overdue due %v, want %v", got, want)
	}
	live := 0
	for _, e := range s.timers {
		if s.liveTimer(e) {
			live++
		}
	}
	if armed := 2; live != armed { // the run timer and the overdue timer
		t.Errorf("%d live entries, want %d", live, armed)
	}
}
