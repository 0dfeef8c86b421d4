package scheduler

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
)

// BenchmarkResetKeepState is a SIGHUP at scale without the daemon: the
// load of 100,000 tcp services (10 per watch), then reset keepstate
// with one service changed. Re-parsing the configuration is outside the
// timed part; the state file is written.
func BenchmarkResetKeepState(b *testing.B) {
	s, texts, parse := scaleScheduler(b)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		c := parse(texts[i%2])
		s.opts.Reload = func() (*config.Config, error) { return c, nil }
		b.StartTimer()
		if err := s.Reset(ResetOptions{KeepState: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// scaleScheduler loads 100,000 tcp services and returns the scheduler,
// two configuration texts that differ in one service, and their parser.
func scaleScheduler(b *testing.B) (*Scheduler, [][]byte, func([]byte) *config.Config) {
	const n = 100_000
	dir := b.TempDir()
	os.Mkdir(filepath.Join(dir, "state"), 0o755)
	text, parse := scaleText(b, dir, n)
	s := New(parse(text(5)), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if len(s.services) != n {
		b.Fatalf("%d services, want %d", len(s.services), n)
	}
	return s, [][]byte{text(6), text(5)}, parse
}

// scaleText returns a generator of bench/scale_test.go's configuration of
// n tcp services (the first one's monitor timeout given) and its parser.
func scaleText(b *testing.B, dir string, n int) (func(int) []byte, func([]byte) *config.Config) {
	// As bench/scale_test.go's configuration: one changed service is a
	// different monitor line.
	text := func(timeout int) []byte {
		var sb strings.Builder
		fmt.Fprintf(&sb, "basedir = %s\nstatedir = state\n\n", dir)
		for i := range n {
			w, j := i/10, i%10
			if j == 0 {
				fmt.Fprintf(&sb, "hostgroup g%d 127.%d.%d.%d\n\nwatch g%d\n", w, w>>16&255, w>>8&255, w&255, w)
			}
			t := 5
			if i == 0 {
				t = timeout
			}
			fmt.Fprintf(&sb, "    service s%d\n        interval 10s\n        monitor tcp.monitor -p %d -t %d\n", j, 8000+j, t)
		}
		return []byte(sb.String())
	}
	parse := func(t []byte) *config.Config {
		c, err := configfile.Parse("scale.cf", t, configfile.LoadOptions{Cwd: dir})
		if err != nil {
			b.Fatal(err)
		}
		configfile.Resolve(c, dir)
		return c
	}
	return text, parse
}

// BenchmarkLoadHeap reports the live heap per loaded idle tcp service
// (configuration included), as bench/scale_test.go's idle part loads them.
// LOADHEAP_PROFILE=FILE writes the heap profile of the loaded services.
func BenchmarkLoadHeap(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	text, parse := scaleText(b, dir, n)
	var before, after runtime.MemStats
	for range b.N {
		t := text(5)
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := New(parse(t), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		runtime.GC()
		runtime.ReadMemStats(&after)
		if f := os.Getenv("LOADHEAP_PROFILE"); f != "" {
			if w, err := os.Create(f); err == nil {
				pprof.WriteHeapProfile(w)
				w.Close()
			}
		}
		runtime.KeepAlive(s)
		runtime.KeepAlive(t)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/service")
}

// BenchmarkResetLockHold is BenchmarkResetKeepState seen from another
// goroutine: how long the scheduler's lock is held in one stretch while
// a reset keepstate of 100,000 services runs: the longest wait to take
// it, the median over resets (hold-ms) and the worst (max-hold-ms).
// Runs that fall due meanwhile start that much late.
func BenchmarkResetLockHold(b *testing.B) {
	s, texts, parse := scaleScheduler(b)
	var holds []time.Duration
	for i := range b.N {
		c := parse(texts[i%2])
		s.opts.Reload = func() (*config.Config, error) { return c, nil }
		done := make(chan struct{})
		held := make(chan time.Duration)
		go func() {
			var most time.Duration
			for {
				select {
				case <-done:
					held <- most
					return
				default:
				}
				t := time.Now()
				s.mu.readLock()
				s.mu.Unlock()
				most = max(most, time.Since(t))
				runtime.Gosched()
			}
		}()
		if err := s.Reset(ResetOptions{KeepState: true}); err != nil {
			b.Fatal(err)
		}
		close(done)
		holds = append(holds, <-held)
	}
	slices.Sort(holds)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(holds[len(holds)/2]), "hold-ms")
	b.ReportMetric(ms(holds[len(holds)-1]), "max-hold-ms")
}

// BenchmarkParseScale parses bench/scale_test.go's configuration of
// 100,000 tcp services, as start-up and every reload do: its B/op is
// what the daemon allocates for it, mostly garbage at once.
func BenchmarkParseScale(b *testing.B) {
	text, parse := scaleText(b, b.TempDir(), 100_000)
	t := text(5)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		parse(t)
	}
}
