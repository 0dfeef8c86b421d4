package config

import (
	"net/netip"
	"regexp"
	"time"

	"github.com/gomon/gomon/internal/period"
)

// SNMPTrap configures the SNMP trap receiver (gomon; docs/snmptrap.md).
// It is off while Listen is empty.
type SNMPTrap struct {
	Listen      string     // snmptrap_listen: ADDR:PORT ("" = off; an empty ADDR is 127.0.0.1)
	Communities []string   // snmptrap_community: accepted v1/v2c communities (none = v1/v2c rejected)
	Users       []SNMPUser // snmptrap_user lines: the accepted v3 (USM) users
	EngineID    string     // snmptrap_engineid: hex; "" = derived from the host name
}

// SNMPUser is one SNMPv3 USM user. AuthProto "" means noAuthNoPriv,
// PrivProto "" authNoPriv.
type SNMPUser struct {
	Name                string
	AuthProto, AuthPass string // MD5 SHA SHA224 SHA256 SHA384 SHA512
	PrivProto, PrivPass string // DES AES AES192 AES256
	Text                string // the line as written, for `mon convert`
}

// SNMPTrapRule is one `snmptrap` line of a service: the SNMP traps that
// feed the service as a mon trap would.
type SNMPTrapRule struct {
	Text string // as written
	Pos  Pos
	// TrapOID is the trap's OID (snmpTrapOID.0; for v1 the RFC 3584
	// translation), without a leading dot; "" matches any trap.
	// TrapPrefix makes it match the OID and everything below it.
	TrapOID    string
	TrapPrefix bool
	From       []netip.Prefix // sender addresses; none = any
	Match      []VarbindMatch // all must match
	Status     string         // "fail" (default), "ok", or a varbind OID whose value is the status
	Summary    string         // a varbind OID whose value is the summary; "" = built from the trap
}

// VarbindMatch requires a varbind whose value matches a regular expression.
type VarbindMatch struct {
	OID string
	RE  *regexp.Regexp
}

// Downtime is one `downtime` line of a service: a recurring window, from
// each activation of a cron schedule for Length, in which the service is
// disabled (gomon).
type Downtime struct {
	Text   string // as written
	Pos    Pos
	Start  *period.Schedule
	Length time.Duration
	Reason string
}
