package server_test

import (
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

	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/server/servertest"
)

// BenchmarkSchedulingUnderClientLoad measures whether clients can disturb
// the scheduler: 100 services at interval 1s run a real script monitor;
// the p99 of |gap − 1 s| between a service's runs is measured over a
// window without clients and over a window while 100 clients send
// `list opstatus` as fast as they can. Goal: the p99 unchanged within
// 5 ms. Run with -benchtime 1x (b.N is ignored: it is one measurement).
func BenchmarkSchedulingUnderClientLoad(b *testing.B) {
	const window = 10 * time.Second
	var (
		mu     sync.Mutex
		starts = map[string][]time.Time{}
	)
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
				starts[e.Service] = append(starts[e.Service], time.Now())
				mu.Unlock()
			}
		}},
	})
	// p99 returns the p99 of |gap − 1 s| over the runs since `from`.
	p99 := func(from time.Time) float64 {
		mu.Lock()
		defer mu.Unlock()
		var devs []float64
		for _, ts := range starts {
			for i := 1; i < len(ts); i++ {
				if ts[i-1].After(from) {
					devs = append(devs, math.Abs(ts[i].Sub(ts[i-1]).Seconds()-1)*1000)
				}
			}
		}
		if len(devs) == 0 {
			b.Fatal("no runs measured")
		}
		slices.Sort(devs)
		return devs[len(devs)*99/100]
	}

	time.Sleep(2 * time.Second) // first runs
	idleFrom := time.Now()
	time.Sleep(window)
	idle := p99(idleFrom)

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
	loadFrom := time.Now()
	time.Sleep(window)
	loaded := p99(loadFrom)
	gen.Process.Signal(syscall.SIGTERM)
	var reqs float64
	fmt.Fscan(out, &reqs)
	gen.Wait()

	b.ReportMetric(idle, "p99-idle-ms")
	b.ReportMetric(loaded, "p99-loaded-ms")
	b.ReportMetric(loaded-idle, "p99-change-ms")
	b.ReportMetric(reqs, "client-req/s")
}

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
