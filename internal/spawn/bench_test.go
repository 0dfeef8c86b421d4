package spawn

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkRunSaturated starts /bin/true back to back from 16 goroutines
// through one Runner, as the scheduler does when more runs are due than
// the machine can start, and reports this process's own CPU per run
// (children excluded): what a daemon pays per external monitor run.
// BenchmarkRunSequential is one run at a time, the shape of a C loop
// around posix_spawn and waitpid.
func BenchmarkRunSaturated(b *testing.B) { benchmarkRun(b, 16) }

func BenchmarkRunSequential(b *testing.B) { benchmarkRun(b, 1) }

func benchmarkRun(b *testing.B, parallel int) {
	r := NewRunner(parallel)
	c := Cmd{Path: "/bin/true", MaxOutput: 1 << 20, KillLeftovers: true}
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if o := r.Run(context.Background(), c); o.Exit != 0 {
					b.Error(o)
				}
			}
		}()
	}
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/run")
}
