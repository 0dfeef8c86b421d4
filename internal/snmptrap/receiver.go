package snmptrap

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/gosnmp/gosnmp"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler"
)

// Scheduler is what the receiver feeds: the running configuration (its
// rules change on reset) and the trap path of mon traps.
type Scheduler interface {
	Config() *config.Config
	Trap(scheduler.TrapEvent) error
}

// Stats are the receiver's counters since it started.
type Stats struct {
	Received  uint64 // traps and informs decoded and authenticated
	Delivered uint64 // events delivered to a service
	Unmatched uint64 // accepted, but no rule matched
	NotOwned  uint64 // matched a service another cluster node runs
	// Rejected counts what was dropped before any rule was consulted:
	// "community" (v1/v2c with a community not configured), "user" (v3
	// with a user not configured), "auth" (v3 that failed
	// authentication or decryption) and "malformed".
	Rejected map[string]uint64
}

// Receiver is the SNMP trap receiver of one daemon.
type Receiver struct {
	cfg   config.SNMPTrap
	sched Scheduler
	log   *slog.Logger
	tl    *gosnmp.TrapListener

	received, delivered, unmatched, notOwned     atomic.Uint64
	rejCommunity, rejUser, rejAuth, rejMalformed atomic.Uint64
}

// oidSnmpTrapOID is snmpTrapOID.0, the varbind naming a v2c/v3 trap.
const oidSnmpTrapOID = "1.3.6.1.6.3.1.1.4.1.0"

// New prepares a receiver for cfg (whose Listen must be set).
func New(cfg config.SNMPTrap, sched Scheduler, log *slog.Logger) (*Receiver, error) {
	r := &Receiver{cfg: cfg, sched: sched, log: log}
	params := &gosnmp.GoSNMP{
		// Version 3 makes gosnmp authenticate v3 messages at all; v1 and
		// v2c messages are decoded by their own version regardless.
		Version:       gosnmp.Version3,
		SecurityModel: gosnmp.UserSecurityModel,
		// gosnmp reports why it dropped a message only through its
		// logger: that is where the rejections are counted.
		Logger: gosnmp.NewLogger(gosnmpLog{r}),
	}
	engineID, err := engineID(cfg.EngineID)
	if err != nil {
		return nil, err
	}
	// The local engine: informs are sent to it (the receiver is their
	// authoritative engine), and senders discover its ID first.
	params.SecurityParameters = &gosnmp.UsmSecurityParameters{
		AuthoritativeEngineID:  engineID,
		AuthenticationProtocol: gosnmp.NoAuth,
		PrivacyProtocol:        gosnmp.NoPriv,
	}
	table := gosnmp.NewSnmpV3SecurityParametersTable(params.Logger)
	// Engine discovery probes carry no user name; without this entry
	// gosnmp could not answer them with a report.
	if err := table.Add("", &gosnmp.UsmSecurityParameters{AuthenticationProtocol: gosnmp.NoAuth, PrivacyProtocol: gosnmp.NoPriv}); err != nil {
		return nil, err
	}
	for _, u := range cfg.Users {
		sp, err := usm(u)
		if err != nil {
			return nil, err
		}
		if err := table.Add(u.Name, sp); err != nil {
			return nil, fmt.Errorf("snmptrap_user %s: %w", u.Name, err)
		}
	}
	params.SetTrapSecurityParametersTable(table)
	r.tl = gosnmp.NewTrapListener()
	r.tl.Params = params
	r.tl.OnNewTrap = r.handle
	return r, nil
}

// engineID decodes a configured engine ID or derives one from the host
// name in RFC 3411's text format, so it stays the same across restarts
// (senders of informs cache it).
func engineID(configured string) (string, error) {
	if configured != "" {
		b, err := hex.DecodeString(configured)
		return string(b), err
	}
	host, _ := os.Hostname()
	id := "\x80\x00\x1f\x88\x04gomon:" + host
	return id[:min(len(id), 32)], nil
}

var (
	authProtos = map[string]gosnmp.SnmpV3AuthProtocol{
		"": gosnmp.NoAuth, "MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224,
		"SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
	}
	privProtos = map[string]gosnmp.SnmpV3PrivProtocol{
		"": gosnmp.NoPriv, "DES": gosnmp.DES, "AES": gosnmp.AES, "AES192": gosnmp.AES192, "AES256": gosnmp.AES256,
	}
)

func usm(u config.SNMPUser) (*gosnmp.UsmSecurityParameters, error) {
	a, ok1 := authProtos[u.AuthProto]
	p, ok2 := privProtos[u.PrivProto]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("snmptrap_user %s: unknown protocol", u.Name)
	}
	return &gosnmp.UsmSecurityParameters{
		UserName:                 u.Name,
		AuthenticationProtocol:   a,
		AuthenticationPassphrase: u.AuthPass,
		PrivacyProtocol:          p,
		PrivacyPassphrase:        u.PrivPass,
	}, nil
}

// Start binds cfg.Listen and receives traps there until ctx is done.
// gosnmp answers engine discovery and acknowledges informs itself.
func (r *Receiver) Start(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- r.tl.Listen(r.cfg.Listen) }()
	select {
	case <-r.tl.Listening():
	case err := <-errc:
		return fmt.Errorf("fatal, could not bind SNMP trap address %s: %w", r.cfg.Listen, err)
	}
	r.log.Info("SNMP trap receiver listening", "addr", r.cfg.Listen)
	go func() {
		<-ctx.Done()
		r.tl.Close()
	}()
	return nil
}

// Stats returns the counters.
func (r *Receiver) Stats() Stats {
	return Stats{
		Received: r.received.Load(), Delivered: r.delivered.Load(),
		Unmatched: r.unmatched.Load(), NotOwned: r.notOwned.Load(),
		Rejected: map[string]uint64{
			"community": r.rejCommunity.Load(), "user": r.rejUser.Load(),
			"auth": r.rejAuth.Load(), "malformed": r.rejMalformed.Load(),
		},
	}
}

// handle is the TrapListener's callback for every decoded message.
func (r *Receiver) handle(p *gosnmp.SnmpPacket, addr *net.UDPAddr) {
	from := addr.AddrPort().Addr().Unmap()
	if p.Version == gosnmp.Version3 {
		// The user table's nameless entry exists to answer engine
		// discovery; a trap without a user is not from a known one.
		if u, ok := p.SecurityParameters.(*gosnmp.UsmSecurityParameters); !ok || u.UserName == "" {
			r.rejUser.Add(1)
			r.log.Warn("SNMP trap rejected: SNMPv3 without a user name", "from", from)
			return
		}
	} else if !slices.Contains(r.cfg.Communities, p.Community) {
		r.rejCommunity.Add(1)
		r.log.Warn("SNMP trap rejected: community not configured", "from", from, "version", p.Version.String())
		return
	}
	r.received.Add(1)
	t := decode(p, from)
	r.route(t)
}

// route delivers t to every service with a matching rule (the first of
// its rules that matches).
func (r *Receiver) route(t *Trap) {
	matched := false
	for _, w := range r.sched.Config().Watches {
		for _, s := range w.Services {
			for _, rule := range s.SNMPTraps {
				sta, ok := Match(rule, t)
				if !ok {
					continue
				}
				matched = true
				sum, dtl := Describe(rule, t)
				err := r.sched.Trap(scheduler.TrapEvent{
					From: t.From.String(), Group: w.Name, Service: s.Name, Status: sta,
					Summary: sum, Detail: dtl, Type: "snmp" + t.Version, OpCode: t.TrapOID,
				})
				var no *scheduler.NotOwnerError
				switch {
				case errors.As(err, &no):
					// Cluster mode: SNMP traps go to every node (or the
					// VIP's holder forwards nothing); the owner acts.
					r.notOwned.Add(1)
					r.log.Debug("SNMP trap for a service another node runs", "group", w.Name, "service", s.Name)
				case err != nil:
					r.log.Error("SNMP trap not delivered", "group", w.Name, "service", s.Name, "err", err)
				default:
					r.delivered.Add(1)
				}
				break
			}
		}
	}
	if !matched {
		r.unmatched.Add(1)
		r.log.Info("SNMP trap matches no snmptrap rule", "from", t.From, "trap", t.TrapOID)
	}
}

// decode turns a gosnmp packet into a Trap.
func decode(p *gosnmp.SnmpPacket, from netip.Addr) *Trap {
	t := &Trap{From: from, Inform: p.PDUType == gosnmp.InformRequest}
	switch p.Version {
	case gosnmp.Version1:
		t.Version = "v1"
		// RFC 3584 §3.1: a generic trap is snmpTraps.(generic+1), an
		// enterprise-specific one enterprise.0.specific.
		if p.GenericTrap < 6 {
			t.TrapOID = "1.3.6.1.6.3.1.1.5." + strconv.Itoa(p.GenericTrap+1)
		} else {
			t.TrapOID = strings.TrimPrefix(p.Enterprise, ".") + ".0." + strconv.Itoa(p.SpecificTrap)
		}
	case gosnmp.Version2c:
		t.Version = "v2c"
	default:
		t.Version = "v3"
	}
	for _, v := range p.Variables {
		vb := Varbind{OID: strings.TrimPrefix(v.Name, "."), Value: valueText(v)}
		if vb.OID == oidSnmpTrapOID && t.Version != "v1" {
			t.TrapOID = vb.Value
		}
		t.Varbinds = append(t.Varbinds, vb)
	}
	return t
}

// valueText renders a varbind value as snmptrapd would show its plain
// value: strings as they are, OIDs without the leading dot, numbers in
// decimal.
func valueText(v gosnmp.SnmpPDU) string {
	switch x := v.Value.(type) {
	case []byte:
		return string(x)
	case string:
		if v.Type == gosnmp.ObjectIdentifier {
			return strings.TrimPrefix(x, ".")
		}
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(gosnmp.ToBigInt(v.Value))
}

// gosnmpLog receives gosnmp's log lines: the reasons it drops a
// message, which are counted and logged at debug level.
type gosnmpLog struct{ r *Receiver }

func (l gosnmpLog) Print(v ...any) { l.Printf("%s", fmt.Sprint(v...)) }

func (l gosnmpLog) Printf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, "TrapListener: error in UnmarshalTrap") {
		return // gosnmp's tracing of every packet
	}
	switch {
	case strings.Contains(msg, "no security parameters found"):
		l.r.rejUser.Add(1)
		l.r.log.Warn("SNMP trap rejected: unknown SNMPv3 user", "detail", strings.TrimSpace(msg))
	case strings.Contains(msg, "no credentials successfully unmarshaled"):
		l.r.rejAuth.Add(1)
		l.r.log.Warn("SNMP trap rejected: SNMPv3 authentication failed", "detail", strings.TrimSpace(msg))
	default:
		l.r.rejMalformed.Add(1)
		l.r.log.Warn("SNMP trap rejected: malformed", "detail", strings.TrimSpace(msg))
	}
}

// StatsFunc returns r.Stats, or nil for a nil receiver (snmptrap_listen
// not set).
func (r *Receiver) StatsFunc() func() Stats {
	if r == nil {
		return nil
	}
	return r.Stats
}

// Lines renders the counters as `list snmptraps` shows them.
func (s Stats) Lines() []string {
	return []string{fmt.Sprintf("received=%d delivered=%d unmatched=%d not_owned=%d rejected_community=%d rejected_user=%d rejected_auth=%d rejected_malformed=%d",
		s.Received, s.Delivered, s.Unmatched, s.NotOwned,
		s.Rejected["community"], s.Rejected["user"], s.Rejected["auth"], s.Rejected["malformed"])}
}
