// Package monitors runs checks: external monitor scripts (mon's
// interface) and built-in checks that run in-process. Every monitor is a
// Monitor, registered by name; the external-program runner is just one
// implementation.
package monitors

import (
	"context"
	"time"
)

// Request is one run of a monitor for one service.
type Request struct {
	Group, Service string
	Args           []string      // configured arguments after the monitor name, shell-split
	Hosts          []string      // host arguments (already filtered); empty with `;;`
	Env            []string      // MON_* and the service's VAR=value lines ("K=V")
	Timeout        time.Duration // 0 = no limit beyond ctx
	// KeepChildren leaves an external monitor's background processes
	// running after it exits; by default they are killed then.
	KeepChildren bool
	// Started, when set, is called with the process ID once an external
	// monitor has started (for `list pids`).
	Started func(pid int)
}

// HostResult is the verdict for one host.
type HostResult struct {
	Host   string
	OK     bool
	Detail string        // one-line reason or measurement
	RTT    time.Duration // round trip / response time where measured
}

// Result is what a monitor run produced, in mon's terms.
type Result struct {
	// Exit is the monitor exit status: 0 success, anything else failure.
	Exit int
	// Output is the complete text as the script would print it: the first
	// line is the summary, the rest the detail.
	Output []byte
	// Hosts holds per-host verdicts from built-ins (nil for scripts).
	Hosts []HostResult
	// Truncated counts output bytes dropped by the capture limit.
	Truncated int64
	// Signal names the signal that killed an external monitor ("" if none).
	Signal string
	// TimedOut is set when the run was killed for exceeding its timeout.
	TimedOut bool
	// Metrics are numeric measurements (e.g. Nagios perfdata), by name.
	Metrics  map[string]float64
	Duration time.Duration
}

// Monitor is one check implementation.
type Monitor interface {
	Check(ctx context.Context, req Request) Result
}

// MonitorFunc adapts a function to Monitor.
type MonitorFunc func(ctx context.Context, req Request) Result

// Check calls f.
func (f MonitorFunc) Check(ctx context.Context, req Request) Result { return f(ctx, req) }
