package monitors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gomon/gomon/internal/spawn"
)

// DefaultMaxOutput is how many bytes of a run's output External keeps.
const DefaultMaxOutput = 1 << 20

// External runs a monitor program the way mon does: argv = Args + Hosts
// (never through a shell), stdin /dev/null, stdout and stderr merged into
// one capture, environment = ours + req.Env.
//
// Unlike mon it bounds the run (see spawn.Runner): on req.Timeout or ctx
// cancellation the whole process group gets SIGTERM, then SIGKILL after
// KillGrace; the captured output is capped at MaxOutput bytes; and a
// monitor killed by a signal is a failure (mon counts it as success,
// Q-SCH-4).
type External struct {
	Path      string
	MaxOutput int64         // 0 = DefaultMaxOutput
	KillGrace time.Duration // 0 = spawn.DefaultKillGrace
	Runner    *spawn.Runner // nil: no bound on concurrent starts
}

// Check runs the program once and reports what it printed and how it
// ended. The child is always reaped before Check returns.
func (e *External) Check(ctx context.Context, req Request) Result {
	maxOut := e.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	o := e.Runner.Run(ctx, spawn.Cmd{
		Path:      e.Path,
		Args:      append(append([]string(nil), req.Args...), req.Hosts...),
		Env:       spawn.Environ(os.Environ(), req.Env),
		MaxOutput: maxOut,
		Timeout:   req.Timeout,
		KillGrace: e.KillGrace,
		Started:   req.Started,
		Slot:      req.Slot,
		// What a run leaves behind would pile up run after run.
		KillLeftovers: !req.KeepChildren,
	})
	res := Result{Exit: o.Exit, Output: o.Output, Truncated: o.Dropped, Signal: o.Signal,
		TimedOut: o.TimedOut, Duration: o.Duration}
	// A monitor script may report numbers as a Nagios plugin does
	// ("summary | label=value[UOM];warn;crit ...").
	_, _, perf := splitPluginOutput(o.Output)
	res.Values = values("", perf)
	switch {
	case o.StartErr != nil && o.Canceled:
		res.Exit, res.Output = 1, fmt.Appendf(nil, "monitor not started: %v\n", o.StartErr)
	case o.StartErr != nil:
		res.Output = fmt.Appendf(nil, "could not run monitor %s: %v\n", e.Path, o.StartErr)
	case o.TimedOut:
		res = res.TimedOutAfter(req.Timeout)
	case o.Signal != "":
		res.Output = withSummary(res.Output, "killed by signal "+o.Signal)
	}
	return res
}

// TimedOutAfter marks r as ended by its timeout d: a failure even if the
// monitor exited 0 (it did so only because it was asked to), and a
// summary that says so when the monitor printed none.
func (r Result) TimedOutAfter(d time.Duration) Result {
	r.TimedOut = true
	if r.Exit == 0 {
		r.Exit = 128 + int(syscall.SIGTERM)
	}
	r.Output = withSummary(r.Output, timeoutText(d))
	return r
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
