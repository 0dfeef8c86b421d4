// Package snmptrap receives SNMP traps and informs (v1, v2c, v3 USM)
// with gosnmp's TrapListener and feeds each to the services whose
// `snmptrap` rules match it, exactly as a mon trap would
// (docs/snmptrap.md).
package snmptrap

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gomon/gomon/internal/config"
)

// Trap is a received trap or inform in the form rules match against:
// OIDs without a leading dot, values as text.
type Trap struct {
	From     netip.Addr
	Version  string // "v1", "v2c" or "v3"
	Inform   bool
	TrapOID  string // snmpTrapOID.0, or the RFC 3584 translation of a v1 trap
	Varbinds []Varbind
}

// Varbind is one variable binding of a trap.
type Varbind struct {
	OID, Value string
}

// Value returns the value of the varbind named oid.
func (t *Trap) Value(oid string) (string, bool) {
	for _, v := range t.Varbinds {
		if v.OID == oid {
			return v.Value, true
		}
	}
	return "", false
}

// Match reports whether rule r matches t, and if so the trap's status in
// mon's terms (sta: "0" is OK, anything else a failure).
func Match(r *config.SNMPTrapRule, t *Trap) (sta string, ok bool) {
	if r.TrapOID != "" {
		if r.TrapPrefix {
			if t.TrapOID != r.TrapOID && !strings.HasPrefix(t.TrapOID, r.TrapOID+".") {
				return "", false
			}
		} else if t.TrapOID != r.TrapOID {
			return "", false
		}
	}
	if len(r.From) > 0 {
		from := false
		for _, p := range r.From {
			from = from || p.Contains(t.From.Unmap())
		}
		if !from {
			return "", false
		}
	}
	for _, m := range r.Match {
		v, ok := t.Value(m.OID)
		if !ok || !m.RE.MatchString(v) {
			return "", false
		}
	}
	switch r.Status {
	case "ok":
		return "0", true
	case "fail", "":
		return "1", true
	}
	// A varbind carries the status: as a mon trap's sta, an empty value
	// or 0 is OK and anything else a failure; a missing one is a failure.
	v, ok := t.Value(r.Status)
	if !ok {
		return "1", true
	}
	return v, true
}

// Describe builds the summary and detail a matching trap gives its
// service: the summary is the rule's summary varbind, else the trap OID
// and sender; the detail lists every varbind, one a line.
func Describe(r *config.SNMPTrapRule, t *Trap) (summary, detail string) {
	summary = fmt.Sprintf("SNMP %s %s from %s", t.Version, t.TrapOID, t.From)
	if t.Inform {
		summary = fmt.Sprintf("SNMP %s inform %s from %s", t.Version, t.TrapOID, t.From)
	}
	if r.Summary != "" {
		if v, ok := t.Value(r.Summary); ok {
			summary = v
		}
	}
	var b strings.Builder
	for _, v := range t.Varbinds {
		// One line per varbind: a value's own line breaks are blanked.
		b.WriteString(v.OID + " = " + strings.NewReplacer("\n", " ", "\r", " ").Replace(v.Value) + "\n")
	}
	return oneLine(summary), b.String()
}

// oneLine keeps a summary to one line, as a monitor's first output line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimRight(s, "\r")
}
