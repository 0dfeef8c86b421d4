package spawn

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func sh(script string) Cmd {
	return Cmd{Path: "/bin/sh", Args: []string{"-c", script}, MaxOutput: 1 << 20}
}

func TestRunStdinMergedOutputAndExit(t *testing.T) {
	c := sh(`read line; echo "got $line"; echo oops >&2; exit 3`)
	c.Stdin = []byte("hello\n")
	var pid int
	c.Started = func(p int) { pid = p }
	o := NewRunner(2).Run(context.Background(), c)
	if string(o.Output) != "got hello\noops\n" || o.Exit != 3 || o.Signal != "" || o.StartErr != nil {
		t.Errorf("got %+v (%s)", o, o)
	}
	if pid <= 0 || o.Duration <= 0 {
		t.Errorf("pid %d duration %v", pid, o.Duration)
	}
}

func TestRunWithoutStdinReadsEOF(t *testing.T) {
	o := (*Runner)(nil).Run(context.Background(), sh(`cat; echo end`))
	if string(o.Output) != "end\n" || o.Exit != 0 {
		t.Errorf("got %+v", o)
	}
}

func TestRunOutputCap(t *testing.T) {
	c := sh(`head -c 100000 /dev/zero`)
	c.MaxOutput = 1000
	o := NewRunner(1).Run(context.Background(), c)
	if len(o.Output) != 1000 || o.Dropped != 99000 || o.Exit != 0 {
		t.Errorf("kept %d dropped %d exit %d", len(o.Output), o.Dropped, o.Exit)
	}
}

// The timeout ends the run with SIGTERM; a program that ignores it gets
// SIGKILL after the grace period, and so does the rest of its group.
func TestRunTimeoutTermThenKill(t *testing.T) {
	c := sh(`trap '' TERM; echo started; sleep 30 & sleep 30; wait`)
	c.Timeout = 200 * time.Millisecond
	c.KillGrace = 300 * time.Millisecond
	o := NewRunner(1).Run(context.Background(), c)
	if !o.TimedOut || o.Canceled || o.Signal != "SIGKILL" || o.Exit != 128+9 || !strings.HasPrefix(string(o.Output), "started") {
		t.Errorf("got %+v (%s)", o, o)
	}
	if o.Duration > 10*time.Second {
		t.Errorf("took %v", o.Duration)
	}
}

// A run waiting for a start slot gives up when its ctx ends, without
// starting anything.
func TestRunCanceledWhileWaitingForASlot(t *testing.T) {
	r := NewRunner(1)
	slot, err := r.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	started := false
	c := sh(`exit 0`)
	c.Started = func(int) { started = true }
	o := r.Run(ctx, c)
	if !o.Canceled || !errors.Is(o.StartErr, context.DeadlineExceeded) || o.Exit != 127 || started {
		t.Errorf("got %+v", o)
	}
	// The run that gave up does not keep the slot when it frees.
	slot.Release()
	if o := r.Run(context.Background(), sh("exit 0")); o.StartErr != nil || o.Exit != 0 {
		t.Errorf("after an abandoned wait: %+v", o)
	}
}

// Reservations get slots in the order they were made, each when the one
// before it is released, without a goroutine waiting for them; a slot
// passed in Cmd.Slot is used and released by Run.
func TestReserveInOrder(t *testing.T) {
	r := NewRunner(1)
	var got []int
	var slots []*Slot
	for i := range 3 {
		r.Reserve(func(s *Slot) { got = append(got, i); slots = append(slots, s) })
	}
	if len(got) != 1 || got[0] != 0 {
		t.Fatalf("before any release: %v", got)
	}
	slots[0].Release()
	slots[0].Release() // a second release gives back nothing more
	if len(got) != 2 || got[1] != 1 {
		t.Fatalf("after one release: %v", got)
	}
	c := sh("exit 4")
	c.Slot = slots[1]
	if o := r.Run(context.Background(), c); o.Exit != 4 {
		t.Errorf("run on a reserved slot: %+v", o)
	}
	if len(got) != 3 || got[2] != 2 {
		t.Fatalf("after the run: %v", got)
	}
	// A reserved slot whose run is already canceled is given back unused.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = sh("exit 0")
	c.Slot = slots[2]
	if o := r.Run(ctx, c); !o.Canceled || o.Exit != 127 {
		t.Errorf("canceled run on a reserved slot: %+v", o)
	}
	if o := r.Run(context.Background(), sh("exit 0")); o.StartErr != nil {
		t.Errorf("slot not given back: %+v", o)
	}
}

func TestRunStartFailure(t *testing.T) {
	o := NewRunner(1).Run(context.Background(), Cmd{Path: "/nonexistent/prog", MaxOutput: 10})
	if o.StartErr == nil || o.Canceled || o.Exit != 127 {
		t.Errorf("got %+v", o)
	}
	// The slot was given back: another run can start.
	r := NewRunner(1)
	r.Run(context.Background(), Cmd{Path: "/nonexistent/prog", MaxOutput: 10})
	if o := r.Run(context.Background(), sh("exit 0")); o.StartErr != nil || o.Exit != 0 {
		t.Errorf("after a failed start: %+v", o)
	}
}

// With KillLeftovers, what the program leaves running in its process
// group is killed when it exits; without, it is left alone.
func TestRunKillLeftovers(t *testing.T) {
	for _, kill := range []bool{true, false} {
		c := sh(`for i in 1 2 3 4 5; do sleep 300 & echo $!; done`)
		c.KillLeftovers = kill
		o := NewRunner(1).Run(context.Background(), c)
		pids := strings.Fields(string(o.Output))
		if o.Exit != 0 || len(pids) != 5 {
			t.Fatalf("kill=%v: %+v", kill, o)
		}
		for _, p := range pids {
			pid, _ := strconv.Atoi(p)
			limit := time.Duration(0) // a leftover we keep is alive at once
			if kill {
				limit = 5 * time.Second // SIGKILL was sent before Run returned
			}
			alive := waitDead(pid, limit) != nil
			if alive == kill {
				t.Errorf("kill=%v: leftover %d alive=%v", kill, pid, alive)
			}
			if alive {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// waitDead waits until pid is gone or a zombie, or returns an error when
// it is still running after limit.
func waitDead(pid int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return nil
		}
		if _, after, ok := strings.Cut(string(stat), ") "); ok && strings.HasPrefix(after, "Z") {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("still running")
		}
		runtime.Gosched()
	}
}

// A program that closes its output and then hangs is still ended by the
// timeout (the end of its output is not the end of the run).
func TestRunTimeoutAfterOutputClosed(t *testing.T) {
	c := sh(`exec >/dev/null 2>&1; exec sleep 300`)
	c.Timeout = 200 * time.Millisecond
	o := NewRunner(1).Run(context.Background(), c)
	if !o.TimedOut || o.Signal != "SIGTERM" || o.Duration > 10*time.Second {
		t.Errorf("got %+v (%s)", o, o)
	}
}
