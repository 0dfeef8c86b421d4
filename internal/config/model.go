// Package config is gomon's configuration model: the plain structs that
// every later stage (scheduler, decision engine, server) reads. It only
// describes a configuration; package configfile reads mon.cf and HCL into
// it, validates it with positioned diagnostics and writes it back as HCL.
// Keeping the model free of the readers keeps the decision engine's build
// small (no HCL, no file system).
package config

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gomon/gomon/internal/depend"
	"github.com/gomon/gomon/internal/period"
)

// Pos is a position in a configuration file. Line is 1-based and counts
// physical lines, as mon does (the last physical line of a continued line).
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Config is one complete, validated configuration.
type Config struct {
	Source     string // the file it was read from ("" for embedded)
	Globals    Globals
	HostGroups []*HostGroup // in file order; a redefined group keeps its first position
	Views      []*View
	Aliases    []*Alias
	Watches    []*Watch
	Warnings   []Diagnostic // non-fatal findings, each with a position
}

// Globals are the `name = value` settings. Paths are stored as written;
// Resolve (paths.go) makes them absolute the way mon does.
type Globals struct {
	AlertDir             []string
	MonDir               []string
	BaseDir              string
	CfBaseDir            string
	LogDir               string
	StateDir             string
	HistLength           int
	ServerPort           int
	TrapPort             int
	ServerBind           string
	TrapBind             string
	ClientAllow          []string
	PidFile              string
	RandStart            time.Duration
	MaxProcs             int
	AuthFile             string
	AuthType             []string
	PamService           string
	UserFile             string
	HistoricFile         string
	HistoricTime         time.Duration
	CLTimeout            time.Duration
	MonErrFile           string
	DtLogFile            string
	DtLogging            bool
	DepRecurLimit        int
	SyslogFacility       string
	StartupAlertsOnReset bool
	MonRemote            string
	ExcludePeriod        *period.Spec // nil = unset

	// gomon extensions (not in mon 1.3.6; documented in docs/compatibility.md).
	MonitorTimeout time.Duration // default per-service monitor timeout; 0 = none (configfile sets 60s unless told)
	MaxClients     int           // concurrent client connections; 0 = default
	AlertRetries   int           // retries of an alert that failed (configfile sets 3)
	StatusListen   string        // address of the HTTP status page/metrics; "" = 127.0.0.1:2584, "off" = none
	Cluster        Cluster       // cluster mode; off while Cluster.Etcd is empty
	SNMPTrap       SNMPTrap      // the SNMP trap receiver; off while SNMPTrap.Listen is empty
}

// Cluster configures cluster mode on etcd (gomon; docs/cluster.md).
type Cluster struct {
	Etcd   []string      // cluster_etcd: endpoint URLs; none = cluster mode off
	Node   string        // cluster_node; "" = the host name
	Lease  time.Duration // cluster_lease; configfile sets 5s
	Prefix string        // cluster_prefix: the key prefix in etcd; configfile sets "/gomon/"
	// Advertise is the host or address other nodes reach this one at
	// (cluster_advertise), for forwarded traps and `list cluster`; ""
	// = serverbind/trapbind when they name one address.
	Advertise string
	// TLS and authentication towards etcd.
	CACert, Cert, Key  string // cluster_etcd_cacert, cluster_etcd_cert, cluster_etcd_key
	User, PasswordFile string // cluster_etcd_user, cluster_etcd_password_file
}

// Enabled reports whether cluster mode is configured.
func (c Cluster) Enabled() bool { return len(c.Etcd) > 0 }

// Scope is where a service runs in cluster mode.
type Scope string

const (
	ScopeShard Scope = ""    // the service's owner alone runs it (the default)
	ScopeAll   Scope = "all" // every node runs it and alerts for itself
)

// HostGroup is a named list of hosts.
type HostGroup struct {
	Name  string
	Hosts []string
	Pos   Pos
}

// View restricts some protocol listings to a set of watches/services.
type View struct {
	Name    string
	Members []string // "group" or "group:service"
	Pos     Pos
}

// Alias is free text shown by `list aliases`.
type Alias struct {
	Name  string
	Lines []string
	Pos   Pos
}

// Watch is a set of services for one host group.
type Watch struct {
	Name string
	// Implicit is true when no hostgroup of this name existed when the
	// watch was read; a one-host group named after the watch was created.
	Implicit bool
	Services []*Service
	Pos      Pos
}

// DepBehavior says how a service's `depend` expression is used.
type DepBehavior string

const (
	DepAlert       DepBehavior = "a"  // suppress alerts
	DepMonitor     DepBehavior = "m"  // suppress monitor runs
	DepHostMonitor DepBehavior = "hm" // drop hosts from monitor arguments
)

// EnvVar is one `NAME=value` line of a service.
type EnvVar struct {
	Name, Value string
}

// Service is one check of a watch: its name and position, and the rest
// of its configuration, which services that differ only in name and
// position share (there can be 100,000 services, most of them alike).
// The spec is read-only once the configuration is read: writing a
// field through one service would change every service sharing it.
type Service struct {
	Name string
	Pos  Pos
	*ServiceSpec
}

// ServiceSpec is a service's configuration but its name and position.
type ServiceSpec struct {
	Interval        time.Duration // 0 = never polled (trap-only) unless Schedule is set
	FailureInterval time.Duration
	Monitor         string // the monitor line verbatim ("" = none)
	AllowEmptyGroup bool
	Description     string
	ExcludeHosts    []string
	ExcludePeriod   *period.Spec
	Depend          *depend.Expr // nil = unset; SELF: already replaced
	AlertDepend     *depend.Expr
	MonitorDepend   *depend.Expr
	HostDepend      *depend.Expr
	DepBehavior     DepBehavior
	DepMemory       time.Duration
	RandSkew        time.Duration
	TrapTimeout     time.Duration
	TrapDuration    time.Duration
	Redistribute    string // alert name plus arguments, verbatim
	UnackSummary    bool
	Env             []EnvVar
	Periods         []*Period

	// gomon extensions.
	Schedule       *period.Schedule // cron schedule for monitor runs instead of Interval
	MonitorTimeout time.Duration    // kill the monitor's process group after this; 0 = global default, Unbounded = never
	// KeepChildren leaves what the monitor starts in the background
	// running after it exits (by default the rest of its process group
	// is killed then).
	KeepChildren bool
	// ClusterScope is where the service runs in cluster mode
	// (cluster_scope shard|all).
	ClusterScope Scope
	// HostVerdicts keeps a state per failing host, read from the
	// summary line (host_verdicts yes); alert_per_host in any period
	// implies it.
	HostVerdicts bool
	// Flap is the service's flap detection (flap_detection N LOW HIGH);
	// nil = off.
	Flap *FlapDetection
	// SNMPTraps map SNMP traps to this service (snmptrap lines).
	SNMPTraps []*SNMPTrapRule
	// Downtimes are the scheduled windows in which the service is
	// disabled (downtime lines).
	Downtimes []*Downtime
}

// TracksHosts reports whether the engine keeps per-host verdicts for s.
func (s *Service) TracksHosts() bool {
	if s.HostVerdicts {
		return true
	}
	for _, p := range s.Periods {
		if p.AlertPerHost {
			return true
		}
	}
	return false
}

// FlapDetection is Icinga's flap detection: the weighted percentage of
// state changes over the last Window results; a service starts flapping
// above High and stops below Low (percentages).
type FlapDetection struct {
	Window    int
	Low, High float64
}

// Unbounded is a service's `monitor_timeout 0`: its monitor runs as long
// as it likes, whatever the global monitor_timeout says.
const Unbounded time.Duration = -1

// AlertEveryMode is the modifier of `alertevery`.
type AlertEveryMode string

const (
	EverySummary       AlertEveryMode = ""               // default / "summary"
	EveryStrict        AlertEveryMode = "strict"         // suppress within the window, kept across recoveries
	EveryObserveDetail AlertEveryMode = "observe_detail" // compare the full output
	EveryIgnoreSummary AlertEveryMode = "ignore_summary" // suppress within the window
)

// Period is one `period` section of a service.
type Period struct {
	Key   string      // label, or the spec text as written when unlabelled
	Label string      // "" when unlabelled
	Spec  period.Spec // the time window
	Pos   Pos

	Alerts        []AlertLine
	UpAlerts      []AlertLine
	StartupAlerts []AlertLine
	AckAlerts     []AlertLine
	DisableAlerts []AlertLine

	AlertEvery     time.Duration
	AlertEveryMode AlertEveryMode
	// alertafter: Count only (N), Time only (T) or both (N T).
	AlertAfterCount int
	AlertAfterTime  time.Duration
	UpAlertAfter    time.Duration
	NumAlerts       int
	NoCompAlerts    bool
	AlertsDontCount bool
	AlertExitRange  *ExitRange

	// gomon extensions.
	// AlertPerHost sends one down alert per newly failing host and one
	// upalert per recovered host, alertevery and alertafter applied per
	// host (alert_per_host yes).
	AlertPerHost bool
	// AlertOnPeriodStart sends a still-failing service's down alert when
	// the period opens, if the failure was not alerted in it
	// (alert_on_period_start yes).
	AlertOnPeriodStart bool
}

// ExitRange is an inclusive range of monitor exit values.
type ExitRange struct {
	Lo, Hi int
}

// Contains reports whether v is within the range.
func (r ExitRange) Contains(v int) bool { return v >= r.Lo && v <= r.Hi }

func (r ExitRange) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprint(r.Lo)
	}
	return fmt.Sprintf("%d-%d", r.Lo, r.Hi)
}

// AlertLine is one `alert`/`upalert`/... line of a period.
type AlertLine struct {
	Exit *ExitRange // from a leading exit=R word; nil = any
	// Local marks a node-local action (a leading word "local"): in cluster
	// mode every node runs it, where other alerts go out once, from the
	// service's owner. Alone, it changes nothing.
	Local   bool
	Name    string   // program or built-in alert name
	Args    []string // shell-split, quotes removed
	RawArgs string   // argument text as written (for the alert history)
	Pos     Pos
}

// String renders an alert line the way mon.cf writes it.
func (a AlertLine) String() string {
	s := a.Name
	if a.Local {
		s = "local " + s
	}
	if a.Exit != nil {
		s = "exit=" + a.Exit.String() + " " + s
	}
	if a.RawArgs != "" {
		s += " " + a.RawArgs
	}
	return s
}

// Diagnostic is an error or warning tied to a position.
type Diagnostic struct {
	Pos Pos
	// Msg is the message without position, e.g. "cf error: unknown
	// variable 'foo'" or "Warning: hostgroup g has no watch assigned to it!".
	Msg string
	// Hint says what was expected where mon's own text does not; it is a
	// gomon addition and never part of Legacy.
	Hint string
	// Legacy is the exact text mon prints for this problem (errors:
	// "cf error: ..., line N"; warnings: mon's stderr line). Empty for
	// warnings mon does not emit.
	Legacy string
}

// String renders "FILE:LINE: MSG[; HINT]". Problems without a line (a
// missing file) render as the message alone, which already names the file.
// The message and hint quote the user's text, so they are made printable
// (control bytes and invalid UTF-8 as \xNN) and clipped: a stray binary
// file or a megabyte line must not garble a terminal or a log.
func (d Diagnostic) String() string {
	s := printable(d.Msg, maxDiagText)
	if d.Pos.Line > 0 {
		s = d.Pos.String() + ": " + s
	}
	if d.Hint != "" {
		s += "; " + printable(d.Hint, maxDiagText)
	}
	return s
}

// maxDiagText bounds the message and the hint of a rendered Diagnostic.
const maxDiagText = 512

// printable escapes control bytes (but tabs) and invalid UTF-8 as \xNN
// and keeps at most max bytes of s, saying how much it left out.
func printable(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() >= max {
			fmt.Fprintf(&b, " …[%d bytes more]", len(s)-i)
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20 && r != '\t', r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", s[i])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Watch returns the watch called name, or nil.
func (c *Config) Watch(name string) *Watch {
	for _, w := range c.Watches {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// HostGroup returns the host group called name, or nil.
func (c *Config) HostGroup(name string) *HostGroup {
	for _, g := range c.HostGroups {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// Service returns the service called name, or nil.
func (w *Watch) Service(name string) *Service {
	for _, s := range w.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}
