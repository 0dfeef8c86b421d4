package monitors

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/testnet"
)

// The Perl monitors of Debian's mon package against gomon's built-ins,
// one check of one host each, same target server in this process. CPU is
// the process's own plus its reaped children's, per check.

const perlMonDir = "/usr/lib/mon/mon.d"

func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// measure runs check b.N times and reports wall and CPU time per check.
func measure(b *testing.B, check func() error) {
	b.Helper()
	cpu0, t0 := cpuTime(), time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := check(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(t0).Microseconds())/float64(b.N), "wall-µs/check")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/check")
}

func benchTarget(b *testing.B) (tcpPort, httpPort string) {
	b.Helper()
	tcpPort = testnet.Acceptor(b)
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })}
	go srv.Serve(hl)
	b.Cleanup(func() { srv.Close() })
	return tcpPort, fmt.Sprint(hl.Addr().(*net.TCPAddr).Port)
}

func perlScript(b *testing.B, name string) string {
	p := perlMonDir + "/" + name
	if _, err := os.Stat(p); err != nil {
		b.Skipf("%s not installed (apt-get install mon)", p)
	}
	return p
}

func runPerl(script string, args ...string) func() error {
	return func() error {
		out, err := exec.Command(script, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", script, err, out)
		}
		return nil
	}
}

func runBuiltin(b *testing.B, name string, args ...string) func() error {
	m, err := builtins.Lookup(name).New(args)
	if err != nil {
		b.Fatal(err)
	}
	return func() error {
		if r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}}); r.Exit != 0 {
			return fmt.Errorf("%s failed: %s", name, r.Output)
		}
		return nil
	}
}

func BenchmarkPerlTCPMonitor(b *testing.B) {
	tcpPort, _ := benchTarget(b)
	measure(b, runPerl(perlScript(b, "tcp.monitor"), "-p", tcpPort, "127.0.0.1"))
}

func BenchmarkBuiltinTCPMonitor(b *testing.B) {
	tcpPort, _ := benchTarget(b)
	measure(b, runBuiltin(b, "tcp.monitor", "-p", tcpPort))
}

func BenchmarkPerlHTTPMonitor(b *testing.B) {
	_, httpPort := benchTarget(b)
	measure(b, runPerl(perlScript(b, "http.monitor"), "-p", httpPort, "127.0.0.1"))
}

func BenchmarkBuiltinHTTPMonitor(b *testing.B) {
	_, httpPort := benchTarget(b)
	measure(b, runBuiltin(b, "http.monitor", "-p", httpPort))
}
