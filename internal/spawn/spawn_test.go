package spawn

import (
	"bytes"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func run(t *testing.T, script string, env ...string) (string, syscall.WaitStatus) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start("/bin/sh", []string{"sh", "-c", script}, Attr{Env: env, Files: []int{-1, int(w.Fd()), int(w.Fd())}, Setpgid: true})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	ws, err := p.Wait(nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(out), ws
}

func TestExitStatusOutputAndEnv(t *testing.T) {
	out, ws := run(t, `echo "$A $B"; echo err >&2; exit 3`, Environ([]string{"A=0", "B=2"}, []string{"A=1", "A=3"})...)
	if out != "3 2\nerr\n" {
		t.Errorf("output %q, want the last A and stderr merged", out)
	}
	if !ws.Exited() || ws.ExitStatus() != 3 {
		t.Errorf("status %v, want exit 3", ws)
	}
}

func TestEnviron(t *testing.T) {
	got := Environ([]string{"PATH=/bin", "HOME=/root", "X=base"}, []string{"X=1", "MON_A=a=b", "X=2", "E="})
	want := []string{"PATH=/bin", "HOME=/root", "MON_A=a=b", "X=2", "E="}
	if !slices.Equal(got, want) {
		t.Errorf("Environ = %q, want %q", got, want)
	}
}

func TestKilledBySignal(t *testing.T) {
	_, ws := run(t, `kill -9 $$`)
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("status %v, want killed by SIGKILL", ws)
	}
}

func TestOwnProcessGroup(t *testing.T) {
	out, _ := run(t, `ps -o pgid= -p $$; echo $$`)
	f := strings.Fields(out)
	if len(f) != 2 || f[0] != f[1] {
		t.Errorf("pgid and pid %q: want the child to lead its own group", out)
	}
}

func TestStartFailure(t *testing.T) {
	_, err := Start("/nonexistent/program", []string{"x"}, Attr{})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/program") {
		t.Fatalf("err = %v, want one naming the program", err)
	}
}

// TestWaitHoldsNoThread: children being waited for do not each hold an
// OS thread, as os/exec's blocking wait does.
func TestWaitHoldsNoThread(t *testing.T) {
	const n = 200
	before := threads(t)
	var wg sync.WaitGroup
	procs := make([]*Process, n)
	for i := range procs {
		p, err := Start("/bin/sleep", []string{"sleep", "1"}, Attr{})
		if err != nil {
			t.Fatal(err)
		}
		procs[i] = p
	}
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ws, err := p.Wait(nil); err != nil || ws.ExitStatus() != 0 {
				t.Errorf("wait: %v %v", ws, err)
			}
		}()
	}
	wg.Wait()
	// The Go runtime keeps every thread it has made, so the count after
	// the waits is at least what it was while they ran.
	during := threads(t)
	if during-before > 20 {
		t.Errorf("%d threads after waiting for %d children (%d before)", during, n, before)
	}
}

func threads(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte("Threads:")); ok {
			n, _ := strconv.Atoi(string(bytes.TrimSpace(v)))
			return n
		}
	}
	t.Fatal("no Threads line")
	return 0
}
