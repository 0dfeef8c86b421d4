package monitors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomon/gomon/internal/spawn"
)

// Defaults for External.
const (
	DefaultMaxOutput = 1 << 20         // bytes of output kept per run
	DefaultKillGrace = 2 * time.Second // SIGTERM → SIGKILL delay
)

// drainWait bounds how long output is still read after the monitor
// itself has exited: a background child that inherited the pipe must not
// hold the run open.
const drainWait = time.Second

// External runs a monitor program the way mon does: argv = Args + Hosts
// (never through a shell), stdin /dev/null, stdout and stderr merged into
// one capture, environment = ours + req.Env.
//
// Unlike mon it bounds the run: on req.Timeout or ctx cancellation the
// whole process group gets SIGTERM, then SIGKILL after KillGrace; the
// captured output is capped at MaxOutput bytes; and a monitor killed by a
// signal is a failure (mon counts it as success, Q-SCH-4).
type External struct {
	Path      string
	MaxOutput int64         // 0 = DefaultMaxOutput
	KillGrace time.Duration // 0 = DefaultKillGrace
}

// Check runs the program once and reports what it printed and how it
// ended. The child is always reaped before Check returns.
func (e *External) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	res := e.run(ctx, req)
	res.Duration = time.Since(start)
	return res
}

func (e *External) run(ctx context.Context, req Request) Result {
	if err := ctx.Err(); err != nil {
		return Result{Exit: 1, Output: fmt.Appendf(nil, "monitor not started: %v\n", err)}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return startFailure(e.Path, err)
	}
	defer r.Close()

	argv := append(append([]string{e.Path}, req.Args...), req.Hosts...)
	null, _ := devNull() // nil: the child's stdin is closed
	proc, err := spawn.Start(e.Path, argv, spawn.Attr{
		Env:     spawn.Environ(os.Environ(), req.Env),
		Files:   []*os.File{null, w, w}, // one pipe for both, as in mon
		Setpgid: true,
	})
	w.Close() // the child holds its own copy
	if err != nil {
		return startFailure(e.Path, err)
	}
	if req.Started != nil {
		req.Started(proc.Pid)
	}

	// This goroutine reads the output; a second one reaps the child and
	// then bounds the rest of the read, so a background child that
	// inherited the pipe cannot hold the run open.
	waited := make(chan exit, 1)
	go func() {
		ws, err := proc.Wait()
		r.SetReadDeadline(time.Now().Add(drainWait))
		waited <- exit{ws, err}
	}()
	var timedOut bool
	killed := make(chan exit, 1)
	stopKill := context.AfterFunc(ctx, func() {
		timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		killed <- e.killGroup(proc.Pid, waited)
	})
	out := readBounded(r, e.maxOutput())
	var ended exit
	if stopKill() {
		ended = <-waited
	} else {
		ended = <-killed // timedOut is set before the send
	}
	res := Result{Output: out.data, Truncated: out.dropped, TimedOut: timedOut}
	switch ws := ended.ws; {
	case ended.err != nil:
		res.Exit = 1 // cannot happen: only our own child is waited for
	case ws.Signaled():
		// Shell convention, so `exit=` ranges can still tell it apart.
		res.Exit = 128 + int(ws.Signal())
		res.Signal = unix.SignalName(ws.Signal())
	default:
		res.Exit = ws.ExitStatus()
	}
	if timedOut && res.Exit == 0 {
		res.Exit = 128 + int(syscall.SIGTERM) // it exited cleanly, but only because we asked
	}
	switch {
	case timedOut:
		res.Output = withSummary(res.Output, timeoutText(req.Timeout))
	case res.Signal != "":
		res.Output = withSummary(res.Output, "killed by signal "+res.Signal)
	}
	return res
}

// killGroup ends the whole process group: SIGTERM, then SIGKILL if the
// leader has not exited within the grace period. It returns how the
// leader ended, once it has been reaped.
func (e *External) killGroup(pgid int, waited <-chan exit) exit {
	unix.Kill(-pgid, unix.SIGTERM)
	grace := time.NewTimer(e.killGrace())
	defer grace.Stop()
	select {
	case ended := <-waited:
		// Children that ignored SIGTERM still go.
		unix.Kill(-pgid, unix.SIGKILL)
		return ended
	case <-grace.C:
		unix.Kill(-pgid, unix.SIGKILL)
		return <-waited
	}
}

func (e *External) maxOutput() int64 {
	if e.MaxOutput > 0 {
		return e.MaxOutput
	}
	return DefaultMaxOutput
}

func (e *External) killGrace() time.Duration {
	if e.KillGrace > 0 {
		return e.KillGrace
	}
	return DefaultKillGrace
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

// devNull is every run's stdin, opened once instead of per run.
var devNull = sync.OnceValues(func() (*os.File, error) { return os.Open(os.DevNull) })

type capturedOutput struct {
	data    []byte
	dropped int64
}

// readBounded reads r to EOF (or error), keeping the first limit bytes
// and counting the rest, so the writer never blocks on a full pipe.
func readBounded(r io.Reader, limit int64) capturedOutput {
	var out capturedOutput
	bp := readBuffers.Get().(*[]byte)
	defer readBuffers.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		if room := limit - int64(len(out.data)); int64(len(chunk)) > room {
			out.dropped += int64(len(chunk)) - room
			chunk = chunk[:room]
		}
		out.data = append(out.data, chunk...)
		if err != nil {
			return out
		}
	}
}

// withSummary makes sure a run that gomon ended (or that a signal ended)
// says so: a blank first line is replaced by text; a summary the monitor
// printed itself is kept.
func withSummary(out []byte, text string) []byte {
	first, rest, _ := bytes.Cut(out, []byte("\n"))
	if strings.TrimSpace(string(first)) != "" {
		return out
	}
	return append([]byte(text+"\n"), rest...)
}

func timeoutText(d time.Duration) string {
	if d > 0 {
		return "timed out after " + d.String()
	}
	return "timed out"
}

func startFailure(path string, err error) Result {
	// 127 is what a shell reports for a command it could not run.
	return Result{Exit: 127, Output: fmt.Appendf(nil, "could not run monitor %s: %v\n", path, err)}
}
