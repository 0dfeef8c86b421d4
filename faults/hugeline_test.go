package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hugeLineConfig runs the 10 MB one-line monitor every second, failing,
// with an alert that reads all it is given.
const hugeLineConfig = `hostgroup big 127.0.0.1

watch big
    service huge
        interval 1s
        monitor huge.monitor
        period wd {Sun-Sat}
            alert sink.alert
`

// hugeLine runs a monitor whose whole output is one 10 MB line, every
// second, and checks that the log grows by at most 64 KiB a run and the
// daemon's memory by at most 20 MiB (issue 15, item 4).
func (s *suite) hugeLine(t *testing.T) {
	r := s.newRig(t)
	r.writeFaults(t)
	d := r.start(t, "hugeline", r.config(t, hugeLineConfig), nil)

	warmup := min(max(s.k.hugeLine/10, 3*time.Second), 15*time.Second)
	time.Sleep(warmup)
	runs := func() float64 {
		m, err := d.metrics()
		if err != nil {
			t.Fatal(err)
		}
		return sum(m, "gomon_monitor_runs_total", `service="huge"`)
	}
	runs0, log0 := runs(), d.logSize()+dirSize(r.path("log"))
	var rss []float64
	end := d.started.Add(s.k.hugeLine)
	for time.Now().Before(end) {
		time.Sleep(time.Second)
		u, err := readUsage(d.pid())
		if err != nil {
			t.Fatalf("the huge-line daemon is gone: %v\n%s", err, tail(d.log(), 3000))
		}
		rss = append(rss, float64(u.rssKiB)/1024)
	}
	runs1, log1 := runs(), d.logSize()+dirSize(r.path("log"))
	n := runs1 - runs0
	if n < 1 {
		t.Fatalf("the huge-line monitor did not run (%v runs)", runs1)
	}
	perRun := float64(log1-log0) / n
	s.rep.add(t, "huge line: log growth per run", fmt.Sprintf("%.0f B (%.0f runs in %v)", perRun, n, (s.k.hugeLine-warmup).Round(time.Second)),
		"≤ 64 KiB", perRun <= 64<<10)
	q := max(1, len(rss)/4)
	growth := slices.Max(rss[len(rss)-q:]) - median(rss[:q])
	s.rep.add(t, "huge line: RSS growth", fmt.Sprintf("%+.1f MiB (%.1f → peak %.1f MiB)", growth, median(rss[:q]), slices.Max(rss)),
		"≤ 20 MiB", growth <= 20)

	data, final, err := d.command("list opstatus")
	rec := 0
	for _, l := range data {
		if strings.Contains(l, "service=huge ") {
			rec = len(l)
		}
	}
	s.rep.add(t, "huge line: its list opstatus record", fmt.Sprintf("%d B", rec), "≤ 72 KiB", err == nil && strings.HasPrefix(final, "220") && rec > 0 && rec <= 72<<10)
	_, final, err = d.command("savestate opstatus")
	st, serr := os.Stat(r.path("state/opstatus"))
	size := int64(-1)
	if serr == nil {
		size = st.Size()
	}
	s.rep.add(t, "huge line: its state file", fmt.Sprintf("%d B", size), "≤ 144 KiB", err == nil && strings.HasPrefix(final, "220") && size >= 0 && size <= 144<<10)
}

// dirSize is the total size of the files in dir.
func dirSize(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}
