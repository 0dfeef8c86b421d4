package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/internal/testnet"
)

// TestStateFilesSurviveSIGKILL runs the real daemon (cmd/mon), keeps it
// busy rewriting STATEDIR/disabled and STATEDIR/opstatus (`savestate
// all`, disable/enable, which rewrite `disabled` each time) from several
// connections, SIGKILLs it at random moments and checks after every kill
// that both files are whole: every line complete and valid, the opstatus
// file one full record per service.
func TestStateFilesSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the daemon repeatedly")
	}
	bin := filepath.Join(t.TempDir(), "mon")
	build := exec.Command("go", "build", "-o", bin, "github.com/gomon/gomon/cmd/mon")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/mon: %v\n%s", err, out)
	}

	dir := t.TempDir()
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	// 100 services and a hostgroup of 300 hosts make both files several
	// kilobytes long, so a torn write would cut a line.
	hosts := make([]string, 300)
	for i := range hosts {
		hosts[i] = "host" + strconv.Itoa(i)
	}
	cf := "hostgroup big " + strings.Join(hosts, " ") + "\n\n" + benchCF()
	files := map[string]string{
		"mon.d/ok.monitor":   "#!/bin/sh\n" + benchScripts["ok.monitor"],
		"alert.d/true.alert": "#!/bin/sh\n" + benchScripts["true.alert"],
		"auth.cf":            servertest.OpenAuth,
		"mon.cf":             "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\n\n" + cf,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	known := map[string]bool{}
	for _, h := range hosts {
		known["host "+h] = true
	}
	for g := 1; g <= 10; g++ {
		known[fmt.Sprintf("watch g%d", g)] = true
		for s := 1; s <= 10; s++ {
			known[fmt.Sprintf("service g%d s%d", g, s)] = true
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	sawOpstatus, sawDisabled := false, false
	for round := 0; round < 12; round++ {
		port, err := testnet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		p := strconv.Itoa(port)
		pidFile := dir + "/mon.pid"
		os.Remove(pidFile) // a killed daemon leaves it behind
		daemon := exec.Command(bin, "-c", dir+"/mon.cf", "-p", p, "-t", p, "-b", dir, "-B", dir,
			"-D", dir+"/state", "-L", dir+"/log", "-P", pidFile,
			"-a", dir+"/alert.d", "-s", dir+"/mon.d", "-A", dir+"/auth.cf")
		daemon.Dir = dir
		var stderr strings.Builder
		daemon.Stderr = &stderr
		if err := daemon.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { daemon.Wait(); close(exited) }()
		if err := waitStarted(pidFile, exited); err != nil {
			daemon.Process.Kill()
			<-exited
			t.Fatalf("round %d: %v\n%s", round, err, stderr.String())
		}

		// The kill comes after a random number of commands (about one a
		// millisecond here): a random point in the stream of rewrites,
		// whatever the machine's speed.
		var (
			done     atomic.Int64
			killNow  = make(chan struct{})
			killAt   = 50 + rng.Int64N(400)
			countOne = func() {
				if done.Add(1) == killAt {
					close(killNow)
				}
			}
		)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hammer(ctx, "127.0.0.1:"+p, w, hosts, countOne)
			}()
		}
		select {
		case <-killNow:
		case <-exited:
			t.Fatalf("round %d: the daemon died by itself\n%s", round, stderr.String())
		case <-time.After(servertest.Timeout):
			t.Fatalf("round %d: only %d of %d commands answered", round, done.Load(), killAt)
		}
		daemon.Process.Kill()
		<-exited
		cancel()
		wg.Wait()

		if checkOpstatus(t, round, filepath.Join(dir, "state", "opstatus"), known) {
			sawOpstatus = true
		}
		if checkDisabled(t, round, filepath.Join(dir, "state", "disabled"), known) {
			sawDisabled = true
		}
		if t.Failed() {
			t.Logf("daemon stderr:\n%s", stderr.String())
			return
		}
	}
	if !sawOpstatus || !sawDisabled {
		t.Fatalf("the daemon never wrote the state files (opstatus %v, disabled %v)", sawOpstatus, sawDisabled)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "state", ".*.tmp*"))
	t.Logf("temporary files left by killed writes: %d", len(leftovers))
}

// waitStarted waits until a daemon (gomon or mon) started with -P
// pidFile has written it: both write it once their sockets listen. It
// gives up when exited is closed or after 30 s.
func waitStarted(pidFile string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := await.File(ctx, pidFile, func(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) })
	return err
}

// hammer sends state-changing commands until ctx ends or the daemon
// dies, calling answered after each reply.
func hammer(ctx context.Context, addr string, worker int, hosts []string, answered func()) {
	c, err := dialBench(addr)
	if err != nil {
		return
	}
	defer c.c.Close()
	context.AfterFunc(ctx, func() { c.c.Close() })
	for i := 0; ctx.Err() == nil; i++ {
		var cmds []string
		switch worker {
		case 0:
			cmds = []string{"savestate all"}
		case 1:
			h := strings.Join(hosts[i%100:i%100+50], " ")
			cmds = []string{"disable host " + h, "savestate disabled", "enable host " + h}
		default:
			g, s := i%10+1, i%7+1
			cmds = []string{fmt.Sprintf("disable service g%d s%d", g, s), fmt.Sprintf("disable watch g%d", g),
				fmt.Sprintf("enable watch g%d", g), "savestate opstatus", fmt.Sprintf("enable service g%d s%d", g, s)}
		}
		for _, cmd := range cmds {
			if c.do(cmd) != nil {
				return
			}
			answered()
		}
	}
}

// readWhole returns the file's lines; ok is false when it does not
// exist. A non-empty file must end with a line end.
func readWhole(t *testing.T, round int, path string) (lines []string, ok bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Errorf("round %d: %s does not end with a line end (torn write): ...%q", round, path, tail(data))
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, true
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

// checkOpstatus: one complete record for each of the 100 services.
func checkOpstatus(t *testing.T, round int, path string, known map[string]bool) bool {
	t.Helper()
	lines, ok := readWhole(t, round, path)
	if !ok {
		return false
	}
	seen := map[string]bool{}
	for _, l := range lines {
		r, ok := protocol.ParseStateRecord(l)
		name := "service " + r.Group + " " + r.Service
		if !ok || !known[name] || seen[name] {
			t.Errorf("round %d: bad opstatus record %q", round, l)
			continue
		}
		seen[name] = true
		for _, k := range protocol.StateVars {
			if _, ok := r.Vars[k]; !ok {
				t.Errorf("round %d: opstatus record %s %s lacks %s (torn line?)", round, r.Group, r.Service, k)
			}
		}
	}
	if len(seen) != 100 {
		t.Errorf("round %d: opstatus has %d records, want 100", round, len(seen))
	}
	return true
}

// checkDisabled: every line a complete directive naming a known host,
// watch or service.
func checkDisabled(t *testing.T, round int, path string, known map[string]bool) bool {
	t.Helper()
	lines, ok := readWhole(t, round, path)
	if !ok {
		return false
	}
	for _, l := range lines {
		what, ok := strings.CutPrefix(l, "disable ")
		if !ok || !known[what] {
			t.Errorf("round %d: bad line in disabled: %q", round, l)
		}
	}
	return true
}
