package monitors

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestTCPSuccessIsSilent(t *testing.T) {
	port := serveTCP(t, func(c net.Conn) {})
	out, code := dropIn(t, "tcp.monitor", "-p", port, "127.0.0.1", "localhost")
	if out != "" || code != 0 {
		t.Errorf("exit %d output %q", code, out)
	}
}

func TestTCPRefused(t *testing.T) {
	up := serveTCP(t, func(c net.Conn) {})
	// The listener is on 127.0.0.1 only, so 127.0.0.3 and 127.0.0.2
	// refuse the same port.
	out, code := dropIn(t, "tcp.monitor", "-p", up, "127.0.0.3", "127.0.0.1", "127.0.0.2")
	want := "127.0.0.2 127.0.0.3\n\n" +
		"127.0.0.3 could not connect: Connection refused\n" +
		"127.0.0.2 could not connect: Connection refused\n"
	if out != want || code != 1 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
}

func TestTCPUnresolvable(t *testing.T) {
	m, err := newTCP([]string{"-p", "1", "-t", "5"})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"bad..name"}})
	if res.Exit != 1 || string(res.Output) != "bad..name\n\nbad..name could not inet_aton\n" {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

func TestTCPSendExpect(t *testing.T) {
	port := serveTCP(t, func(c net.Conn) {
		buf := make([]byte, 64)
		n, _ := c.Read(buf)
		if string(buf[:n]) == "PING\r\n" {
			c.Write([]byte("+PONG\r\n"))
		} else {
			c.Write([]byte("-ERR\r\n"))
		}
	})
	m, err := newTCP([]string{"-p", port, "-s", `PING\r\n`, "-e", `^\+PONG`})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 0 || len(res.Hosts) != 1 || !res.Hosts[0].OK {
		t.Fatalf("exit %d hosts %+v output %q", res.Exit, res.Hosts, res.Output)
	}

	m, _ = newTCP([]string{"-p", port, "-s", `HELLO\n`, "-e", `^\+PONG`})
	res = m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 1 || !strings.Contains(string(res.Output), `no match for /^\+PONG/ in "-ERR\r\n"`) {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

func TestTCPExpectTimeout(t *testing.T) {
	port := silentServer(t)
	m, err := newTCP([]string{"-p", port, "-t", "0.5", "-e", "x"})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 1 || !strings.HasPrefix(string(res.Output), "127.0.0.1\n\n127.0.0.1 timeout waiting for /x/") {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

func TestTCPRunTimeoutBoundsAll(t *testing.T) {
	port := silentServer(t)
	m, _ := newTCP([]string{"-p", port, "-e", "x"}) // -t default 10 s
	start := time.Now()
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}, Timeout: 300 * time.Millisecond})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v despite the run timeout", d)
	}
	if res.Exit != 1 {
		t.Errorf("exit %d", res.Exit)
	}
}

func TestTCPBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"-p"}, {"-p", "nosuchservice"}, {"-t", "soon"}, {"-e", "("}} {
		if _, err := newTCP(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, code := dropIn(t, "tcp.monitor", "-q"); code == 0 {
		t.Errorf("bad flag exit 0")
	}
}

func TestTCPMatchesPerl(t *testing.T) {
	up := serveTCP(t, func(c net.Conn) {})
	down := closedPort(t)
	for _, args := range [][]string{
		{"-p", up, "127.0.0.1"},
		{"-p", down, "127.0.0.1"},
		{"-p", up, "127.0.0.2", "127.0.0.1", "127.0.0.4"},
	} {
		want, wantCode := perlOriginal(t, "tcp.monitor", args...)
		got, code := dropIn(t, "tcp.monitor", args...)
		if got != want || code != wantCode {
			t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
		}
	}
}

func BenchmarkTCPCheck(b *testing.B) {
	port := serveTCP(b, func(c net.Conn) {})
	benchHostChecks(b, newTCP, port)
}

// benchHostChecks measures host checks per second of the monitor that
// newMonitor builds, over 1,000 hosts at 127.0.0.1:port per run.
func benchHostChecks(b *testing.B, newMonitor func([]string) (Monitor, error), port string) {
	hosts := make([]string, 1000)
	for i := range hosts {
		hosts[i] = "127.0.0.1"
	}
	m, err := newMonitor([]string{"-p", port})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if res := m.Check(context.Background(), Request{Hosts: hosts}); res.Exit != 0 {
			b.Fatalf("exit %d: %s", res.Exit, res.Output)
		}
	}
	b.ReportMetric(float64(b.N*len(hosts))/time.Since(start).Seconds(), "host-checks/s")
}

func TestTCPCancelAbortsReads(t *testing.T) {
	port := silentServer(t)
	m, _ := newTCP([]string{"-p", port, "-t", "60", "-e", "x"})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	res := m.Check(ctx, Request{Hosts: []string{"127.0.0.1"}})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if res.Exit != 1 {
		t.Errorf("exit %d", res.Exit)
	}
}
