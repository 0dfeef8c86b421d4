package protocol

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// StateVars are the service variables of the opstatus state file in
// mon's order (scheduling §13.2). The names are the service keys without
// their leading underscore.
var StateVars = []string{
	"op_status", "failure_count", "alert_count", "last_success",
	"first_success", "consec_failures", "last_failure", "first_failure",
	"last_summary", "last_failure_time", "last_failure_summary",
	"last_failure_detail", "last_detail", "ack", "ack_comment", "last_trap",
	"last_traphost", "exitval", "last_check", "last_op_status",
	"failure_output", "trap_timer",
}

// PeriodStateVars are the per-period variables of the opstatus state
// file, in mon's order.
var PeriodStateVars = []string{"last_alert", "alert_sent", "1stfailtime", "failcount"}

// StateRecord is one line of the STATEDIR/opstatus file. Values are raw
// (unescaped).
type StateRecord struct {
	Group, Service string
	Vars           map[string]string // keyed by StateVars names; missing = unset
	Periods        []PeriodState
}

// PeriodState holds the saved variables of one period of a service.
type PeriodState struct {
	Key  string            // the period label, or its full text
	Vars map[string]string // keyed by PeriodStateVars names
}

// FormatStateRecord formats r as one opstatus state file line without
// the line end: TAB-separated key=value fields, values escaped without
// backslash doubling. Only the variables named in StateVars and
// PeriodStateVars are written, in that order; unset ones are empty.
func FormatStateRecord(r StateRecord) string {
	var b strings.Builder
	b.WriteString("group=" + r.Group + "\tservice=" + r.Service)
	for _, k := range StateVars {
		b.WriteString("\t" + k + "=" + EscapeRaw(r.Vars[k]))
	}
	for _, p := range r.Periods {
		for _, k := range PeriodStateVars {
			b.WriteString("\t" + p.Key + ":" + k + "=" + EscapeRaw(p.Vars[k]))
		}
	}
	return b.String()
}

// ParseStateRecord parses one opstatus state file line. Each field is
// split at its first '=' (mon splits at the last one, which corrupts
// values containing '=': Q-SCH-17); fields without '=' are ignored. A key
// with a ':' belongs to the period named by the text before its last
// ':'. All keys found are returned, known or not, as mon loads them all.
// ok is false when the line has no group or no service field.
func ParseStateRecord(line string) (r StateRecord, ok bool) {
	r.Vars = map[string]string{}
	var hasGroup, hasService bool
	for _, field := range strings.Split(line, "\t") {
		key, value, found := strings.Cut(field, "=")
		if !found {
			continue
		}
		switch {
		case key == "group":
			r.Group, hasGroup = value, true
		case key == "service":
			r.Service, hasService = value, true
		case strings.Contains(key, ":"):
			i := strings.LastIndexByte(key, ':')
			r.periodVars(key[:i])[key[i+1:]] = Unescape(value)
		default:
			r.Vars[key] = Unescape(value)
		}
	}
	return r, hasGroup && hasService
}

// periodVars returns the variable map of the named period, adding the
// period in order of first appearance.
func (r *StateRecord) periodVars(key string) map[string]string {
	for _, p := range r.Periods {
		if p.Key == key {
			return p.Vars
		}
	}
	r.Periods = append(r.Periods, PeriodState{Key: key, Vars: map[string]string{}})
	return r.Periods[len(r.Periods)-1].Vars
}

// DisabledState is the content of the STATEDIR/disabled file
// (scheduling §13.1).
type DisabledState struct {
	Hosts    []string
	Watches  []string
	Services []GroupService
}

// GroupService names one service of a watch.
type GroupService struct{ Group, Service string }

// WriteDisabledState writes d in mon's format: one `disable host H`,
// `disable watch G` or `disable service G S` directive per line.
func WriteDisabledState(w io.Writer, d DisabledState) error {
	bw := bufio.NewWriter(w)
	for _, h := range d.Hosts {
		fmt.Fprintf(bw, "disable host %s\n", h)
	}
	for _, g := range d.Watches {
		fmt.Fprintf(bw, "disable watch %s\n", g)
	}
	for _, s := range d.Services {
		fmt.Fprintf(bw, "disable service %s %s\n", s.Group, s.Service)
	}
	return bw.Flush()
}

// ParseDisabledState reads a disabled state file. Like mon it uses only
// lines whose first word is `disable` and ignores other lines and
// unknown directives. A host directive names one host (the rest of the
// line); a service directive needs a group and a service.
func ParseDisabledState(r io.Reader) (DisabledState, error) {
	var d DisabledState
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != "disable" {
			continue
		}
		switch f[1] {
		case "host":
			d.Hosts = append(d.Hosts, strings.Join(f[2:], " "))
		case "watch":
			d.Watches = append(d.Watches, strings.Join(f[2:], " "))
		case "service":
			if len(f) >= 4 {
				d.Services = append(d.Services, GroupService{f[2], strings.Join(f[3:], " ")})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return d, fmt.Errorf("reading disabled state: %w", err)
	}
	return d, nil
}
