package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFork runs `mon -f` and checks the background process: its own
// session, umask 022, stdin /dev/null, stdout and stderr appended to
// monerrfile with mon's "Mon starting at" line, the pid file, sockets
// bound before the foreground process exits 0.
func TestFork(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/ok.monitor", "exit 0")
	d.write("mon.err", "earlier line\n", 0o644)
	cf := d.config(`monerrfile = DIR/mon.err

hostgroup g1 h1

watch g1
    service s1
        interval 1h
        monitor ok.monitor
`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, monBinary(t), "-f", "-c", cf)
	cmd.Dir = d.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mon -f: %v\n%s", err, out)
	}
	b, err := os.ReadFile(d.path("mon.pid"))
	if err != nil {
		t.Fatalf("no pid file after mon -f returned: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || string(b) != strconv.Itoa(pid)+"\n" {
		t.Fatalf("pid file %q", b)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	// The sockets were bound before the parent returned.
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatalf("client port not bound when mon -f returned: %v", err)
	}
	c.Close()

	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:]) // state ppid pgrp session …
	if f[3] != strconv.Itoa(pid) {
		t.Errorf("daemon session %s, want its own (%d)", f[3], pid)
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if !strings.Contains(string(status), "Umask:\t0022\n") {
		t.Errorf("daemon umask is not 0022:\n%s", status)
	}
	for fd, want := range map[int]string{0: "/dev/null", 1: d.path("mon.err"), 2: d.path("mon.err")} {
		if got, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); got != want {
			t.Errorf("daemon fd %d is %q, want %q", fd, got, want)
		}
	}
	errOut, _ := os.ReadFile(d.path("mon.err"))
	if !regexp.MustCompile(`^earlier line\nMon starting at [A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\n`).Match(errOut) {
		t.Errorf("monerrfile:\n%s", errOut)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, pid)
	if _, err := os.Stat(d.path("mon.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	if errOut, _ := os.ReadFile(d.path("mon.err")); !strings.Contains(string(errOut), "caught TERM signal, exiting") {
		t.Errorf("the daemon's log did not go to monerrfile:\n%s", errOut)
	}
}

// TestForkConfigError: with -f, a configuration error is still printed
// on the terminal and the exit status is non-zero.
func TestForkConfigError(t *testing.T) {
	d := newMonDir(t)
	cf := d.config("watch g1\n    service s1\n        interval 5x\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, monBinary(t), "-f", "-c", cf)
	cmd.Dir = d.dir
	out, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.ExitCode() == 0 {
		t.Fatalf("mon -f with a broken config succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "mon.cf:") || !strings.Contains(string(out), "invalid time interval") {
		t.Errorf("error not shown:\n%s", out)
	}
	if _, err := os.Stat(d.path("mon.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file written: %v", err)
	}
}
