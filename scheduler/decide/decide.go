// Package decide is mon's alert decision logic as a pure function: given
// a service's configuration, its run-time state, one event and a snapshot
// of the world, it updates the state and returns the alerts to send and a
// trace of why each was sent or suppressed. It does no I/O, reads no
// clock and starts no goroutines, so every rule is a table row in a test.
package decide

import (
	"slices"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// Status is an operational status code (mon's _op_status).
type Status int

const (
	Fail      Status = 0
	OK        Status = 1
	ColdStart Status = 2
	WarmStart Status = 3
	LinkDown  Status = 4
	Unknown   Status = 5
	Timeout   Status = 6
	Untested  Status = 7
	Depend    Status = 8
	Warn      Status = 9
)

var statusNames = [...]string{"fail", "ok", "coldstart", "warmstart", "linkdown", "unknown", "timeout", "untested", "depend", "warn"}

// String is the lower-case name of the status ("fail", "ok", ...).
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// ParseStatus returns the status called name, as `set G S opstatus NAME`
// takes it: one of the eight names mon accepts there.
func ParseStatus(name string) (Status, bool) {
	for i, n := range statusNames[:Depend] {
		if n == name {
			return Status(i), true
		}
	}
	return 0, false
}

// TrapStatus returns the status a trap's opstatus name stands for, as
// Mon::Client's send_trap takes it: the names ParseStatus accepts, and
// "dependency" for Depend (a trap cannot carry warn).
func TrapStatus(name string) (Status, bool) {
	if name == "dependency" {
		return Depend, true
	}
	return ParseStatus(name)
}

// IsFailure reports membership in mon's FAILURE set.
func (s Status) IsFailure() bool { return s == Fail || s == LinkDown || s == Timeout }

// IsSuccess reports membership in mon's SUCCESS set.
func (s Status) IsSuccess() bool {
	return s == OK || s == ColdStart || s == WarmStart || s == Unknown || s == Untested
}

// IsWarning reports membership in mon's WARNING set.
func (s Status) IsWarning() bool {
	return s == ColdStart || s == WarmStart || s == Unknown || s == Warn
}

// State is the run-time state of one service: mon's `_` keys. Times are
// whole epoch seconds as mon shows them; 0 means none.
type State struct {
	OpStatus, LastOpStatus Status
	ExitVal                int
	LastSuccess            int64
	LastFailure            int64
	FirstFailure           int64

	// The flags are together: there is a State per service, and each one
	// between wider fields would take eight bytes.

	HasExitVal      bool // false = "undef" (no event yet)
	HasFirstFailure bool // MON_FIRST_FAILURE is exported once set
	// FirstFailureBlank: first_failure was loaded empty from a state
	// file (saved before the first failure). mon loads every saved field
	// as it is, so it is then defined and empty: MON_FIRST_FAILURE= is
	// exported, empty, until the next event sets it.
	FirstFailureBlank bool
	// HasFirstSuccess: see FirstSuccess.
	HasFirstSuccess bool
	HasLastEvent    bool // MON_LAST_SUMMARY exported once set
	// HasLastOutput: MON_LAST_OUTPUT exported. Unlike the summary it is not
	// in the opstatus state file, so a loaded state leaves it unset.
	HasLastOutput         bool
	Disabled              bool
	FailureIntervalActive bool // see Interval
	// ResetSchedule is set by Process when the interval changed and the
	// fixed-rate schedule must restart from now (mon's _next_check := 0).
	ResetSchedule bool
	Flapping      bool `json:",omitempty"` // see FlapHistory and FlapPercent

	// FirstSuccess, HasFirstSuccess: mon's _first_success, which it
	// saves and loads but never assigns, so it exists only after a state
	// load (and is then empty): monitors get MON_FIRST_SUCCESS= only then.
	FirstSuccess   string
	ConsecFailures int
	FailureCount   int
	AlertCount     int
	LastSummary    string
	LastDetail     string
	LastOutput     string
	Ack            int64
	AckComment     string
	DependStatus   *bool // nil = never evaluated

	// Interval is the current polling interval: the configured one, or
	// failure_interval while that is active (FailureIntervalActive).
	Interval time.Duration
	// FailureInterval is the service's failure_interval, changed by `set`
	// as in mon (0: none).
	FailureInterval time.Duration

	Periods []PeriodState // parallel to config.Service.Periods

	// gomon extensions (docs/extensions.md); empty unless configured.

	// Hosts holds the hosts of the group that are failing now, by name
	// (host_verdicts, alert_per_host): a host enters with its first
	// failure and leaves when it recovers.
	Hosts map[string]*HostState `json:",omitempty"`

	// rare is what a service sets only when it fails, gets traps, or has
	// failure_interval or flap detection (state.go): nil until then.
	rare *rareState
}

// HostState is the verdict on one failing host of a service.
type HostState struct {
	FirstFailure   int64
	LastFailure    int64
	ConsecFailures int
	// LastOutput is what the last failing run said about the host: the
	// lines of its detail that start with the host's name.
	LastOutput string `json:",omitempty"`
	// Periods is the alert bookkeeping of the host in alert_per_host
	// periods, parallel to config.Service.Periods.
	Periods []PeriodState `json:",omitempty"`
}

// Clone returns a copy of st that shares nothing mutable with it.
func (st *State) Clone() State {
	c := *st
	c.Periods = slices.Clone(st.Periods)
	if st.rare != nil {
		r := *st.rare
		r.FlapHistory = slices.Clone(r.FlapHistory)
		c.rare = &r
	}
	if st.Hosts != nil {
		c.Hosts = make(map[string]*HostState, len(st.Hosts))
		for h, hs := range st.Hosts {
			hc := *hs
			hc.Periods = slices.Clone(hs.Periods)
			c.Hosts[h] = &hc
		}
	}
	return c
}

// FailingHosts returns the hosts with a failure verdict, in the order of
// hosts (the group's), then any others sorted.
func (st *State) FailingHosts(hosts []string) []string {
	out := make([]string, 0, len(st.Hosts))
	for _, h := range hosts {
		if st.Hosts[h] != nil {
			out = append(out, h)
		}
	}
	if len(out) == len(st.Hosts) {
		return out
	}
	var rest []string
	for h := range st.Hosts {
		if !slices.Contains(out, h) {
			rest = append(rest, h)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// PeriodState is the per-period alert bookkeeping.
type PeriodState struct {
	AlertSent         int
	LastAlert         int64
	FirstFailTime     int64
	FailCount         int
	NoCompUpalertSent int
	// Defined tells which of LastAlert, FirstFailTime and FailCount mon
	// would have assigned (the rest are undefined in Perl): the opstatus
	// state file writes those empty.
	Defined PeriodVars
}

// PeriodVars is a set of PeriodState fields.
type PeriodVars uint8

// The PeriodState fields tracked by Defined.
const (
	DefLastAlert PeriodVars = 1 << iota
	DefFirstFailTime
	DefFailCount
)

// NewState returns the state of a freshly loaded service.
func NewState(svc *config.Service) *State {
	st := &State{
		OpStatus:     Untested,
		LastOpStatus: Untested,
		Interval:     svc.Interval,
		Periods:      make([]PeriodState, len(svc.Periods)),

		FailureInterval: svc.FailureInterval,
	}
	// mon's config parser sets these for the alertafter forms with a time.
	for i, p := range svc.Periods {
		if p.AlertAfterTime > 0 {
			st.Periods[i].Defined |= DefFirstFailTime
			if p.AlertAfterCount > 0 {
				st.Periods[i].Defined |= DefFailCount
			}
		}
	}
	return st
}

// Kind is the source of an event.
type Kind int

const (
	Monitor     Kind = iota // a monitor run finished (mon type "m")
	Trap                    // an accepted trap ("t")
	TrapTimeout             // a traptimeout heartbeat expired ("T")
)

// Result is one event for the service.
type Result struct {
	Kind   Kind
	Exit   int    // monitor exit status / trap sta; 0 = success
	Output string // full text: summary line, then detail
}

// World is everything outside the service that a decision reads.
type World struct {
	Now           time.Time
	Stopped       bool // scheduler stopped: every alert is dropped
	WatchDisabled bool
	// EvalDepend evaluates the service's alert-side dependency expression
	// (depend with dep_behavior a, or alertdepend). nil = no dependency.
	EvalDepend func() (bool, error)
	// HasAlert reports whether an alert line can be started (its name
	// resolves to a program or a built-in that accepts its arguments);
	// mon counts only alerts it could start. nil = every line can.
	HasAlert func(line config.AlertLine) bool
	// Hosts are the hosts of the service's group: the only words of a
	// summary line taken for failing hosts (per-host verdicts).
	Hosts []string
}

// Action is one alert to start.
type Action struct {
	Period       int // index into the service's periods; -1 for redistribute
	Line         config.AlertLine
	Type         AlertType
	Host         string  // alert_per_host: the one host the alert is for ("" = the group's hosts)
	Flag         *string // overrides the type's command-line flag (nil = the type's own)
	Input        string  // stdin
	Retval       *int    // nil = unset (ack alerts): MON_RETVAL absent
	Redistribute bool
	// Record is true for alerts that go to the alert history (all but
	// redistribute and test alerts).
	Record bool
	// Env is the service state the alert must see in its MON_*
	// variables. It is captured when the alert is decided, because mon
	// calls alerts in the middle of an event: an upalert still sees the
	// failure's times and summary, which Process clears afterwards.
	Env Env
}

// Env is the part of State exported to an alert program. Has* false
// means the variable is absent (mon's undef).
type Env struct {
	OpStatus        Status
	LastSummary     string // MON_LAST_SUMMARY
	HasLastSummary  bool
	LastOutput      string // MON_LAST_OUTPUT
	HasLastOutput   bool
	LastFailure     int64 // MON_LAST_FAILURE
	FirstFailure    int64 // MON_FIRST_FAILURE
	HasFirstFailure bool
	// FirstFailureBlank: MON_FIRST_FAILURE is set and empty (State).
	FirstFailureBlank bool
	FirstSuccess      string // MON_FIRST_SUCCESS, always set for alerts
	LastSuccess       int64  // MON_LAST_SUCCESS
	Ack               string // MON_ACK; "" = absent
	Intended          string // MON_TRAP_INTENDED; "" = absent
	Host              string // MON_HOST (alert_per_host); "" = absent
}

// Trace is one line of the decision trace: which rule sent or suppressed
// an alert, readable by operators ("why was I (not) paged?").
type Trace struct {
	Time   time.Time
	Period string // period key, "" for service-level rules
	Sent   bool
	Rule   string // short rule name: "alertevery", "numalerts", "ack", "stopped", ...
	Msg    string // human text, e.g. "suppressed: alertevery 1h, last sent 12m ago"
}

// Decision is the outcome of one event.
type Decision struct {
	Actions []Action
	Trace   []Trace
	// Failure is true when the event was a failure (for the failure
	// history and the "failure for G S" log line).
	Failure bool
	// Recovered is true on a success whose previous status was FAIL (the
	// downtime log writes a line).
	Recovered bool
}
