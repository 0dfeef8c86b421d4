package server_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/scheduler"
)

// BenchmarkSchedulingUnderClientLoad measures whether clients can disturb
// the scheduler: 100 services at interval 1s run a real script monitor,
// in windows without clients alternating with windows while 100 clients
// (another process) send `list opstatus` as fast as they can. Measured
// per run: lateness, how long after falling due it started (the
// scheduler's own Event.Due and Event.Time), and |gap − 1 s| between a
// service's starts. Goal: the p99 lateness unchanged within 5 ms.
// Alternating three times and pooling evens out the host's drift. Run
// with -benchtime 1x (b.N is ignored: it is one measurement).
func BenchmarkSchedulingUnderClientLoad(b *testing.B) {
	const (
		// A window is counted in runs, not timed: ten seconds' worth
		// (100 services at interval 1s), however late they come.
		windowRuns = 1000
		rounds     = 3
	)
	type start struct{ at, due time.Time }
	var (
		mu      sync.Mutex
		starts  = map[string][]start{}
		total   int          // runs started so far
		started await.Signal // notified after every start
	)
	// waitStarts waits until ok accepts the starts so far.
	waitStarts := func(what string, ok func() bool) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := started.Until(ctx, func() bool { mu.Lock(); defer mu.Unlock(); return ok() }); err != nil {
			b.Fatalf("waiting for %s: %v", what, err)
		}
	}
	// window waits for windowRuns more starts and returns when it began
	// and ended.
	window := func() (from, to time.Time) {
		mu.Lock()
		end := total + windowRuns
		mu.Unlock()
		from = time.Now()
		waitStarts("a window of runs", func() bool { return total >= end })
		return from, time.Now()
	}
	var cf strings.Builder
	cf.WriteString("hostgroup g h\n\nwatch g\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&cf, "    service s%d\n        interval 1s\n        monitor ok.monitor\n", i)
	}
	rig := servertest.Start(b, servertest.Config{
		MonCF:   cf.String(),
		Scripts: map[string]string{"ok.monitor": "exit 0\n"},
		Scheduler: scheduler.Options{Events: func(e scheduler.Event) {
			if e.Kind == "monitor-start" {
				mu.Lock()
				starts[e.Service] = append(starts[e.Service], start{e.Time, e.Due})
				total++
				mu.Unlock()
				started.Notify()
			}
		}},
	})
	// collect appends, in ms, the lateness of every start in [from, to)
	// and |gap − 1 s| for every gap that begins there.
	var late, gaps [2][]float64 // [0] idle, [1] loaded
	collect := func(loaded int, from, to time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, ss := range starts {
			for i, st := range ss {
				if st.at.Before(from) || !st.at.Before(to) {
					continue
				}
				late[loaded] = append(late[loaded], ms(st.at.Sub(st.due)))
				if i+1 < len(ss) {
					gaps[loaded] = append(gaps[loaded], math.Abs(ms(ss[i+1].at.Sub(st.at))-1000))
				}
			}
		}
	}

	waitStarts("the first runs", func() bool { return len(starts) == 100 })
	var reqs float64
	for range rounds {
		from, to := window()
		collect(0, from, to)

		// The clients are another process, as real clients are: in this
		// process they would take the daemon's CPUs from its scheduler.
		gen := exec.Command(os.Args[0])
		gen.Env = append(os.Environ(), loadGenEnv+"="+rig.Addr)
		out, err := gen.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := gen.Start(); err != nil {
			b.Fatal(err)
		}
		from, to = window()
		collect(1, from, to)
		gen.Process.Signal(syscall.SIGTERM)
		var r float64
		fmt.Fscan(out, &r)
		gen.Wait()
		reqs += r / rounds
	}

	idle, loaded := p99(b, late[0]), p99(b, late[1])
	b.ReportMetric(idle, "p99-late-idle-ms")
	b.ReportMetric(loaded, "p99-late-loaded-ms")
	b.ReportMetric(loaded-idle, "p99-late-change-ms")
	b.ReportMetric(p99(b, gaps[0]), "p99-gap-idle-ms")
	b.ReportMetric(p99(b, gaps[1]), "p99-gap-loaded-ms")
	b.ReportMetric(reqs, "client-req/s")
}

func p99(b *testing.B, v []float64) float64 {
	if len(v) == 0 {
		b.Fatal("no runs measured")
	}
	slices.Sort(v)
	return v[len(v)*99/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadGenEnv makes the test binary a load generator for the address it
// names: 100 connections sending `list opstatus` back to back until
// SIGTERM, then it prints the requests per second it got.
const loadGenEnv = "GOMON_LOADGEN_ADDR"

func loadGen(addr string) int {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	var (
		reqs atomic.Int64
		done atomic.Bool
	)
	start := time.Now()
	for c := 0; c < 100; c++ {
		go func() {
			bc, err := dialBench(addr)
			if err != nil {
				return
			}
			defer bc.c.Close()
			for !done.Load() && bc.do("list opstatus") == nil {
				reqs.Add(1)
			}
		}()
	}
	<-stop
	done.Store(true)
	fmt.Println(float64(reqs.Load()) / time.Since(start).Seconds())
	return 0
}
