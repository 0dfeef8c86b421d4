package protocol

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// TrapVersion is the trap protocol version Mon::Client sends and the
// lowest one mon accepts.
const TrapVersion = "0.3807"

// MaxTrapSize is the largest datagram mon reads; one datagram is one
// trap.
const MaxTrapSize = 65536

// Trap holds the tags of one trap packet (protocol.md §9.2). Values are
// raw (unescaped). Tags the server does not use (aut, hst, SNMP-ish
// ones) are not kept.
type Trap struct {
	Pro string // protocol version
	Usr string // user name
	Pas string // password, clear text
	Spc string // numeric opstatus; only logged by the server
	Seq string
	Typ string // Mon::Client sends "trap"
	Grp string // group (watch)
	Svc string // service
	Sta string // exit value: "0" = success, anything else = failure
	Tsp string // sender timestamp; the server uses the receive time
	Sum string // summary
	Dtl string // detail

	// Fwd names the gomon cluster node that forwarded the trap to the
	// service's owner (a gomon tag mon ignores); a forwarded trap is
	// never forwarded again.
	Fwd string

	// HasSta is true when the packet had a sta tag; mon drops traps
	// without one (an empty value counts as present).
	HasSta bool
}

// EncodeTrap formats t exactly as Mon::Client::send_trap does: one
// TAG='ESCAPED' line per tag in its order, spc written twice, and pas
// only when the user name is not empty. Every line ends with LF.
func EncodeTrap(t Trap) []byte {
	var b strings.Builder
	tag := func(name, value string) {
		b.WriteString(name + "='" + Escape(value) + "'\n")
	}
	tag("pro", t.Pro)
	tag("usr", t.Usr)
	if t.Usr != "" {
		tag("pas", t.Pas)
	}
	tag("spc", t.Spc)
	tag("seq", t.Seq)
	tag("typ", t.Typ)
	tag("grp", t.Grp)
	tag("svc", t.Svc)
	tag("sta", t.Sta)
	tag("spc", t.Spc)
	tag("tsp", t.Tsp)
	tag("sum", t.Sum)
	tag("dtl", t.Dtl)
	return []byte(b.String())
}

// ErrTrapSize is returned by DecodeTrap for an empty or oversized packet.
var ErrTrapSize = errors.New("trap packet empty or larger than 65536 bytes")

var trapLine = regexp.MustCompile(`^(\w+)=(.*)$`)

// DecodeTrap parses a trap packet the way mon does: LF-separated
// TAG=VALUE lines, a value in single quotes loses them, and the value is
// unescaped. Later duplicates overwrite earlier ones. Each line that is
// not TAG=VALUE is skipped and reported in warnings as mon logs it
// ("unspecified tag in trap: LINE"). Authentication (auth.CheckTrap) and
// Validate must still be applied, in that order.
func DecodeTrap(pkt []byte) (t Trap, warnings []string, err error) {
	if len(pkt) == 0 || len(pkt) > MaxTrapSize {
		return Trap{}, nil, ErrTrapSize
	}
	lines := strings.Split(string(pkt), "\n")
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // Perl's split drops trailing empty fields
	}
	for _, line := range lines {
		m := trapLine.FindStringSubmatch(line)
		if m == nil {
			warnings = append(warnings, "unspecified tag in trap: "+line)
			continue
		}
		value := m[2]
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			value = value[1 : len(value)-1]
		}
		t.set(m[1], Unescape(value))
	}
	return t, warnings, nil
}

func (t *Trap) set(tag, value string) {
	switch tag {
	case "pro":
		t.Pro = value
	case "usr":
		t.Usr = value
	case "pas":
		t.Pas = value
	case "spc":
		t.Spc = value
	case "seq":
		t.Seq = value
	case "typ":
		t.Typ = value
	case "grp":
		t.Grp = value
	case "svc":
		t.Svc = value
	case "sta":
		t.Sta, t.HasSta = value, true
	case "tsp":
		t.Tsp = value
	case "sum":
		t.Sum = value
	case "dtl":
		t.Dtl = value
	case "fwd":
		t.Fwd = value
	}
}

// Validate applies mon's checks that follow authentication: the protocol
// version must be numerically at least 0.3807 and a sta tag must be
// present. fromIP is only used in the error text, which is mon's log
// message.
func (t Trap) Validate(fromIP string) error {
	if perlNumber(t.Pro) < 0.3807 {
		return fmt.Errorf("cannot handle traps from version less than %s", TrapVersion)
	}
	if !t.HasSta {
		return fmt.Errorf("no trap sta value specified from %s", fromIP)
	}
	return nil
}

var numericPrefix = regexp.MustCompile(`^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?`)

// perlNumber converts s to a number like Perl does in numeric context:
// the longest numeric prefix counts, anything else is 0.
func perlNumber(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(numericPrefix.FindString(s)), 64)
	if err != nil {
		return 0
	}
	return f
}
