package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gomon/gomon/internal/spawn"
)

// DefaultMaxOutput bounds how much of an alert program's output is kept;
// the rest is counted and dropped.
const DefaultMaxOutput = 64 << 10

// External runs an alert program the way mon does: argv from Event.Argv,
// stdin = Event.Input, environment = the daemon's plus Event.Env, never
// through a shell. It runs on spawn.Runner like the monitors: its own
// process group, stdout and stderr merged and capped, and when ctx is done
// the whole group gets SIGTERM, then SIGKILL (alert scripts often start
// sendmail & co.).
type External struct {
	Path      string
	MaxOutput int64         // 0 = DefaultMaxOutput
	Runner    *spawn.Runner // nil: no bound on concurrent starts
}

// Send runs the program and waits for it. It fails with an *ExitError
// unless the program exited 0.
func (x *External) Send(ctx context.Context, ev Event) error {
	return runProgram(ctx, x.Runner, x.Path, ev.Argv(), ev, x.MaxOutput)
}

// Result describes one finished alert program.
type Result struct {
	Path      string
	Exit      int    // exit status; 128+N when killed by signal N, 127 when not started
	Signal    string // the signal that killed it, if any
	Output    []byte // stdout and stderr, at most MaxOutput bytes
	Truncated bool   // some output was dropped
	Duration  time.Duration
}

// LogValue lets the scheduler log a Result with slog.Any("alert", res).
func (r Result) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("path", r.Path),
		slog.Int("exit", r.Exit),
		slog.Duration("duration", r.Duration),
	}
	if r.Signal != "" {
		attrs = append(attrs, slog.String("signal", r.Signal))
	}
	if len(r.Output) > 0 {
		attrs = append(attrs, slog.String("output", string(r.Output)))
	}
	if r.Truncated {
		attrs = append(attrs, slog.Bool("truncated", true))
	}
	return slog.GroupValue(attrs...)
}

// ExitError reports an alert program that failed, was killed or could not
// be started. Err is the cause when there is one beyond the exit status
// (e.g. context.DeadlineExceeded, or the start error).
type ExitError struct {
	Result Result
	Err    error
}

func (e *ExitError) Error() string {
	switch {
	case e.Result.Signal != "" && e.Err != nil:
		return fmt.Sprintf("alert %s: killed by %s: %v", e.Result.Path, e.Result.Signal, e.Err)
	case e.Result.Signal != "":
		return fmt.Sprintf("alert %s: killed by %s", e.Result.Path, e.Result.Signal)
	case e.Err != nil:
		return fmt.Sprintf("alert %s: %v", e.Result.Path, e.Err)
	}
	return fmt.Sprintf("alert %s: exit status %d", e.Result.Path, e.Result.Exit)
}

func (e *ExitError) Unwrap() error { return e.Err }

// runProgram runs path with args, the event's input and environment, and
// waits for it or for ctx.
func runProgram(ctx context.Context, r *spawn.Runner, path string, args []string, ev Event, maxOutput int64) error {
	if maxOutput <= 0 {
		maxOutput = DefaultMaxOutput
	}
	input := ev.Input
	if input == nil {
		input = []byte{} // an empty stdin, as mon's pipe gives
	}
	o := r.Run(ctx, spawn.Cmd{
		Path:      path,
		Args:      args,
		Env:       spawn.Environ(os.Environ(), ev.Env),
		Stdin:     input,
		MaxOutput: maxOutput,
	})
	res := Result{Path: path, Exit: o.Exit, Signal: o.Signal, Output: o.Output, Truncated: o.Dropped > 0, Duration: o.Duration}
	switch {
	case o.StartErr != nil:
		return &ExitError{Result: res, Err: o.StartErr}
	case o.Canceled || o.TimedOut:
		return &ExitError{Result: res, Err: context.Cause(ctx)}
	case o.Exit != 0:
		return &ExitError{Result: res}
	}
	return nil
}
