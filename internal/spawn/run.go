package spawn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultKillGrace is how long a program has between SIGTERM and SIGKILL.
const DefaultKillGrace = 2 * time.Second

// drainWait bounds how long output is still read after the program itself
// has exited: a background child that inherited the pipe must not hold
// the run open.
const drainWait = time.Second

// Cmd is one run of a program, the way mon runs monitors and alerts:
// never through a shell, stdout and stderr merged into one capture, in a
// process group of its own.
type Cmd struct {
	Path string
	Args []string // after argv[0], which is Path
	Env  []string // the complete environment (see Environ)
	// Stdin is fed to the program; nil means /dev/null.
	Stdin []byte
	// MaxOutput is how many bytes of output are kept; the rest is read
	// and counted, so the program never blocks on a full pipe.
	MaxOutput int64
	// Timeout ends the run after this long; 0 leaves it to ctx.
	Timeout time.Duration
	// KillGrace is the delay between SIGTERM and SIGKILL to the process
	// group when the run is ended; 0 means DefaultKillGrace.
	KillGrace time.Duration
	// Started, when set, is called with the process ID once it runs.
	Started func(pid int)
	// Slot, when set, is a start slot the caller already holds (see
	// Runner.Reserve); Run releases it. Without it Run waits for one.
	Slot *Slot
	// KillLeftovers ends the rest of the process group (SIGKILL) when
	// the program itself exits: what a monitor leaves running in the
	// background would otherwise pile up run after run. A process that
	// left the group (setsid) escapes it.
	KillLeftovers bool
}

// Outcome is how a run ended.
type Outcome struct {
	Output  []byte // at most MaxOutput bytes of stdout and stderr, merged
	Dropped int64  // output bytes read beyond MaxOutput
	// Exit is the exit status; a program killed by signal N reports
	// 128+N (the shell's convention, so exit= ranges can tell it apart),
	// and one that could not be started 127.
	Exit     int
	Signal   string // the signal that killed it, e.g. "SIGKILL"; "" if none
	TimedOut bool   // Timeout ended it
	Canceled bool   // ctx ended it (or ended before it started)
	StartErr error  // why it could not be started
	Duration time.Duration
}

// Runner runs programs. It bounds how many are being started at once:
// starting thousands together (fork, exec, pipes) makes them compete and
// lowers the rate at which the machine can start them. Only the start is
// bounded; a program that runs long holds no slot. A nil *Runner runs
// programs without that bound.
//
// Runs wait for a slot in a queue of callbacks, not as parked goroutines:
// at 3,000 services on a saturated machine most runs are waiting, and a
// goroutine each (its stack, environment and contexts) was most of the
// daemon's memory.
type Runner struct {
	mu      sync.Mutex
	free    int           // slots nobody holds
	waiting []func(*Slot) // Reserve callbacks, oldest first
}

// Slot is a held start slot.
type Slot struct {
	r        *Runner
	released atomic.Bool
}

// NewRunner returns a runner that starts at most startSlots programs at
// once (0 = no bound).
func NewRunner(startSlots int) *Runner {
	if startSlots <= 0 {
		return nil
	}
	return &Runner{free: startSlots}
}

// Reserve calls ready with a start slot as soon as one is free, in the
// order of the calls: at once if one is free now, else from the
// goroutine that releases one, so ready must not block. ready must pass
// the slot on in Cmd.Slot or release it. On a nil Runner, ready gets a
// nil slot at once.
func (r *Runner) Reserve(ready func(*Slot)) {
	if r == nil {
		ready(nil)
		return
	}
	r.mu.Lock()
	if r.free == 0 {
		r.waiting = append(r.waiting, ready)
		r.mu.Unlock()
		return
	}
	r.free--
	r.mu.Unlock()
	ready(&Slot{r: r})
}

// Release gives the slot back, or hands it to the oldest waiting
// Reserve. Releasing it again does nothing.
func (s *Slot) Release() {
	if s == nil || s.released.Swap(true) {
		return
	}
	r := s.r
	r.mu.Lock()
	if len(r.waiting) == 0 {
		r.free++
		r.mu.Unlock()
		return
	}
	next := r.waiting[0]
	r.waiting[0] = nil
	r.waiting = r.waiting[1:]
	r.mu.Unlock()
	next(&Slot{r: r})
}

// acquire waits for a start slot.
func (r *Runner) acquire(ctx context.Context) (*Slot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The callback and a waiter that gives up agree under mu on who
	// releases the slot, so none is lost.
	var (
		mu        sync.Mutex
		abandoned bool
		got       = make(chan *Slot, 1)
	)
	r.Reserve(func(s *Slot) {
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			s.Release()
			return
		}
		got <- s
	})
	select {
	case s := <-got:
		return s, nil
	case <-ctx.Done():
		mu.Lock()
		abandoned = true
		mu.Unlock()
		select {
		case s := <-got:
			s.Release()
		default:
		}
		return nil, ctx.Err()
	}
}

// Run runs c once and waits for it. On c.Timeout or when ctx is done the
// whole process group gets SIGTERM, then SIGKILL after the grace period;
// the child is always reaped before Run returns.
func (r *Runner) Run(ctx context.Context, c Cmd) Outcome {
	start := time.Now()
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	o := r.run(ctx, c)
	o.Duration = time.Since(start)
	return o
}

func (r *Runner) run(ctx context.Context, c Cmd) Outcome {
	slot := c.Slot
	if slot == nil {
		var err error
		if slot, err = r.acquire(ctx); err != nil {
			return notStarted(err, true)
		}
	} else if err := ctx.Err(); err != nil {
		slot.Release()
		return notStarted(err, true)
	}
	defer slot.Release()

	out, w, err := outputPipe()
	if err != nil {
		return notStarted(err, false)
	}
	defer out.Close()
	stdin, feed, err := stdinFor(c.Stdin)
	if err != nil {
		unix.Close(w)
		return notStarted(err, false)
	}
	proc, err := Start(c.Path, append([]string{c.Path}, c.Args...), Attr{
		Env:     c.Env,
		Files:   []int{int(stdin.Fd()), w, w}, // one pipe for both, as in mon
		Setpgid: true,
	})
	unix.Close(w) // the child holds its own copies
	if feed != nil {
		stdin.Close()
	}
	if err != nil {
		if feed != nil {
			feed.Close()
		}
		return notStarted(err, false)
	}
	slot.Release()
	if c.Started != nil {
		c.Started(proc.Pid)
	}
	if feed != nil {
		go writeStdin(feed, c.Stdin)
	}

	// This goroutine reads the output; a second one reaps the child and
	// then bounds the rest of the read, so a background child that
	// inherited the pipe cannot hold the run open.
	waited := make(chan exit, 1)
	var leftovers func()
	if c.KillLeftovers {
		leftovers = func() { unix.Kill(-proc.Pid, unix.SIGKILL) }
	}
	go func() {
		ws, err := proc.Wait(leftovers)
		out.SetReadDeadline(time.Now().Add(drainWait))
		waited <- exit{ws, err}
	}()
	var ended exit
	var timedOut bool
	killed := make(chan exit, 1)
	stopKill := context.AfterFunc(ctx, func() {
		// A caller may end the run for its own deadline (the scheduler's
		// clock) with a cause wrapping DeadlineExceeded.
		timedOut = errors.Is(context.Cause(ctx), context.DeadlineExceeded)
		killed <- killGroup(proc.Pid, c.KillGrace, waited)
	})
	data, dropped := readBounded(out, c.MaxOutput)
	canceled := !stopKill()
	switch {
	case canceled:
		ended = <-killed // timedOut is set before the send
	default:
		// The output ended, but a program that closed it may still run:
		// ctx must still be able to end it.
		select {
		case ended = <-waited:
		case <-ctx.Done():
			canceled = true
			timedOut = errors.Is(context.Cause(ctx), context.DeadlineExceeded)
			ended = killGroup(proc.Pid, c.KillGrace, waited)
		}
	}
	o := Outcome{Output: data, Dropped: dropped, TimedOut: timedOut, Canceled: canceled && !timedOut}
	switch ws := ended.ws; {
	case ended.err != nil:
		o.Exit = 1 // cannot happen: only our own child is waited for
	case ws.Signaled():
		o.Exit = 128 + int(ws.Signal())
		o.Signal = unix.SignalName(ws.Signal())
	default:
		o.Exit = ws.ExitStatus()
	}
	return o
}

func notStarted(err error, canceled bool) Outcome {
	// 127 is what a shell reports for a command it could not run.
	return Outcome{Exit: 127, StartErr: err, Canceled: canceled}
}

// outputPipe returns the pipe a run's output comes through: our end in
// the poller, the child's end a plain blocking descriptor that never goes
// near the poller (os.Pipe would register both ends and Fd() make the
// child's blocking again: six system calls more per run).
func outputPipe() (r *os.File, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, os.NewSyscallError("pipe2", err)
	}
	if _, err := unix.FcntlInt(uintptr(p[0]), unix.F_SETFL, unix.O_NONBLOCK); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, -1, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), p[1], nil
}

// stdinFor returns the child's stdin and, when there is input to feed,
// the write end of its pipe.
func stdinFor(input []byte) (child, feed *os.File, err error) {
	if input == nil {
		null, err := devNull()
		return null, nil, err
	}
	return os.Pipe()
}

// writeStdin feeds the input and closes the pipe. A program that does not
// read it gets EPIPE here, which is not an error of the run.
func writeStdin(w *os.File, input []byte) {
	defer w.Close()
	io.Copy(w, bytes.NewReader(input))
}

// killGroup ends the whole process group: SIGTERM, then SIGKILL if the
// leader has not exited within the grace period. It returns how the
// leader ended, once it has been reaped.
func killGroup(pgid int, grace time.Duration, waited <-chan exit) exit {
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	unix.Kill(-pgid, unix.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case ended := <-waited:
		// Children that ignored SIGTERM still go.
		unix.Kill(-pgid, unix.SIGKILL)
		return ended
	case <-t.C:
		unix.Kill(-pgid, unix.SIGKILL)
		return <-waited
	}
}

// exit is how a child ended, as its waiter reports it.
type exit struct {
	ws  syscall.WaitStatus
	err error
}

// readBuffers recycles the read buffers of readBounded: at hundreds of
// runs per second, a fresh 32 KiB buffer per run is most of the garbage
// the daemon makes.
var readBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// devNull is the stdin of every run without input, opened once.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

// readBounded reads f to EOF (or error, or its read deadline), keeping
// the first limit bytes and counting the rest. It holds a buffer only
// while there is something to read: a run spends most of its time
// waiting for a quiet monitor, and on a busy machine a thousand runs
// wait at once.
func readBounded(f *os.File, limit int64) (data []byte, dropped int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, 0
	}
	for done := false; !done; {
		err := rc.Read(func(fd uintptr) bool {
			bp := readBuffers.Get().(*[]byte)
			defer readBuffers.Put(bp)
			n, err := unix.Read(int(fd), *bp)
			for err == unix.EINTR {
				n, err = unix.Read(int(fd), *bp)
			}
			if err == unix.EAGAIN {
				return false // wait until the poller says there is data
			}
			chunk := (*bp)[:max(n, 0)]
			if room := limit - int64(len(data)); int64(len(chunk)) > room {
				dropped += int64(len(chunk)) - room
				chunk = chunk[:room]
			}
			data = append(data, chunk...)
			done = n <= 0 || err != nil // EOF or a read error
			return true
		})
		if err != nil {
			break // the deadline, or the file closed
		}
	}
	return data, dropped
}

// String describes how the run ended, for logs and error messages.
func (o Outcome) String() string {
	switch {
	case o.StartErr != nil:
		return "not started: " + o.StartErr.Error()
	case o.TimedOut:
		return "timed out"
	case o.Signal != "":
		return "killed by " + o.Signal
	}
	return fmt.Sprintf("exit status %d", o.Exit)
}
