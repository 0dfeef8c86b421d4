package server_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/internal/testnet"
)

// The benchmarks measure the client protocol with 100 idle services
// (interval 1h), as the baseline measurement of mon did (docs/performance.md).
// When /usr/sbin/mon is installed, the same workload is also run against
// the real mon (started once, shared by all benchmarks) and reported as
// mon-req/s and the ratio gomon/mon. Goals: ≥ 100× mon's requests/s; a
// fresh connection answered in ≤ 5 ms. GOMON_BENCH_NO_MON=1 skips mon.

const realMon = "/usr/sbin/mon"

// benchCF is 100 services in 10 watches.
func benchCF() string {
	var b strings.Builder
	for g := 1; g <= 10; g++ {
		fmt.Fprintf(&b, "hostgroup g%d h%da h%db\n\nwatch g%d\n", g, g, g, g)
		for s := 1; s <= 10; s++ {
			fmt.Fprintf(&b, "    service s%d\n        description service %d of group %d\n"+
				"        interval 1h\n        monitor ok.monitor\n        period wd {Sun-Sat}\n"+
				"            alert true.alert\n", s, s, g)
		}
		b.WriteString("\n")
	}
	return b.String()
}

var benchScripts = map[string]string{"ok.monitor": "echo ok\nexit 0\n", "true.alert": "exit 0\n"}

func startBench(b *testing.B) *servertest.Rig {
	b.Helper()
	return servertest.Start(b, servertest.Config{MonCF: benchCF(), Scripts: benchScripts})
}

// benchConn is a client connection that reads replies up to the final
// line.
type benchConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialBench(addr string) (*benchConn, error) {
	c, err := net.DialTimeout("tcp4", addr, servertest.Timeout)
	if err != nil {
		return nil, err
	}
	return &benchConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (bc *benchConn) do(cmd string) error {
	bc.c.SetDeadline(time.Now().Add(servertest.Timeout))
	if _, err := bc.c.Write([]byte(cmd + "\n")); err != nil {
		return err
	}
	for {
		l, err := bc.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(l) >= 4 && l[3] == ' ' && l[0] >= '0' && l[0] <= '9' {
			return nil
		}
	}
}

// throughput sends n "list opstatus" requests over `clients` connections
// in parallel (each connection one request at a time, as real clients
// do) and returns requests per second. Connections are opened and
// warmed up with one request before the clock starts.
func throughput(addr string, clients, n int) (float64, error) {
	// Warm up in parallel: mon answers a new connection's first command
	// only on its next main-loop pass (~1 s), and closes connections idle
	// for cltimeout (30 s).
	conns := make([]*benchConn, clients)
	warm := make(chan error, clients)
	for i := range conns {
		go func() {
			c, err := dialBench(addr)
			if err == nil {
				conns[i] = c
				err = c.do("list opstatus")
			}
			warm <- err
		}()
	}
	var warmErr error
	for range clients {
		if err := <-warm; err != nil {
			warmErr = err
		}
	}
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.c.Close()
			}
		}
	}()
	if warmErr != nil {
		return 0, warmErr
	}
	errs := make(chan error, clients)
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		share := n / clients
		if i < n%clients {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if err := c.do("list opstatus"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return float64(n) / elapsed.Seconds(), nil
}

// freshConnect opens n new connections, each sending "version" and
// reading the reply, and returns the mean time from connect to the end
// of the reply.
func freshConnect(addr string, n int) (time.Duration, error) {
	var total time.Duration
	for range n {
		start := time.Now()
		c, err := dialBench(addr)
		if err != nil {
			return 0, err
		}
		err = c.do("version")
		total += time.Since(start)
		c.c.Close()
		if err != nil {
			return 0, err
		}
	}
	return total / time.Duration(n), nil
}

func BenchmarkListOpstatus100(b *testing.B) {
	for _, clients := range []int{1, 10, 100} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			r := startBench(b)
			b.ResetTimer()
			rps, err := throughput(r.Addr, clients, max(b.N, clients))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rps, "req/s")
			compareMon(b, "list opstatus, clients="+strconv.Itoa(clients), rps, func(addr string) (float64, error) {
				return throughput(addr, clients, max(200, clients))
			})
		})
	}
}

// BenchmarkHandleListOpstatus is the request handler alone (no network):
// the cost of building the 100-record reply.
func BenchmarkHandleListOpstatus(b *testing.B) {
	r := startBench(b)
	sess := server.NewSession("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if _, final, _ := r.Server.Handle(sess, "list opstatus"); final != "220 list opstatus completed" {
			b.Fatal(final)
		}
	}
}

func BenchmarkFreshConnection(b *testing.B) {
	r := startBench(b)
	b.ResetTimer()
	mean, err := freshConnect(r.Addr, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(mean.Microseconds())/1000, "ms/conn")
	b.StopTimer()
	defer b.StartTimer()
	if _, ok := monAddr(b); ok {
		monMean := cachedMon(b, "fresh connection", func(addr string) (float64, error) {
			d, err := freshConnect(addr, 10)
			return d.Seconds() * 1000, err
		})
		b.ReportMetric(monMean, "mon-ms/conn")
	}
}

// compareMon reports the real mon's requests/s for the same workload and
// the ratio gomon/mon.
func compareMon(b *testing.B, key string, rps float64, measure func(addr string) (float64, error)) {
	b.StopTimer()
	defer b.StartTimer()
	if _, ok := monAddr(b); !ok {
		return
	}
	monRPS := cachedMon(b, key, measure)
	b.ReportMetric(monRPS, "mon-req/s")
	b.ReportMetric(rps/monRPS, "x-mon")
}

// The real mon is measured once per workload, not on every b.N round.
var monResults = struct {
	sync.Mutex
	m map[string]float64
}{m: map[string]float64{}}

func cachedMon(b *testing.B, key string, measure func(addr string) (float64, error)) float64 {
	monResults.Lock()
	defer monResults.Unlock()
	if v, ok := monResults.m[key]; ok {
		return v
	}
	addr, _ := monAddr(b)
	v, err := measure(addr)
	if err != nil {
		b.Fatalf("measuring mon: %v", err)
	}
	monResults.m[key] = v
	return v
}

// The real mon daemon, started on first use and stopped by TestMain.
var monDaemon struct {
	once   sync.Once
	addr   string
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been reaped
	dir    string
	err    error
}

// monAddr starts /usr/sbin/mon with the benchmark configuration (the
// command line of the conformance harness) and returns its address; ok
// is false when mon is not installed.
func monAddr(b *testing.B) (string, bool) {
	if _, err := os.Stat(realMon); err != nil || os.Getenv("GOMON_BENCH_NO_MON") != "" {
		return "", false
	}
	monDaemon.once.Do(func() { monDaemon.addr, monDaemon.err = startMon() })
	if monDaemon.err != nil {
		b.Fatalf("starting %s: %v", realMon, monDaemon.err)
	}
	return monDaemon.addr, true
}

func startMon() (string, error) {
	dir, err := os.MkdirTemp("", "gomon-bench-mon")
	if err != nil {
		return "", err
	}
	monDaemon.dir = dir
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	files := map[string]string{
		"mon.d/ok.monitor":   "#!/bin/sh\n" + benchScripts["ok.monitor"],
		"alert.d/true.alert": "#!/bin/sh\n" + benchScripts["true.alert"],
		"auth.cf":            servertest.OpenAuth,
		"mon.cf":             "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\n\n" + benchCF(),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			return "", err
		}
	}
	port, err := testnet.FreePort()
	if err != nil {
		return "", err
	}
	p := strconv.Itoa(port)
	cmd := exec.Command(realMon, "-c", dir+"/mon.cf", "-p", p, "-t", p, "-b", dir, "-B", dir,
		"-D", dir+"/state", "-L", dir+"/log", "-P", dir+"/mon.pid",
		"-a", dir+"/alert.d:/usr/lib/mon/alert.d", "-s", dir+"/mon.d:/usr/lib/mon/mon.d", "-A", dir+"/auth.cf")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return "", err
	}
	monDaemon.cmd = cmd
	monDaemon.exited = make(chan struct{})
	go func() { cmd.Wait(); close(monDaemon.exited) }()
	if err := waitStarted(dir+"/mon.pid", monDaemon.exited); err != nil {
		return "", fmt.Errorf("mon did not start: %w", err)
	}
	// mon answers clients only from its main loop: a reply shows that
	// its startup is over.
	addr := "127.0.0.1:" + p
	c, err := dialBench(addr)
	if err != nil {
		return "", err
	}
	defer c.c.Close()
	if err := c.do("version"); err != nil {
		return "", fmt.Errorf("mon did not answer: %w", err)
	}
	return addr, nil
}

// TestMain stops the real mon if a benchmark started it.
func TestMain(m *testing.M) {
	if addr := os.Getenv(loadGenEnv); addr != "" {
		os.Exit(loadGen(addr))
	}
	code := m.Run()
	if monDaemon.cmd != nil {
		monDaemon.cmd.Process.Kill()
		<-monDaemon.exited
	}
	if monDaemon.dir != "" {
		os.RemoveAll(monDaemon.dir)
	}
	os.Exit(code)
}
