package protocol

import (
	"math"
	"strconv"
	"strings"

	"github.com/gomon/gomon/scheduler/decide"
)

// OpStatus holds the values of one `list opstatus` record (protocol.md
// §5). The scheduler fills it; Record formats it. Text fields are raw
// (unescaped); Record escapes them.
type OpStatus struct {
	Group, Service string
	OpStatus       int // numeric code (scheduling §1.1)
	LastOpStatus   int
	ExitVal        string // "undef" before the first event
	Timer          int64  // seconds until due; 0 for trap-only services
	LastSuccess    int64
	LastTrap       int64
	LastTraphost   string // mon never sets it
	LastCheck      int64  // 0 = no monitor started yet (written empty)
	Ack            int64  // 0 or the time of the ack
	AckComment     string // "USER: COMMENT"; written only while Ack != 0
	AlertsSent     int
	DepStatus      string // "" before the first evaluation, then "0" or "1"
	Depend         string
	HostDepend     string
	MonitorDepend  string
	AlertDepend    string
	Monitor        string
	LastSummary    string
	LastDetail     string

	// Optional fields, written only when set.
	LastFailure     int64 // written when != 0
	HasInterval     bool  // writes interval, monitor_duration, monitor_running
	Interval        int64
	MonitorDuration int64 // -1 = never finished
	MonitorRunning  bool
	ExcludePeriod   string   // written when != ""
	ExcludeHosts    []string // written when not empty
	RandSkew        int64    // written when != 0
	LastAlert       int64    // written when != 0
	FirstFailure    int64    // written with FailureDuration when != 0
	FailureDuration int64
	// MonitorOverdue (gomon) is how long a monitor that has run for
	// several intervals has been running; written when != 0.
	MonitorOverdue int64

	// Per-host verdicts (gomon, host_verdicts/alert_per_host): the
	// failing hosts and, parallel to them, each one's first failure and
	// consecutive failures; written when a host is failing.
	FailingHosts       []string
	HostFirstFailures  []int64
	HostConsecFailures []int
	// Flap detection (gomon, flap_detection): written when HasFlap.
	HasFlap     bool
	Flapping    bool
	FlapPercent float64
}

// SetGomonState fills the fields of gomon's extensions from a service's
// state; flap says whether the service has flap_detection.
func (o *OpStatus) SetGomonState(st *decide.State, flap bool) {
	for _, h := range st.FailingHosts(nil) {
		hs := st.Hosts[h]
		o.FailingHosts = append(o.FailingHosts, h)
		o.HostFirstFailures = append(o.HostFirstFailures, hs.FirstFailure)
		o.HostConsecFailures = append(o.HostConsecFailures, hs.ConsecFailures)
	}
	o.HasFlap, o.Flapping, o.FlapPercent = flap, st.Flapping, st.FlapPercent()
}

// Record formats s as one opstatus line, without the line end: key=value
// pairs separated by single blanks in mon's exact order.
func Record(s OpStatus) string {
	var r recordBuilder
	r.b.Grow(384 + len(s.LastSummary) + len(s.LastDetail) + len(s.Monitor))
	r.add("group", s.Group)
	r.add("service", s.Service)
	r.addInt("opstatus", int64(s.OpStatus))
	r.addInt("last_opstatus", int64(s.LastOpStatus))
	r.add("exitval", s.ExitVal)
	r.addInt("timer", s.Timer)
	r.addInt("last_success", s.LastSuccess)
	r.addInt("last_trap", s.LastTrap)
	r.add("last_traphost", s.LastTraphost)
	if s.LastCheck != 0 {
		r.addInt("last_check", s.LastCheck)
	} else {
		r.add("last_check", "")
	}
	r.addInt("ack", s.Ack)
	if s.Ack != 0 {
		r.addEscaped("ackcomment", s.AckComment, true)
	} else {
		r.add("ackcomment", "")
	}
	r.addInt("alerts_sent", int64(s.AlertsSent))
	r.add("depstatus", s.DepStatus)
	r.addEscaped("depend", s.Depend, true)
	r.addEscaped("hostdepend", s.HostDepend, true)
	r.addEscaped("monitordepend", s.MonitorDepend, true)
	r.addEscaped("alertdepend", s.AlertDepend, true)
	r.addEscaped("monitor", s.Monitor, true)
	r.addEscaped("last_summary", s.LastSummary, true)
	r.addEscaped("last_detail", s.LastDetail, true)
	if s.LastFailure != 0 {
		r.addInt("last_failure", s.LastFailure)
	}
	if s.HasInterval {
		r.addInt("interval", s.Interval)
		r.addInt("monitor_duration", s.MonitorDuration)
		running := "0"
		if s.MonitorRunning {
			running = "1"
		}
		r.add("monitor_running", running)
	}
	if s.ExcludePeriod != "" {
		r.addEscaped("exclude_period", s.ExcludePeriod, false)
	}
	if len(s.ExcludeHosts) > 0 {
		r.addEscaped("exclude_hosts", strings.Join(s.ExcludeHosts, " "), false)
	}
	if s.RandSkew != 0 {
		r.addInt("randskew", s.RandSkew)
	}
	if s.LastAlert != 0 {
		r.addInt("last_alert", s.LastAlert)
	}
	if s.FirstFailure != 0 {
		r.addInt("first_failure", s.FirstFailure)
		r.addInt("failure_duration", s.FailureDuration)
	}
	if s.MonitorOverdue != 0 {
		r.addInt("monitor_overdue", s.MonitorOverdue)
	}
	if len(s.FailingHosts) > 0 {
		r.addEscaped("failing_hosts", strings.Join(s.FailingHosts, ","), false)
		r.add("host_first_failures", joinInts(s.HostFirstFailures))
		r.add("host_consec_failures", joinInts(s.HostConsecFailures))
	}
	if s.HasFlap {
		flapping := "0"
		if s.Flapping {
			flapping = "1"
		}
		r.add("flapping", flapping)
		r.addInt("flap_percent", int64(math.Round(s.FlapPercent)))
	}
	return r.b.String()
}

// joinInts writes numbers comma-separated.
func joinInts[T int | int64](v []T) string {
	b := make([]byte, 0, 12*len(v))
	for i, n := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

// recordBuilder writes key=value pairs straight into one buffer: a
// `list opstatus` of many services is built without a string per field.
type recordBuilder struct {
	b   strings.Builder
	num [20]byte
}

func (r *recordBuilder) key(key string) {
	if r.b.Len() > 0 {
		r.b.WriteByte(' ')
	}
	r.b.WriteString(key)
	r.b.WriteByte('=')
}

func (r *recordBuilder) add(key, value string) {
	r.key(key)
	r.b.WriteString(value)
}

func (r *recordBuilder) addEscaped(key, value string, doubleBackslash bool) {
	r.key(key)
	writeEscaped(&r.b, value, doubleBackslash)
}

func (r *recordBuilder) addInt(key string, v int64) {
	r.key(key)
	r.b.Write(strconv.AppendInt(r.num[:0], v, 10))
}
