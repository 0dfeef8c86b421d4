package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// DefaultMaxOutput bounds how much of an alert program's stdout and of its
// stderr is kept (each); the rest is counted and dropped.
const DefaultMaxOutput = 64 << 10

// waitDelay bounds how long Run waits for the output pipes after the
// program exited or was killed: a background grandchild that escaped the
// process group may keep them open forever.
const waitDelay = 2 * time.Second

// External runs an alert program the way mon does: argv from Event.Argv,
// stdin = Event.Input, environment = the daemon's plus Event.Env. It never
// uses a shell. The program gets its own process group, and the whole group
// is killed when ctx is done.
type External struct {
	Path      string
	MaxOutput int // bytes kept of stdout and of stderr; 0 means DefaultMaxOutput
}

// Send runs the program and waits for it. See Run.
func (x *External) Send(ctx context.Context, ev Event) error {
	_, err := x.Run(ctx, ev)
	return err
}

// Run runs the program and returns what it did, for the caller to log
// (Result implements slog.LogValuer). The error is nil only when the
// program exited 0; an exit status, a signal or a cancelled ctx give an
// *ExitError carrying the same Result.
func (x *External) Run(ctx context.Context, ev Event) (Result, error) {
	return run(ctx, append([]string{x.Path}, ev.Argv()...), ev, x.MaxOutput)
}

// Result describes one finished alert program.
type Result struct {
	Path      string
	ExitCode  int    // -1 when killed by a signal or not started
	Signal    string // the signal that killed it, if any
	Stdout    []byte // at most MaxOutput bytes
	Stderr    []byte // at most MaxOutput bytes
	Truncated bool   // some stdout or stderr was dropped
	Duration  time.Duration
}

// LogValue lets the scheduler log a Result with slog.Any("alert", res).
func (r Result) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("path", r.Path),
		slog.Int("exit", r.ExitCode),
		slog.Duration("duration", r.Duration),
	}
	if r.Signal != "" {
		attrs = append(attrs, slog.String("signal", r.Signal))
	}
	if len(r.Stdout) > 0 {
		attrs = append(attrs, slog.String("stdout", string(r.Stdout)))
	}
	if len(r.Stderr) > 0 {
		attrs = append(attrs, slog.String("stderr", string(r.Stderr)))
	}
	if r.Truncated {
		attrs = append(attrs, slog.Bool("truncated", true))
	}
	return slog.GroupValue(attrs...)
}

// ExitError reports an alert program that failed, was killed or could not
// be waited for. Err is the underlying cause (e.g. context.DeadlineExceeded
// or an *exec.ExitError).
type ExitError struct {
	Result Result
	Err    error
}

func (e *ExitError) Error() string {
	switch {
	case e.Result.Signal != "":
		return fmt.Sprintf("alert %s: killed by %s: %v", e.Result.Path, e.Result.Signal, e.Err)
	case e.Result.ExitCode > 0:
		return fmt.Sprintf("alert %s: exit status %d", e.Result.Path, e.Result.ExitCode)
	}
	return fmt.Sprintf("alert %s: %v", e.Result.Path, e.Err)
}

func (e *ExitError) Unwrap() error { return e.Err }

// run starts argv (argv[0] is the program path, never a shell) with the
// event's input and environment and waits for it or for ctx.
func run(ctx context.Context, argv []string, ev Event, maxOutput int) (Result, error) {
	if maxOutput <= 0 {
		maxOutput = DefaultMaxOutput
	}
	res := Result{Path: argv[0], ExitCode: -1}
	if err := ctx.Err(); err != nil {
		return res, &ExitError{Result: res, Err: err}
	}
	stdout := &capBuffer{max: maxOutput}
	stderr := &capBuffer{max: maxOutput}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = bytes.NewReader(ev.Input)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.Env = append(os.Environ(), ev.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: alert scripts often run sendmail & co.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay

	start := time.Now()
	err := cmd.Run()
	res.Duration = time.Since(start)
	res.Stdout, res.Stderr = stdout.buf.Bytes(), stderr.buf.Bytes()
	res.Truncated = stdout.dropped > 0 || stderr.dropped > 0
	if ps := cmd.ProcessState; ps != nil {
		res.ExitCode = ps.ExitCode()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
	}
	if errors.Is(err, exec.ErrWaitDelay) && res.ExitCode == 0 && ctx.Err() == nil {
		// It exited 0; only a leftover child held the pipes open.
		return res, nil
	}
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return res, &ExitError{Result: res, Err: err}
	}
	return res, nil
}

// capBuffer keeps the first max bytes written to it and counts the rest.
type capBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (c *capBuffer) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if room < len(p) {
		if room > 0 {
			c.buf.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
		return len(p), nil
	}
	return c.buf.Write(p)
}
