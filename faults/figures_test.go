package faults

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The suite's own arithmetic, checked quickly (no daemon), so that a
// figure in the table cannot rot unnoticed.

func TestHealthyLateness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stamps.log")
	from := time.Unix(1000, 0)
	var b strings.Builder
	// h1 every second with a 4 ms late run and a missed one; h7 every
	// half second, on time; stamps before from are ignored.
	for i, off := range []float64{0.010, 0.011, 0.014, 0.010, -1, 0.010} {
		if off >= 0 {
			fmt.Fprintf(&b, "h1 %.6f\n", 1000+float64(i)+off)
		}
	}
	for i := range 4 {
		fmt.Fprintf(&b, "h7 %.6f\n", 1000.2+float64(i)*0.5)
	}
	fmt.Fprintf(&b, "h1 %.6f\n", 999.5)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	late, missed, runs := lateness(t, path, from, []string{"h1", "h7"})
	if runs != 9 || missed != 1 {
		t.Errorf("runs %d, missed %d; want 9 and 1", runs, missed)
	}
	var worst float64
	for _, l := range late {
		worst = math.Max(worst, l)
	}
	if math.Abs(worst-0.004) > 1e-5 {
		t.Errorf("worst lateness %v, want 4 ms (%v)", worst, late)
	}
}

func TestGoroutineGrowth(t *testing.T) {
	trace := func(ms int, live, dead int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "SCHED %dms: gomaxprocs=2\n  P0: status=0\n  M0: p=nil\n", ms)
		for i := range live {
			fmt.Fprintf(&b, "  G%d: status=4(select) m=nil lockedm=nil\n", i)
		}
		for i := range dead {
			fmt.Fprintf(&b, "  G%d: status=6() m=nil lockedm=nil\n", 100+i)
		}
		return b.String()
	}
	started := time.Unix(1000, 0)
	log := trace(0, 5, 0) + `time=x level=INFO msg="mon server started"` + "\n" +
		trace(2000, 10, 3) + trace(4000, 10, 9) + trace(6000, 12, 0) + trace(8000, 15, 2) + trace(10000, 90, 0)
	g, first, last, n := goroutineGrowth(log, started, started.Add(time.Second), started.Add(9*time.Second))
	if n != 4 || first != 10 || last != 15 || g != 5 {
		t.Errorf("growth %v (%v → %v, %d traces); want 5 (10 → 15, 4 traces)", g, first, last, n)
	}
}

func TestHistogramP99(t *testing.T) {
	m := map[string]float64{
		`gomon_monitor_start_lateness_seconds_bucket{le="0.001"}`: 90,
		`gomon_monitor_start_lateness_seconds_bucket{le="0.002"}`: 98,
		`gomon_monitor_start_lateness_seconds_bucket{le="0.005"}`: 99,
		`gomon_monitor_start_lateness_seconds_bucket{le="+Inf"}`:  100,
	}
	if got := histogramP99(m); got != "≤ 5 ms (100 runs)" {
		t.Errorf("histogramP99 = %q", got)
	}
}

func TestIncomplete(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= stateServices; i++ {
		fmt.Fprintf(&b, "group=st\tservice=s%02d\top_status=1\tlast_summary=s%02d 1700000000.000001\ttrap_timer=\n", i, i)
	}
	whole := b.String()
	if why := incomplete([]byte(whole)); why != "" {
		t.Errorf("a whole file: %s", why)
	}
	if got := stateStamps([]byte(whole))["s07"]; got != "1700000000.000001" {
		t.Errorf("stamp of s07: %q", got)
	}
	for _, cut := range []int{0, 10, len(whole) / 2, len(whole) - 1} {
		if incomplete([]byte(whole[:cut])) == "" {
			t.Errorf("cut at %d of %d passes as whole", cut, len(whole))
		}
	}
	if incomplete([]byte(strings.Replace(whole, "\ttrap_timer=\n", "\n", 1))) == "" {
		t.Error("a line without its last field passes")
	}
}

func TestJunkLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		l := junkLine(rng)
		word := l
		if i := strings.IndexAny(l, " \t\v\f"); i >= 0 {
			word = l[:i]
		}
		if l == "" || strings.ContainsAny(l, "\r\n") || strings.ToLower(word) == "quit" {
			t.Fatalf("junkLine gave %.80q", l)
		}
	}
}
