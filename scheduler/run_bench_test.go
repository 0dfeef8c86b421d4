package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/clock"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/testnet"
)

// BenchmarkRunTCP and BenchmarkRunHTTP drive the whole run path of a
// built-in check as the daemon does at scale: the Run loop fires due
// timers, startMonitor starts each run, the real tcp or http monitor
// checks a loopback listener in this process, finish feeds the result to
// the decision engine and reschedules, and an event observer counts the
// runs as the daemon's metrics do. One op is one check. The clock is
// fake: benchServices services at interval 1s are a run every
// millisecond (the scheduler's phases), and each step of the clock
// makes benchStep of them fall due together, as 100,000 services at
// interval 10s do.
//
// cpu-µs/check is the process's CPU (the listener's and the kernel's
// side of the handshake included); allocs/check and B/check are every
// allocation of the process per check (the listener's included), which
// unlike the CPU figures do not depend on what else the machine runs.
func BenchmarkRunTCP(b *testing.B) {
	benchRun(b, "tcp.monitor -p "+benchListener(b, func(net.Conn) {})+" -t 5")
}

func BenchmarkRunHTTP(b *testing.B) {
	benchRun(b, "http.monitor -p "+benchListener(b, testnet.AnswerOK)+" -t 5")
}

const (
	benchServices = 1000
	benchStep     = 10 * time.Millisecond
)

func benchRun(b *testing.B, monitor string) {
	dir := b.TempDir()
	var sb strings.Builder
	fmt.Fprintf(&sb, "basedir = %s\n\n", dir)
	for i := range benchServices {
		// Each service its own address, as in bench/scale_test.go:
		// thousands of checks a second to one address and port would
		// run out of ports that are not in TIME_WAIT at the listener.
		fmt.Fprintf(&sb, "hostgroup g%d 127.%d.%d.1\n\nwatch g%d\n", i, i>>8, i&255, i)
		fmt.Fprintf(&sb, "    service s\n        interval 1s\n        monitor %s\n", monitor)
	}
	c, err := configfile.Parse("run.cf", []byte(sb.String()), configfile.LoadOptions{Cwd: dir})
	if err != nil {
		b.Fatal(err)
	}
	configfile.Resolve(c, dir)

	clk := clock.NewFake(time.Now())
	var started, done, failed atomic.Int64
	var s *Scheduler
	var failure string             // the first failed check's output
	idle := make(chan struct{}, 1) // a run ended and none is running
	s = New(c, Options{
		Clock:  clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Events: func(e Event) {
			switch e.Kind {
			case "monitor-start":
				started.Add(1)
			case "monitor-done":
				if e.Exit != 0 && failed.Add(1) == 1 {
					// Observers run with the scheduler locked.
					failure = e.Group + "/" + e.Service + ": " + s.watchIdx.service(e.Group, e.Service).st.LastOutput
				}
				if done.Add(1) == started.Load() {
					select {
					case idle <- struct{}{}:
					default:
					}
				}
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	step := func(d time.Duration) {
		made := clk.Made()
		clk.Advance(d)
		// Once the loop waits on the clock again, it has started every
		// run that fell due.
		if err := clk.WaitMade(ctx, made); err != nil {
			b.Fatal(err)
		}
		for done.Load() != started.Load() {
			<-idle
		}
	}
	step(time.Second) // the first service's first run
	for range time.Second / benchStep {
		step(benchStep) // every service has run once
	}

	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	user0, sys0 := processCPU()
	started0 := started.Load()
	b.ResetTimer()
	for started.Load()-started0 < int64(b.N) {
		step(benchStep)
	}
	b.StopTimer()
	user, sys := processCPU()
	runtime.ReadMemStats(&m1)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d checks failed, the first %q", f, failure)
	}
	checks := float64(started.Load() - started0)
	b.ReportMetric(float64((user-user0).Microseconds())/checks, "user-µs/check")
	b.ReportMetric(float64((user-user0+sys-sys0).Microseconds())/checks, "cpu-µs/check")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/checks, "allocs/check")
	b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/checks, "B/check")
}

// processCPU is the user and system CPU this process has used.
func processCPU() (user, sys time.Duration) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// benchListener listens on a port of every loopback address and
// closes each connection after serve returns (or 5 s), until the
// benchmark ends. It returns the port.
func benchListener(b *testing.B, serve func(net.Conn)) string {
	return testnet.Serve(b, "0.0.0.0:0", func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		serve(c)
	})
}
