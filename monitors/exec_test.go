package monitors

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
)

// execScript writes an executable shell script and returns its path.
func execScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.monitor")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExternalArgvExact(t *testing.T) {
	p := execScript(t, `for a in "$0" "$@"; do printf '[%s]\n' "$a"; done; exit 3`)
	res := (&External{Path: p}).Check(context.Background(), Request{
		Args:  []string{"-p", "80", "a b", "$HOME", "*", ""},
		Hosts: []string{"h1", "h2;rm"},
	})
	want := "[" + p + "]\n[-p]\n[80]\n[a b]\n[$HOME]\n[*]\n[]\n[h1]\n[h2;rm]\n"
	if string(res.Output) != want {
		t.Errorf("output %q, want %q", res.Output, want)
	}
	if res.Exit != 3 || res.Signal != "" || res.TimedOut {
		t.Errorf("exit %d signal %q timedout %v", res.Exit, res.Signal, res.TimedOut)
	}
}

func TestExternalEnvStdinStderr(t *testing.T) {
	t.Setenv("GOMON_TEST_INHERITED", "yes")
	p := execScript(t, `
echo "summary line"
echo "to stderr" >&2
echo "G=$MON_GROUP I=$GOMON_TEST_INHERITED O=$GOMON_TEST_OVERRIDE"
cat    # stdin is /dev/null: prints nothing, returns at once
echo end
`)
	res := (&External{Path: p}).Check(context.Background(), Request{
		Env: []string{"MON_GROUP=web", "GOMON_TEST_OVERRIDE=1", "GOMON_TEST_OVERRIDE=2"},
	})
	want := "summary line\nto stderr\nG=web I=yes O=2\nend\n"
	if string(res.Output) != want || res.Exit != 0 {
		t.Errorf("got exit %d output %q, want %q", res.Exit, res.Output, want)
	}
	if res.Duration <= 0 {
		t.Errorf("duration not reported")
	}
}

func TestExternalOutputBounded(t *testing.T) {
	// 8 MiB through a 64 KiB cap: the child must not block on the pipe.
	p := execScript(t, `head -c 8388608 /dev/zero | tr '\0' x; echo; echo done >&2; exit 1`)
	e := &External{Path: p, MaxOutput: 64 << 10}
	res := e.Check(context.Background(), Request{Timeout: time.Minute})
	if len(res.Output) != 64<<10 {
		t.Errorf("kept %d bytes, want %d", len(res.Output), 64<<10)
	}
	if want := int64(8<<20+1+5) - 64<<10; res.Truncated != want {
		t.Errorf("truncated %d, want %d", res.Truncated, want)
	}
	if res.Exit != 1 || res.TimedOut {
		t.Errorf("exit %d timedout %v", res.Exit, res.TimedOut)
	}
}

func TestExternalTimeoutKillsGroup(t *testing.T) {
	// The child ignores SIGTERM, so only the SIGKILL to the whole group
	// ends it.
	p := execScript(t, `
echo
sh -c 'trap "" TERM; echo child $$; exec sleep 300' &
sleep 300
`)
	e := &External{Path: p, KillGrace: 200 * time.Millisecond}
	start := time.Now()
	res := e.Check(context.Background(), Request{Timeout: 500 * time.Millisecond})
	if time.Since(start) > 20*time.Second {
		t.Fatalf("took %v", time.Since(start))
	}
	if !res.TimedOut || res.Exit == 0 {
		t.Errorf("timedout %v exit %d", res.TimedOut, res.Exit)
	}
	first, rest, _ := strings.Cut(string(res.Output), "\n")
	if first != "timed out after 500ms" {
		t.Errorf("summary %q", first)
	}
	var child int
	for _, f := range strings.Fields(rest) {
		if n, err := strconv.Atoi(f); err == nil {
			child = n
		}
	}
	if child == 0 {
		t.Fatalf("no child pid in output %q", res.Output)
	}
	waitProcDead(t, child)
}

func TestExternalCancelKillsGroup(t *testing.T) {
	p := execScript(t, `sleep 300 & echo child $!; wait`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	res := (&External{Path: p}).Check(ctx, Request{})
	if res.TimedOut {
		t.Errorf("cancellation reported as timeout")
	}
	if res.Signal != "SIGTERM" || res.Exit != 128+15 {
		t.Errorf("signal %q exit %d", res.Signal, res.Exit)
	}
	var child int
	for _, f := range strings.Fields(string(res.Output)) {
		if n, err := strconv.Atoi(f); err == nil {
			child = n
		}
	}
	if child == 0 {
		t.Fatalf("no child pid in %q", res.Output)
	}
	waitProcDead(t, child)
}

func TestExternalSignalIsFailure(t *testing.T) {
	p := execScript(t, `echo "\$\$ $$"; echo some detail; kill -KILL $$`)
	res := (&External{Path: p}).Check(context.Background(), Request{})
	if res.Exit != 128+9 || res.Signal != "SIGKILL" || res.TimedOut {
		t.Errorf("exit %d signal %q timedout %v", res.Exit, res.Signal, res.TimedOut)
	}
	first, _, _ := strings.Cut(string(res.Output), "\n")
	if !strings.HasPrefix(first, "$$ ") {
		t.Errorf("monitor's own summary replaced: %q", res.Output)
	}
	pid, _ := strconv.Atoi(strings.TrimPrefix(first, "$$ "))
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Errorf("monitor %d not reaped", pid)
	}

	// Without a summary of its own, the run says what happened.
	p = execScript(t, `kill -SEGV $$`)
	res = (&External{Path: p}).Check(context.Background(), Request{})
	if res.Exit != 128+11 || string(res.Output) != "killed by signal SIGSEGV\n" {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

func TestExternalNoZombies(t *testing.T) {
	p := execScript(t, `echo $$; exit 0`)
	for i := 0; i < 20; i++ {
		res := (&External{Path: p}).Check(context.Background(), Request{})
		pid := strings.TrimSpace(string(res.Output))
		if _, err := os.Stat("/proc/" + pid); err == nil {
			t.Fatalf("pid %s still present after Check", pid)
		}
	}
	if z := zombieChildren(t); len(z) > 0 {
		t.Errorf("zombie children of the test process: %v", z)
	}
}

func TestExternalStartFailure(t *testing.T) {
	res := (&External{Path: filepath.Join(t.TempDir(), "missing")}).Check(context.Background(), Request{})
	if res.Exit != 127 || !bytes.Contains(res.Output, []byte("could not run monitor")) {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

// TestExternalKillsLeftovers: a monitor that leaves 50 sleepers in the
// background leaves none running once its run is over.
func TestExternalKillsLeftovers(t *testing.T) {
	p := execScript(t, `for i in $(seq 50); do sleep 300 & echo $!; done; echo done`)
	for run := 0; run < 3; run++ {
		res := (&External{Path: p}).Check(context.Background(), Request{})
		pids := strings.Fields(string(res.Output))
		if res.Exit != 0 || len(pids) != 51 {
			t.Fatalf("exit %d, %d lines", res.Exit, len(pids))
		}
		for _, s := range pids[:50] {
			pid, _ := strconv.Atoi(s)
			waitProcDead(t, pid)
		}
	}
}

func TestExternalBackgroundChildDoesNotHoldRun(t *testing.T) {
	// The script exits at once but leaves a child holding the pipe.
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := execScript(t, `echo summary; sleep 30 & echo $! >`+pidFile+`; exit 0`)
	t.Cleanup(func() {
		if pid, err := os.ReadFile(pidFile); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(pid))); err == nil {
				syscall.Kill(n, syscall.SIGKILL)
			}
		}
	})
	start := time.Now()
	res := (&External{Path: p}).Check(context.Background(), Request{KeepChildren: true})
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("run took %v: held by the background child", d)
	}
	if res.Exit != 0 || string(res.Output) != "summary\n" {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

// waitProcDead waits until pid is gone or a zombie (a killed grandchild
// is reparented to init, which may reap it late).
func waitProcDead(t *testing.T, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := await.Exit(ctx, pid); err != nil {
		t.Errorf("process %d still alive: %v", pid, err)
	}
}

// zombieChildren lists zombie processes whose parent is this test.
func zombieChildren(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	var z []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[0] == "Z" && fields[1] == me {
			z = append(z, pid)
		}
	}
	return z
}
