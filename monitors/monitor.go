// Package monitors runs checks: external monitor scripts (mon's
// interface) and built-in checks that run in-process. Every monitor is a
// Monitor, registered by name; the external-program runner is just one
// implementation.
package monitors

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/gomon/gomon/internal/spawn"
)

// Request is one run of a monitor for one service.
type Request struct {
	Group, Service string
	Args           []string      // configured arguments after the monitor name, shell-split
	Hosts          []string      // host arguments (already filtered); empty with `;;`; read only: the caller may share it
	Env            []string      // MON_* and the service's VAR=value lines ("K=V")
	Timeout        time.Duration // 0 = no limit beyond ctx
	// KeepChildren leaves an external monitor's background processes
	// running after it exits; by default they are killed then.
	KeepChildren bool
	// Started, when set, is called with the process ID once an external
	// monitor has started (for `list pids`).
	Started func(pid int)
	// Slot is a start slot already held for an external monitor's run
	// (see spawn.Runner.Reserve); nil: the run waits for one itself.
	Slot *spawn.Slot
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
	// Values are the numbers the run measured (Nagios perfdata, free
	// space, SNMP values, process counts, load), exported on /metrics.
	Values   []Value
	Duration time.Duration
}

// Value is one measurement of a run. Host is "" for a measurement of the
// machine gomon runs on or of the run as a whole.
type Value struct {
	Name, Host string
	Value      float64
}

// Value returns the measurement name of host, if the run reported it.
func (r Result) Value(host, name string) (float64, bool) {
	for _, v := range r.Values {
		if v.Host == host && v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

// Measurements are the run's Values and, for every host whose response
// time was measured (tcp, http, ping), a "response_seconds" value.
func (r Result) Measurements() []Value {
	out := slices.Clone(r.Values)
	for _, h := range r.Hosts {
		if h.RTT > 0 {
			out = append(out, Value{Name: "response_seconds", Host: h.Host, Value: h.RTT.Seconds()})
		}
	}
	return out
}

// values turns a map of measurements of host into Values, sorted by name
// so that runs list them in a stable order.
func values(host string, m map[string]float64) []Value {
	out := make([]Value, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Value{Name: k, Host: host, Value: m[k]})
	}
	return out
}

// Monitor is one check implementation.
type Monitor interface {
	Check(ctx context.Context, req Request) Result
}

// MonitorFunc adapts a function to Monitor.
type MonitorFunc func(ctx context.Context, req Request) Result

// Check calls f.
func (f MonitorFunc) Check(ctx context.Context, req Request) Result { return f(ctx, req) }

// shareable marks built-ins whose instance holds only its parsed options
// and keeps nothing from one run to the next, so that services with the
// same monitor line can run one instance (Shareable).
type shareable interface {
	Monitor
	shareable()
}

// Shareable reports whether m may serve several services at once: at
// 100,000 services one instance per distinct line instead of per service
// saves the parse at every load and its memory.
func Shareable(m Monitor) bool {
	_, ok := m.(shareable)
	return ok
}

// hostsOnly marks built-ins that use nothing of a Request but its hosts
// and timeout (HostsOnly).
type hostsOnly interface {
	Monitor
	hostsOnly()
}

// HostsOnly reports whether m uses nothing of a Request but its hosts and
// timeout: not the MON_* environment, not Started. The scheduler builds
// those only for the monitors that may use them: the environment is a
// dozen strings per run, most of what it allocated for a tcp check.
func HostsOnly(m Monitor) bool {
	_, ok := m.(hostsOnly)
	return ok
}
