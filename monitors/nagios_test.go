package monitors

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writePlugin writes an executable shell script plugin.
func writePlugin(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "check_test")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNagiosOnce(t *testing.T) {
	p := writePlugin(t, `echo "DISK OK - free space: / 3326 MB | /=2643MB;5948;5958;0;5968 'my disk'=80%;90;95 'it''s'=1.5s"
echo "long line one"
echo "long line two | extra=7c"
echo "more=3;;;;"
exit 0
`)
	r := mustNew(t, "nagios", p).Check(context.Background(), Request{})
	if r.Exit != 0 {
		t.Errorf("exit %d", r.Exit)
	}
	if want := "DISK OK - free space: / 3326 MB\nlong line one\nlong line two\n"; string(r.Output) != want {
		t.Errorf("output %q, want %q", r.Output, want)
	}
	want := values("", map[string]float64{"/": 2643, "my disk": 80, "it's": 1.5, "extra": 7, "more": 3})
	if !reflect.DeepEqual(r.Values, want) {
		t.Errorf("values %v, want %v", r.Values, want)
	}
}

func TestNagiosStates(t *testing.T) {
	for _, c := range []struct {
		code int
		args []string
		want int
	}{
		{0, nil, 0}, {1, nil, 1}, {1, []string{"-w-ok"}, 0}, {2, nil, 2}, {3, nil, 3}, {5, nil, 5},
	} {
		p := writePlugin(t, "echo STATE\nexit "+strconv.Itoa(c.code)+"\n")
		r := mustNew(t, "nagios", append(c.args, p)...).Check(context.Background(), Request{})
		if r.Exit != c.want {
			t.Errorf("plugin exit %d %q: mon exit %d, want %d", c.code, c.args, r.Exit, c.want)
		}
	}
}

func TestNagiosPerHost(t *testing.T) {
	p := writePlugin(t, `case "$2" in
127.0.0.1) echo "OK - up | rta=0.1ms;;;0;" ;;
warn) echo "WARNING - slow"; exit 1 ;;
*) echo "CRITICAL - $2 down"; exit 2 ;;
esac
`)
	m := mustNew(t, "nagios", p, "-H", "$HOST")
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1", "warn", "b"}})
	if want := "b warn\n127.0.0.1: OK - up\nwarn: WARNING - slow\nb: CRITICAL - b down\n"; string(r.Output) != want {
		t.Errorf("output %q, want %q", r.Output, want)
	}
	if r.Exit != 2 || !hasValue(r, "127.0.0.1", "rta", 0.1) {
		t.Errorf("exit %d values %v", r.Exit, r.Values)
	}
	if !r.Hosts[0].OK || r.Hosts[1].OK || r.Hosts[2].OK {
		t.Errorf("hosts %+v", r.Hosts)
	}
	// Without $HOST, -H HOST is appended; WARNING alone gives exit 1.
	r = mustNew(t, "nagios", p).Check(context.Background(), Request{Hosts: []string{"warn", "127.0.0.1"}})
	if r.Exit != 1 || !strings.HasPrefix(string(r.Output), "warn\n") {
		t.Errorf("appended -H: exit %d output %q", r.Exit, r.Output)
	}
}

func TestNagiosTimeout(t *testing.T) {
	p := writePlugin(t, "sleep 30\n")
	start := time.Now()
	r := mustNew(t, "nagios", "-t", "1", p).Check(context.Background(), Request{})
	if r.Exit != 2 || string(r.Output) != "CRITICAL - plugin timed out after 1s\n" {
		t.Errorf("exit %d output %q", r.Exit, r.Output)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestNagiosBadArgs(t *testing.T) {
	for _, args := range [][]string{nil, {"-t", "0", "check_x"}, {"-bogus", "check_x"}, {"no-such-plugin-gomon"}} {
		if _, err := builtins.Lookup("nagios").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

// TestNagiosRealPlugins runs monitoring-plugins' check_tcp against a
// listener on loopback, when the package is installed.
func TestNagiosRealPlugins(t *testing.T) {
	if _, err := findPlugin("check_tcp"); err != nil {
		t.Skip("monitoring-plugins-basic not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).AddrPort().Port()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	m := mustNew(t, "nagios", "check_tcp", "-H", "$HOST", "-p", strconv.Itoa(int(port)))
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if r.Exit != 0 || !strings.Contains(string(r.Output), "127.0.0.1: TCP OK") {
		t.Errorf("open port: exit %d output %q", r.Exit, r.Output)
	}
	if _, ok := r.Value("127.0.0.1", "time"); !ok {
		t.Errorf("values %v", r.Values)
	}
	ln.Close()
	r = m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if r.Exit != 2 || !strings.HasPrefix(string(r.Output), "127.0.0.1\n") {
		t.Errorf("closed port: exit %d output %q", r.Exit, r.Output)
	}
}
