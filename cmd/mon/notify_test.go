package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNotify plays systemd: mon started with $NOTIFY_SOCKET and
// $WATCHDOG_USEC sends READY=1 once its port answers, WATCHDOG=1 at half
// the watchdog period, STOPPING=1 on SIGTERM; its monitors do not see
// the variables.
func TestNotify(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/env.monitor", "env > DIR/out/monitor.env.tmp && mv DIR/out/monitor.env.tmp DIR/out/monitor.env")
	cf := d.config(`
hostgroup g1 h1

watch g1
    service s1
        interval 1s
        monitor env.monitor
`)
	sock := d.path("notify.sock")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	read := func() string {
		t.Helper()
		buf := make([]byte, 1024)
		pc.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	p := d.start([]string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=400000"}, "-c", cf)
	// The watchdog pings start with the daemon; READY=1 follows once the
	// scheduler runs.
	for got := read(); got != "READY=1"; got = read() {
		if got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want READY=1", got)
		}
	}
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatalf("READY=1 before the client port answers: %v", err)
	}
	c.Close()
	for range 3 {
		if got := read(); got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1", got)
		}
	}
	env := waitFile(t, d.path("out/monitor.env"), nil)
	for _, v := range []string{"NOTIFY_SOCKET=", "WATCHDOG_USEC=", "GOMON_DAEMON_READY_FD="} {
		if strings.Contains(string(env), v) {
			t.Errorf("monitor environment has %s", v)
		}
	}
	// A reload is announced, and READY=1 says it is done.
	p.signal(syscall.SIGHUP)
	next := func() string {
		t.Helper()
		for {
			if got := read(); got != "WATCHDOG=1" {
				return got
			}
		}
	}
	if got := next(); !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Fatalf("notification %q, want RELOADING=1 with MONOTONIC_USEC", got)
	}
	if got := next(); got != "READY=1" {
		t.Fatalf("notification %q after RELOADING=1, want READY=1", got)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
	for {
		got := read()
		if got == "STOPPING=1" {
			break
		}
		if got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want STOPPING=1", got)
		}
	}
}

// TestNotifyOff: without $NOTIFY_SOCKET nothing is sent (and nothing
// fails).
func TestNotifyOff(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "1000")
	n := takeNotifier()
	if err := n.send("READY=1"); err != nil {
		t.Error(err)
	}
	t.Setenv("NOTIFY_SOCKET", "/x")
	t.Setenv("WATCHDOG_USEC", "1000000")
	t.Setenv("WATCHDOG_PID", "1")
	if n := takeNotifier(); n.watchdog != 0 {
		t.Errorf("watchdog for another pid enabled: %v", n.watchdog)
	}
	if os.Getenv("NOTIFY_SOCKET") != "" {
		t.Error("NOTIFY_SOCKET not cleared")
	}
}
