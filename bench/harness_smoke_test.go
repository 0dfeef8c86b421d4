package bench

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
)

// TestHarness checks the measuring tools quickly (no daemon, no timing
// assertions), so `make test` notices when the benchmark rots.
func TestHarness(t *testing.T) {
	stampBin := filepath.Join(t.TempDir(), "stamp")
	if err := buildStamp(stampBin); errors.Is(err, errNoCC) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	w := newWorkDir(t, tools{stamp: stampBin})

	before := time.Now()
	if out, err := exec.Command(w.path("mon.d/bench.monitor"), "h1").CombinedOutput(); err != nil || string(out) != "ok\n" {
		t.Fatalf("bench.monitor: %v, output %q", err, out)
	}
	if err := os.WriteFile(w.path("flag"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(w.path("mon.d/flag.monitor"), "t1").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || string(out) != "flag present\n" {
		t.Fatalf("flag.monitor with flag: %v, output %q; want exit 1, \"flag present\"", err, out)
	}
	stamps, err := readStamps(w.path("runs.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(stamps) != 2 || stamps[0].label != "h1" || stamps[0].failed || stamps[1].label != "t1" || !stamps[1].failed {
		t.Fatalf("runs.log = %+v", stamps)
	}
	if stamps[0].at.Before(before.Add(-time.Second)) || stamps[0].at.After(time.Now().Add(time.Second)) {
		t.Errorf("stamp time %v is not the wall clock (%v)", stamps[0].at, before)
	}

	cmd := exec.Command(w.path("alert.d/fail.alert"), "-s", "flag", "-g", "target")
	cmd.Stdin = strings.NewReader("monitor output\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fail.alert: %v: %s", err, out)
	}
	alerts, err := readStamps(w.path("alerts.log"))
	if err != nil || len(alerts) != 1 || alerts[0].label != "failure" {
		t.Fatalf("alerts.log = %+v, %v", alerts, err)
	}

	rate, cpu, err := spawnCeiling(context.Background(), w.path("mon.d/bench.monitor"), 2, 200*time.Millisecond)
	if err != nil || rate <= 0 || cpu < 0 {
		t.Fatalf("spawnCeiling = %v, %v, %v", rate, cpu, err)
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Error(err)
	}
	if rss, err := rssKiB(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("rssKiB = %d, %v", rss, err)
	}
}

func TestGaps(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	g := gaps(map[string][]time.Time{
		"a": at(2000, 0, 1000, 3005), // unsorted on purpose
		"b": at(0, 1020),
		"c": at(500), // ran once: not covered, no gap
	}, time.Second, 10*time.Millisecond)
	if g.n != 4 || g.covered != 2 {
		t.Fatalf("n=%d covered=%d, want 4 and 2", g.n, g.covered)
	}
	if g.p50 != time.Second || g.max != 1020*time.Millisecond || g.devP99 != 20*time.Millisecond {
		t.Errorf("p50=%v max=%v devP99=%v", g.p50, g.max, g.devP99)
	}
	if g.within != 0.75 {
		t.Errorf("within = %v, want 0.75", g.within)
	}
	if p := percentile([]int{1, 2, 3, 4}, 0.5); p != 2 {
		t.Errorf("percentile 0.5 = %d, want 2", p)
	}
	if p := percentile([]int{1, 2, 3, 4}, 0.99); p != 4 {
		t.Errorf("percentile 0.99 = %d, want 4", p)
	}
}

func TestParseStamp(t *testing.T) {
	st, err := parseStamp("h00001 1700000000.000000123 ok")
	if err != nil || st.label != "h00001" || st.failed || !st.at.Equal(time.Unix(1700000000, 123)) {
		t.Errorf("parseStamp = %+v, %v", st, err)
	}
	for _, bad := range []string{"", "h1", "h1 x.y ok", "h1 1.2 ok extra"} {
		if _, err := parseStamp(bad); err == nil {
			t.Errorf("parseStamp(%q) succeeded", bad)
		}
	}
}

// TestRefsched runs the reference scheduler briefly: every service runs
// once a second, one interval after start, and SIGTERM ends it.
func TestRefsched(t *testing.T) {
	dir := t.TempDir()
	tl := tools{stamp: filepath.Join(dir, "stamp"), refsched: filepath.Join(dir, "refsched")}
	if err := buildStamp(tl.stamp); errors.Is(err, errNoCC) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	if err := buildC(tl.refsched, "testdata/refsched.c", "-Wall", "-Werror"); err != nil {
		t.Fatal(err)
	}
	w := newWorkDir(t, tl)
	hosts := []string{"h00001", "h00002", "h00003"}
	started := time.Now()
	d := startRefsched(t, tl, w, len(hosts))
	// Each service's second run is awaited as the monitors log it.
	byHost := func(stamps []stamp) map[string][]time.Time {
		m := map[string][]time.Time{}
		for _, st := range stamps {
			m[st.label] = append(m[st.label], st.at)
		}
		return m
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := await.Change(ctx, []string{string(w)}, func() bool {
		stamps, err := readStamps(w.path("runs.log"))
		if err != nil {
			t.Fatal(err)
		}
		m := byHost(stamps)
		for _, h := range hosts {
			if len(m[h]) < 2 {
				return false
			}
		}
		return true
	})
	d.stop()
	if err != nil {
		t.Fatalf("not every service ran twice: %v", err)
	}
	if !d.cmd.ProcessState.Success() {
		t.Errorf("refsched did not exit cleanly on SIGTERM: %v", d.cmd.ProcessState)
	}
	stamps, err := readStamps(w.path("runs.log"))
	if err != nil {
		t.Fatal(err)
	}
	// Runs at ~1 s and ~2 s after start, and no more before the stop.
	m := byHost(stamps)
	for _, h := range hosts {
		runs := m[h]
		if len(runs) != 2 {
			t.Errorf("%s ran %d times, want 2 (runs.log: %+v)", h, len(runs), stamps)
			continue
		}
		if first, gap := runs[0].Sub(started), runs[1].Sub(runs[0]); first < 500*time.Millisecond ||
			first > 1500*time.Millisecond || gap < 500*time.Millisecond || gap > 1500*time.Millisecond {
			t.Errorf("%s ran %v after start and again %v later, want about 1 s each", h, first, gap)
		}
	}
}
