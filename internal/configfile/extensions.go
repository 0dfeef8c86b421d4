package configfile

import (
	"encoding/hex"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/period"
	"github.com/gomon/gomon/internal/shellwords"
)

// The gomon extensions of issue 16 read here: the SNMP trap receiver's
// globals, and the snmptrap and downtime service keywords
// (docs/snmptrap.md, docs/downtimes.md).

var (
	oidRE       = regexp.MustCompile(`^\.?[0-9]+(\.[0-9]+)*$`)
	authProtos  = wordSet("MD5 SHA SHA224 SHA256 SHA384 SHA512")
	privProtos  = wordSet("DES AES AES192 AES256")
	snmpGlobals = wordSet("snmptrap_listen snmptrap_community snmptrap_user snmptrap_engineid")
)

const (
	snmptrapUserSyntax = "snmptrap_user = NAME [MD5|SHA|SHA224|SHA256|SHA384|SHA512 AUTHPASS [DES|AES|AES192|AES256 PRIVPASS]]"
	snmptrapSyntax     = "snmptrap [trap=OID[.*]] [from=CIDR[,CIDR...]] [match=OID~REGEX]... [status=fail|ok|OID] [summary=OID]"
	downtimeSyntax     = "downtime cron {MIN HOUR DOM MON DOW} DURATION [reason TEXT]"
)

// snmpGlobal applies one snmptrap_* global.
func (b *builder) snmpGlobal(pos config.Pos, name, v string) {
	g := &b.cfg.Globals.SNMPTrap
	switch name {
	case "snmptrap_listen":
		if v == "" {
			g.Listen = ""
			return
		}
		host, _, err := net.SplitHostPort(v)
		if err != nil {
			b.fail(pos, errf("bad value '%s' for snmptrap_listen (syntax: snmptrap_listen = [ADDR]:PORT)", v).withHint("%v", err))
			return
		}
		if host == "" {
			v = "127.0.0.1" + v // loopback unless configured, as serverbind
		}
		g.Listen = v
	case "snmptrap_community":
		g.Communities = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || isSpace(byte(r)) })
	case "snmptrap_user":
		f := fields(v)
		u := config.SNMPUser{Text: v}
		if len(f) != 1 && len(f) != 3 && len(f) != 5 {
			b.fail(pos, errf("bad snmptrap_user '%s' (syntax: %s)", v, snmptrapUserSyntax))
			return
		}
		u.Name = f[0]
		if len(f) >= 3 {
			u.AuthProto, u.AuthPass = strings.ToUpper(f[1]), f[2]
			if !authProtos[u.AuthProto] {
				b.fail(pos, errf("unknown authentication protocol '%s' in snmptrap_user (syntax: %s)", f[1], snmptrapUserSyntax))
				return
			}
			if len(u.AuthPass) < 8 {
				b.fail(pos, errf("the authentication passphrase of snmptrap_user %s is shorter than 8 characters", u.Name).withHint("USM (RFC 3414) requires at least 8"))
				return
			}
		}
		if len(f) == 5 {
			u.PrivProto, u.PrivPass = strings.ToUpper(f[3]), f[4]
			if !privProtos[u.PrivProto] {
				b.fail(pos, errf("unknown privacy protocol '%s' in snmptrap_user (syntax: %s)", f[3], snmptrapUserSyntax))
				return
			}
			if len(u.PrivPass) < 8 {
				b.fail(pos, errf("the privacy passphrase of snmptrap_user %s is shorter than 8 characters", u.Name).withHint("USM (RFC 3414) requires at least 8"))
				return
			}
		}
		for _, o := range g.Users {
			if o.Name == u.Name {
				b.fail(pos, errf("snmptrap_user %s is defined twice", u.Name))
				return
			}
		}
		g.Users = append(g.Users, u)
	case "snmptrap_engineid":
		id, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X"))
		if err != nil || len(id) < 5 || len(id) > 32 {
			b.fail(pos, errf("bad value '%s' for snmptrap_engineid", v).withHint("an engine ID is 5 to 32 bytes in hex, e.g. 80001f88040102030405"))
			return
		}
		g.EngineID = hex.EncodeToString(id)
	}
}

// parseSNMPTrapRule parses the argument of a `snmptrap` line. Words are
// split as the shell does, so a regular expression may be quoted.
func parseSNMPTrapRule(pos config.Pos, arg string) (*config.SNMPTrapRule, *problem) {
	words, err := shellwords.Split(arg)
	if err != nil {
		return nil, errf("invalid snmptrap rule '%s': %v (syntax: %s)", arg, err, snmptrapSyntax)
	}
	r := &config.SNMPTrapRule{Text: arg, Pos: pos, Status: "fail"}
	bad := func(format string, a ...any) *problem {
		return errf("invalid snmptrap rule '%s' (syntax: %s)", arg, snmptrapSyntax).withHint(format, a...)
	}
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, bad("'%s' is not KEY=VALUE", w)
		}
		switch k {
		case "trap":
			oid, prefix := strings.CutSuffix(v, ".*")
			if !oidRE.MatchString(oid) {
				return nil, bad("trap=%s is not an OID (numeric, e.g. 1.3.6.1.6.3.1.1.5.3, or a prefix 1.3.6.1.4.1.8072.*)", v)
			}
			r.TrapOID, r.TrapPrefix = strings.TrimPrefix(oid, "."), prefix
		case "from":
			for _, c := range strings.Split(v, ",") {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					a, aerr := netip.ParseAddr(c)
					if aerr != nil {
						return nil, bad("from=%s: '%s' is neither an address nor a CIDR prefix", v, c)
					}
					p = netip.PrefixFrom(a, a.BitLen())
				}
				r.From = append(r.From, p.Masked())
			}
		case "match":
			oid, re, ok := strings.Cut(v, "~")
			if !ok || !oidRE.MatchString(oid) {
				return nil, bad("match=%s is not OID~REGEX", v)
			}
			rx, err := regexp.Compile(re)
			if err != nil {
				return nil, bad("match=%s: %v", v, err)
			}
			r.Match = append(r.Match, config.VarbindMatch{OID: strings.TrimPrefix(oid, "."), RE: rx})
		case "status":
			if v != "fail" && v != "ok" && !oidRE.MatchString(v) {
				return nil, bad("status=%s: expected fail, ok or the OID of a varbind holding the status", v)
			}
			r.Status = strings.TrimPrefix(v, ".")
		case "summary":
			if !oidRE.MatchString(v) {
				return nil, bad("summary=%s is not an OID", v)
			}
			r.Summary = strings.TrimPrefix(v, ".")
		default:
			return nil, bad("unknown key '%s'", k)
		}
	}
	return r, nil
}

// parseDowntime parses the argument of a `downtime` line.
func parseDowntime(pos config.Pos, arg string) (*config.Downtime, *problem) {
	bad := func(format string, a ...any) *problem {
		return errf("invalid downtime '%s' (syntax: %s)", arg, downtimeSyntax).withHint(format, a...)
	}
	body, ok := strings.CutPrefix(trimSpace(arg), "cron")
	body = trimSpace(body)
	if !ok || !strings.HasPrefix(body, "{") {
		return nil, bad("a downtime starts with a cron expression in braces")
	}
	expr, rest, ok := strings.Cut(body[1:], "}")
	if !ok {
		return nil, bad("the cron expression has no closing brace")
	}
	n := len(fields(expr))
	if strings.HasPrefix(trimSpace(expr), "TZ=") || strings.HasPrefix(trimSpace(expr), "CRON_TZ=") {
		n-- // a time zone word before the five fields
	}
	if n != 5 {
		return nil, bad("the cron expression has five fields: MIN HOUR DOM MON DOW")
	}
	start, err := period.ParseSchedule(expr)
	if err != nil {
		return nil, bad("%v", err)
	}
	f := fields(rest)
	if len(f) == 0 {
		return nil, bad("the duration is missing")
	}
	length, ok := parseTimeval(f[0])
	if !ok || length == 0 {
		return nil, bad("'%s' is not a positive duration; %s", f[0], timevalHint)
	}
	d := &config.Downtime{Text: arg, Pos: pos, Start: start, Length: length}
	if len(f) > 1 {
		if f[1] != "reason" || len(f) == 2 {
			return nil, bad("after the duration comes reason TEXT")
		}
		_, text, _ := strings.Cut(rest, "reason")
		d.Reason = unquote(trimSpace(text))
	}
	return d, nil
}

// unquote drops one pair of double quotes around a reason.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
