package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
)

// flipMonitor fails while DIR/down exists.
const flipMonitor = `if [ -e DIR/down ]; then echo "h1 h2 failed"; echo "detail 1"; exit 1; fi
echo "all fine"; exit 0`

// recAlert records its argv, stdin and environment, NUL separated, then
// marks the record complete.
const recAlert = `out=DIR/out/$MON_ALERTTYPE.$$
printf '%s\0' "$@" > $out.argv
cat > $out.stdin
env -0 > $out.env
touch $out.done`

// alertRecord is what recAlert saw.
type alertRecord struct {
	pid   int // of the alert program
	argv  []string
	stdin string
	env   map[string]string
}

// waitAlert waits for the first recorded alert of type typ.
func (d *monDir) waitAlert(typ string) alertRecord {
	d.t.Helper()
	var base string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := await.Change(ctx, []string{d.path("out")}, func() bool {
		m, _ := filepath.Glob(d.path("out/" + typ + ".*.done"))
		if len(m) > 0 {
			base = strings.TrimSuffix(m[0], ".done")
		}
		return base != ""
	})
	if err != nil {
		d.t.Fatalf("waiting for a %s alert: %v", typ, err)
	}
	read := func(ext string) string {
		b, err := os.ReadFile(base + ext)
		if err != nil {
			d.t.Fatal(err)
		}
		return string(b)
	}
	pid, _ := strconv.Atoi(filepath.Ext(base)[1:])
	r := alertRecord{
		pid:   pid,
		argv:  strings.Split(strings.TrimSuffix(read(".argv"), "\x00"), "\x00"),
		stdin: read(".stdin"),
		env:   map[string]string{},
	}
	for _, kv := range strings.Split(strings.TrimSuffix(read(".env"), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		r.env[k] = v
	}
	return r
}

// checkAlertTime checks the -t argument: a unix time between from and now.
func checkAlertTime(t *testing.T, argv []string, from time.Time) {
	t.Helper()
	i := slices.Index(argv, "-t")
	if i < 0 || i+1 >= len(argv) {
		t.Fatalf("no -t in %q", argv)
	}
	ts, err := strconv.ParseInt(argv[i+1], 10, 64)
	if err != nil || ts < from.Unix() || ts > time.Now().Unix() {
		t.Errorf("-t %q is not a time since the start", argv[i+1])
	}
	argv[i+1] = "T"
}

// TestAlertInterface runs a failing shell monitor and checks argv, stdin
// and environment of the failure alert and the upalert end to end
// (scheduling-and-alerts.md §10).
func TestAlertInterface(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/flip.monitor", flipMonitor)
	d.script("alert.d/rec.alert", recAlert)
	d.write("down", "", 0o644)
	cf := d.config(`
hostgroup g1 h1 h2 h3

watch g1
    service s1
        description first service
        interval 1s
        monitor flip.monitor
        TESTVAR=hello world
        period wd {Sun-Sat}
            alert rec.alert arg1 "arg 2"
            upalert rec.alert -U up
            alertevery 1h
`)
	start := time.Now()
	p := d.start([]string{"GOMON_TEST_MARK=daemon env"}, "-c", cf)

	fail := d.waitAlert("failure")
	checkAlertTime(t, fail.argv, start)
	if want := []string{"-s", "s1", "-g", "g1", "-h", "h1 h2 h3", "-t", "T", "arg1", "arg 2"}; !slices.Equal(fail.argv, want) {
		t.Errorf("failure argv\n got %q\nwant %q", fail.argv, want)
	}
	if want := "h1 h2 failed\ndetail 1\n"; fail.stdin != want {
		t.Errorf("failure stdin %q, want %q", fail.stdin, want)
	}
	failTime := fail.env["MON_LAST_FAILURE"]
	wantEnv := map[string]string{
		"MON_ALERTTYPE":     "failure",
		"MON_GROUP":         "g1",
		"MON_SERVICE":       "s1",
		"MON_RETVAL":        "1",
		"MON_OPSTATUS":      "0",
		"MON_LAST_SUMMARY":  "h1 h2 failed",
		"MON_FIRST_FAILURE": failTime,
		"MON_LAST_FAILURE":  failTime,
		"MON_LAST_SUCCESS":  "0",
		"MON_FIRST_SUCCESS": "",
		"MON_DESCRIPTION":   "first service",
		"MON_STATEDIR":      d.path("state"),
		"MON_LOGDIR":        d.path("log"),
		"MON_CFBASEDIR":     d.dir,
		"TESTVAR":           "hello world",
		"GOMON_TEST_MARK":   "daemon env",
	}
	checkEnv(t, "failure", fail.env, wantEnv, "MON_LAST_OUTPUT", "MON_ACK", "MON_DEPEND_STATUS", "MON_TRAP_INTENDED")
	if ts, err := strconv.ParseInt(failTime, 10, 64); err != nil || ts < start.Unix() {
		t.Errorf("MON_LAST_FAILURE=%q", failTime)
	}

	os.Remove(d.path("down"))
	up := d.waitAlert("up")
	checkAlertTime(t, up.argv, start)
	if want := []string{"-s", "s1", "-g", "g1", "-h", "h1 h2 h3", "-t", "T", "-u", "-U", "up"}; !slices.Equal(up.argv, want) {
		t.Errorf("upalert argv\n got %q\nwant %q", up.argv, want)
	}
	if want := "h1 h2 failed\ndetail 1\n"; up.stdin != want {
		t.Errorf("upalert stdin %q, want %q (the last failing output)", up.stdin, want)
	}
	wantEnv["MON_ALERTTYPE"] = "up"
	wantEnv["MON_RETVAL"] = "0"
	wantEnv["MON_OPSTATUS"] = "1"
	// mon calls the upalert before it records the success and clears
	// the failure times: MON_LAST_SUCCESS is still 0.
	wantEnv["MON_LAST_OUTPUT"] = "h1 h2 failed\ndetail 1\n" // the previous event's output
	checkEnv(t, "upalert", up.env, wantEnv, "MON_ACK", "MON_DEPEND_STATUS")

	// No alert or monitor child is left unreaped while mon runs. The
	// upalert's program has ended first (its pid names its record). A
	// child that has just exited is a zombie for a moment, so only a
	// zombie that stays counts: each one seen must go within 10 s.
	waitExit(t, up.pid)
	for _, z := range zombieChildren(p.cmd.Process.Pid) {
		waitUntil(t, 10*time.Second, fmt.Sprintf("zombie child %d of mon to be reaped", z), func() bool {
			return !slices.Contains(zombieChildren(p.cmd.Process.Pid), z)
		})
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 1 {
		t.Errorf("exit status after SIGTERM: %d, want 1", code)
	}
	if _, err := os.Stat(d.path("mon.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// checkEnv compares the MON_ variables (and the listed others) exactly:
// every wanted one present with its value, absent ones absent, no
// unexpected MON_ variable.
func checkEnv(t *testing.T, what string, got, want map[string]string, absent ...string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: %s=%q (present %v), want %q", what, k, g, ok, v)
		}
	}
	for _, k := range absent {
		if v, ok := got[k]; ok {
			t.Errorf("%s: %s=%q should be absent", what, k, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; strings.HasPrefix(k, "MON_") && !ok && !slices.Contains(absent, k) && k != "MON_LAST_OUTPUT" {
			t.Errorf("%s: unexpected %s=%q", what, k, got[k])
		}
	}
}

// TestReset: SIGHUP re-reads the configuration and keeps the state
// (reset keepstate); a broken configuration leaves the running one and
// its state alone.
func TestReset(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/flip.monitor", flipMonitor)
	d.write("down", "", 0o644)
	cf := d.config(`
hostgroup g1 h1

watch g1
    service s1
        interval 1s
        monitor flip.monitor
`)
	p := d.start(nil, "-c", cf)
	before := p.waitStatus("g1/s1", "fail")
	if r := p.command("disable service g1 s1"); !strings.HasPrefix(r, "220") {
		t.Fatalf("disable service: %q", r)
	}

	// A valid new configuration: s1 now runs hourly (so its state can
	// only come from before the reset), and a new service s2.
	d.config(`
hostgroup g1 h1

watch g1
    service s1
        interval 1h
        monitor flip.monitor
    service s2
        interval 1s
        monitor flip.monitor
`)
	p.signal(syscall.SIGHUP)
	p.waitFor("resetting, and re-reading configuration")
	s2 := p.waitStatus("g1/s2", "fail")
	s1 := p.services()["g1/s1"]
	if s1.Status != "fail" || s1.Summary != "h1 h2 failed" || !s1.Disabled || s1.LastFailure != before.LastFailure {
		t.Errorf("state of g1/s1 not kept over SIGHUP: %+v (before: %+v)", s1, before)
	}

	// A broken configuration: logged, and nothing changes.
	d.write("mon.cf", "watch g1\n    service s1\n        interval 5x\n", 0o644)
	p.signal(syscall.SIGHUP)
	p.waitFor("error reading config file")
	// The failed reset's last word: nothing of it comes later.
	p.waitFor("reset on SIGHUP failed")
	after := p.services()
	if len(after) != 2 || after["g1/s1"] != s1 || after["g1/s2"].Status != s2.Status {
		t.Errorf("services changed by a broken reset:\n got %+v\nwant s1 %+v, s2 %+v", after, s1, s2)
	}
	if r := p.command("list opstatus"); !strings.Contains(r, "service=s2") {
		t.Errorf("list opstatus after the broken reset: %q", r)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

// TestTerm: SIGTERM ends mon with status 1, killing the process group of
// a hanging monitor; the `term` command ends it with status 0.
func TestTerm(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/hang.monitor", `echo $$ > DIR/out/hang.pid.tmp && mv DIR/out/hang.pid.tmp DIR/out/hang.pid
sleep 300 &
echo $! > DIR/out/sleep.pid.tmp && mv DIR/out/sleep.pid.tmp DIR/out/sleep.pid
wait`)
	cf := d.config(`
hostgroup g1 h1

watch g1
    service hang
        interval 1s
        monitor hang.monitor
`)
	p := d.start(nil, "-c", cf)
	var pids []int
	for _, f := range []string{"out/hang.pid", "out/sleep.pid"} {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(waitFile(t, d.path(f), nil))))
		pids = append(pids, pid)
	}
	for _, pid := range pids {
		if st := procState(pid); st == "" || st == "Z" {
			t.Fatalf("monitor process %d not running before SIGTERM (%q)", pid, st)
		}
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 1 {
		t.Errorf("exit status after SIGTERM: %d, want 1", code)
	}
	if !strings.Contains(p.out.String(), "caught TERM signal, exiting") {
		t.Error("no 'caught TERM signal, exiting' log line")
	}
	// Killed processes whose parent is gone are reaped by init; a zombie
	// is dead, so only a live process counts as left behind.
	for _, pid := range pids {
		waitExit(t, pid)
	}
	if _, err := os.Stat(d.path("mon.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}

	// The term command: exit status 0.
	d.config(`
hostgroup g1 h1

watch g1
    service s1
        interval 1h
        monitor hang.monitor
`)
	p = d.start(nil, "-c", d.path("mon.cf"))
	p.command("term")
	if code := p.wait(); code != 0 {
		t.Errorf("exit status after term: %d, want 0", code)
	}
}
