package monitors

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dns.monitor, two modes as in the script:
//
//   - zone mode (-zone Z… -master M…): the masters' SOA serials set the
//     expected serial; every server must be authoritative and agree
//     (within -serial_threshold).
//   - caching mode (-caching_only -query NAME[:TYPE[:VALUE]]…): every
//     server must answer each query (and, with VALUE, include it).
//
// The simpler form is just -query without -zone, which implies caching
// mode. gomon adds -port (the script always uses 53).

const dnsUsage = "dns.monitor (-zone Z... -master M... [-serial_threshold N] [-failsingle] | [-caching_only] -query NAME[:TYPE[:VALUE]]...)" +
	" [-tcp] [-retry N] [-retransmit SECS] [-timeout SECS] [-port N] server [server...]"

// Exit statuses of the script besides "number of failed servers".
const (
	dnsExitMasterFailed  = 251 // -failsingle and a master failed
	dnsExitMastersFailed = 252 // all masters failed, or their serials disagree
)

type dnsMonitor struct {
	zones, masters  []string
	serialThreshold int64
	failSingle      bool
	queries         []dnsQuery // caching mode iff non-empty
	tcp             bool
	retry           int           // tries per query
	retrans         time.Duration // wait per try
	timeout         time.Duration // bound of one query with all its tries; 0 = retry × retrans
	port            string
}

// dnsQuery is one -query NAME[:TYPE[:VALUE]].
type dnsQuery struct {
	name     string
	typeName string // as given, upper-cased
	qtype    uint16
	value    string // "" = any answer will do
}

func newDNS(args []string) (Monitor, error) {
	m := &dnsMonitor{}
	var zones, masters, queries stringList
	var cachingOnly, debug bool
	var retry, retrans, timeout int
	fs := flag.NewFlagSet("dns.monitor", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(&zones, "zone", "zone to check (repeatable)")
	fs.Var(&masters, "master", "master server (repeatable)")
	fs.Int64Var(&m.serialThreshold, "serial_threshold", 0, "allowed serial drift")
	fs.BoolVar(&m.failSingle, "failsingle", false, "any failed master fails")
	fs.BoolVar(&cachingOnly, "caching_only", false, "caching mode")
	fs.Var(&queries, "query", "NAME[:TYPE[:VALUE]] (repeatable)")
	fs.BoolVar(&m.tcp, "tcp", false, "query over TCP")
	fs.IntVar(&retry, "retry", 2, "tries per query")
	fs.IntVar(&retrans, "retransmit", 5, "seconds per try")
	fs.IntVar(&timeout, "timeout", 0, "seconds per query, all tries")
	fs.BoolVar(&debug, "debug", false, "accepted, ignored")
	fs.StringVar(&m.port, "port", "53", "server port")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	m.zones, m.masters = zones, masters
	m.retry = max(retry, 1)
	m.retrans = time.Duration(max(retrans, 1)) * time.Second
	m.timeout = time.Duration(max(timeout, 0)) * time.Second
	if p, err := strconv.Atoi(m.port); err != nil || p < 1 || p > 65535 {
		return nil, fmt.Errorf("-port %q: not a port", m.port)
	}
	for _, q := range queries {
		dq, err := parseDNSQuery(q)
		if err != nil {
			return nil, err
		}
		m.queries = append(m.queries, dq)
	}
	switch {
	case cachingOnly && len(m.queries) == 0:
		return nil, errors.New("at least one -query must be specified")
	case len(m.queries) > 0 && len(m.zones) > 0:
		return nil, errors.New("-query and -zone exclude each other")
	case len(m.queries) == 0 && len(m.masters) == 0:
		return nil, errors.New("the zone master server must be specified")
	case len(m.queries) == 0 && len(m.zones) == 0:
		return nil, errors.New("at least one zone must be specified")
	}
	return withHostArgs(m, fs.Args()), nil
}

// parseDNSQuery parses NAME[:TYPE[:VALUE]]; VALUE may contain colons
// (IPv6 addresses), unlike in the script.
func parseDNSQuery(s string) (dnsQuery, error) {
	parts := strings.SplitN(s, ":", 3)
	q := dnsQuery{name: parts[0], typeName: "A"}
	if q.name == "" {
		return q, fmt.Errorf("-query %q: no name", s)
	}
	if len(parts) > 1 && parts[1] != "" {
		q.typeName = strings.ToUpper(parts[1])
	}
	var ok bool
	if q.qtype, ok = dns.StringToType[q.typeName]; !ok {
		return q, fmt.Errorf("-query %q: unknown type %s", s, q.typeName)
	}
	if len(parts) > 2 {
		q.value = parts[2]
	}
	return q, nil
}

func (m *dnsMonitor) Check(ctx context.Context, req Request) Result {
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	start := time.Now()
	var res Result
	if len(req.Hosts) == 0 {
		res = Result{Exit: 255, Output: []byte("dns.monitor: at least one server must be specified\n")}
	} else if len(m.queries) > 0 {
		res = m.checkCaching(ctx, req.Hosts)
	} else {
		res = m.checkZones(ctx, req.Hosts)
	}
	res.Duration = time.Since(start)
	return res
}

// queryTimeout bounds one query with all its tries.
func (m *dnsMonitor) queryTimeout() time.Duration {
	if m.timeout > 0 {
		return m.timeout
	}
	return time.Duration(m.retry) * m.retrans
}

// exchange asks server one question, trying up to m.retry times.
func (m *dnsMonitor) exchange(ctx context.Context, server, name string, qtype uint16, recurse bool) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, m.queryTimeout())
	defer cancel()
	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.RecursionDesired = recurse
	client := &dns.Client{Net: "udp", Timeout: m.retrans}
	if m.tcp {
		client.Net = "tcp"
	}
	addr := net.JoinHostPort(server, m.port)
	var err error
	for try := 0; try < m.retry && ctx.Err() == nil; try++ {
		var r *dns.Msg
		r, _, err = client.ExchangeContext(ctx, msg, addr)
		if err == nil && r.Truncated && client.Net == "udp" {
			client.Net = "tcp" // as resolvers do with a truncated answer
			r, _, err = client.ExchangeContext(ctx, msg, addr)
		}
		if err == nil {
			return r, nil
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return nil, err
}

// dnsErrorString is what Net::DNS's errorstring says about a failed or
// empty answer.
func dnsErrorString(r *dns.Msg, err error) string {
	switch {
	case err != nil && isTimeout(err):
		return "query timed out"
	case err != nil:
		return errText(err)
	default:
		return dns.RcodeToString[r.Rcode]
	}
}

// answered reports whether r carries at least one answer.
func answered(r *dns.Msg, err error) bool { return err == nil && len(r.Answer) > 0 }

// rdata is an answer's data as text, as Net::DNS's rdatastr prints it.
func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// --- caching mode ---

// dnsVerdict is one server's result for one query.
type dnsVerdict struct {
	ok     bool
	reason string // the script's text for the failure
}

func (m *dnsMonitor) checkCaching(ctx context.Context, servers []string) Result {
	hostOK := make(map[string]bool, len(servers))
	for _, s := range servers {
		hostOK[s] = true
	}
	var summary strings.Builder
	var reasons []string
	worst := 0
	for _, q := range m.queries {
		verdicts := checkHosts(ctx, servers, m.queryTimeout()*2, func(ctx context.Context, server string) dnsVerdict {
			return m.testQuery(ctx, server, q)
		})
		failed := 0
		var reason strings.Builder
		for i, v := range verdicts {
			if v.ok {
				continue
			}
			failed++
			hostOK[servers[i]] = false
			// The script names only unanswered queries in the summary;
			// gomon names wrong answers too.
			summary.WriteString(q.name + "@" + servers[i] + " ")
			reason.WriteString(v.reason)
		}
		if failed > 0 {
			summary.WriteString(" ")
			reasons = append(reasons, reason.String())
			worst = max(worst, failed)
		}
	}
	res := Result{Exit: worst, Hosts: dnsHostResults(servers, hostOK)}
	if worst > 0 {
		res.Output = []byte(summary.String() + "\n" + reasonBlocks(reasons, nil))
	}
	return res
}

// testQuery runs query q against server, as the script's dns_test does.
func (m *dnsMonitor) testQuery(ctx context.Context, server string, q dnsQuery) dnsVerdict {
	r, err := m.exchange(ctx, server, q.name, q.qtype, true)
	if !answered(r, err) {
		return dnsVerdict{reason: fmt.Sprintf("\n%s query for %s from %s failed %s\n", q.typeName, q.name, server, dnsErrorString(r, err))}
	}
	if q.value == "" || m.valueMatches(ctx, server, q, r.Answer) {
		return dnsVerdict{ok: true}
	}
	return dnsVerdict{reason: fmt.Sprintf("Query %s:%s failed to match %s\n", q.name, q.typeName, q.value)}
}

// valueMatches reports whether an answer has the expected VALUE: either
// literally (gomon: "192.0.2.1", "10 mx.example.org") or, as in the
// script, as the data of the same-type records of the name VALUE.
func (m *dnsMonitor) valueMatches(ctx context.Context, server string, q dnsQuery, answers []dns.RR) bool {
	if containsRdata(answers, q.value) {
		return true
	}
	r, err := m.exchange(ctx, server, q.value, q.qtype, true)
	if !answered(r, err) {
		return false
	}
	for _, rr := range r.Answer {
		if containsRdata(answers, rdata(rr)) {
			return true
		}
	}
	return false
}

// containsRdata reports whether some answer's data is want.
func containsRdata(answers []dns.RR, want string) bool {
	for _, rr := range answers {
		if normalizeRdata(rdata(rr)) == normalizeRdata(want) {
			return true
		}
	}
	return false
}

// normalizeRdata compares names without case or a final dot.
func normalizeRdata(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// --- zone mode ---

func (m *dnsMonitor) checkZones(ctx context.Context, servers []string) Result {
	hostOK := make(map[string]bool, len(servers))
	for _, s := range servers {
		hostOK[s] = true
	}
	var summary strings.Builder
	var failedLists, reasons []string
	worst := 0
	for _, zone := range m.zones {
		failed, reason, code := m.verifyZone(ctx, zone, servers)
		if code == 0 {
			continue
		}
		for _, s := range failed {
			hostOK[s] = false
		}
		list := strings.Join(failed, " ")
		summary.WriteString(list + "(" + zone + ") ")
		failedLists = append(failedLists, "Zone '"+zone+"': failed servers: "+list+"\n")
		reasons = append(reasons, reason)
		worst = max(worst, code)
	}
	res := Result{Exit: worst, Hosts: dnsHostResults(servers, hostOK)}
	if worst > 0 {
		res.Output = []byte(summary.String() + "\n" + reasonBlocks(reasons, failedLists))
	}
	return res
}

// verifyZone is the script's dns_verify: it returns the failed servers,
// the reason text and the exit code (0 = all good).
func (m *dnsMonitor) verifyZone(ctx context.Context, zone string, servers []string) ([]string, string, int) {
	type soa struct {
		serial uint32
		err    string
	}
	masters := checkHosts(ctx, m.masters, m.queryTimeout()*2, func(ctx context.Context, master string) soa {
		r, err := m.exchange(ctx, master, zone, dns.TypeSOA, false)
		switch {
		case !answered(r, err):
			text := fmt.Sprintf("SOA query for %s from %s failed %s\n", zone, master, dnsErrorString(r, err))
			if err == nil && r.Rcode == dns.RcodeSuccess {
				text += "    Empty answer received.  (No zone on server?)\n"
			}
			return soa{err: text}
		case !r.Authoritative:
			return soa{err: fmt.Sprintf("%s is not authoritative for %s\n", master, zone)}
		case len(r.Answer) != 1:
			return soa{err: fmt.Sprintf("Too many answers for SOA query to %s for %s\n", master, zone)}
		}
		s, ok := r.Answer[0].(*dns.SOA)
		if !ok {
			return soa{err: fmt.Sprintf("Query for SOA for %s from %s failed: return type = %s\n", zone, master, dns.TypeToString[r.Answer[0].Header().Rrtype])}
		}
		return soa{serial: s.Serial}
	})
	var errs []string
	var minSerial, maxSerial uint32
	minMaster, seen := "", false
	for i, s := range masters {
		if s.err != "" {
			if m.failSingle {
				return []string{m.masters[i]}, s.err, dnsExitMasterFailed
			}
			errs = append(errs, s.err)
			continue
		}
		if !seen || s.serial < minSerial {
			minSerial, minMaster = s.serial, m.masters[i]
		}
		if !seen || s.serial > maxSerial {
			maxSerial = s.serial
		}
		seen = true
	}
	switch {
	case !seen:
		return nil, strings.Join(errs, ""), dnsExitMastersFailed
	case int64(maxSerial)-int64(minSerial) > m.serialThreshold:
		return []string{minMaster}, fmt.Sprintf("\nQuery to %s about %s failed\nSerial number = %d, should have been %d\n",
			minMaster, zone, minSerial, maxSerial), dnsExitMastersFailed
	case maxSerial == 0:
		return nil, fmt.Sprintf("\nNo SOA Serial found for %s!?!?", zone), dnsExitMastersFailed
	}

	verdicts := checkHosts(ctx, servers, m.queryTimeout()*2, func(ctx context.Context, server string) dnsVerdict {
		return m.verifyServer(ctx, server, zone, maxSerial)
	})
	var failed []string
	var reason strings.Builder
	for i, v := range verdicts {
		if !v.ok {
			failed = append(failed, servers[i])
			reason.WriteString(v.reason)
		}
	}
	return failed, reason.String(), len(failed)
}

// verifyServer checks one server's SOA for zone against the serial.
func (m *dnsMonitor) verifyServer(ctx context.Context, server, zone string, serial uint32) dnsVerdict {
	r, err := m.exchange(ctx, server, zone, dns.TypeSOA, false)
	if !answered(r, err) {
		text := fmt.Sprintf("\nSOA query for %s from %s failed %s\n", zone, server, dnsErrorString(r, err))
		if err == nil && r.Rcode == dns.RcodeSuccess {
			text += "    Empty answer received.  (No zone on server?)\n"
		}
		return dnsVerdict{reason: text}
	}
	s, isSOA := r.Answer[0].(*dns.SOA)
	drift := int64(0)
	if isSOA {
		drift = int64(s.Serial) - int64(serial)
	}
	if r.Authoritative && len(r.Answer) == 1 && isSOA && max(drift, -drift) <= m.serialThreshold {
		return dnsVerdict{ok: true}
	}
	got := ""
	if isSOA {
		got = strconv.FormatUint(uint64(s.Serial), 10)
	}
	return dnsVerdict{reason: fmt.Sprintf("\nQuery to %s about %s failed\nAuthoritative = %s\nAnswer count = %d\nAnswer Type = %s\nSerial number = %s, should have been %d\n",
		server, zone, yesNo(r.Authoritative), len(r.Answer), dns.TypeToString[r.Answer[0].Header().Rrtype], got, serial)}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// reasonBlocks prints each failed zone/query's reason as the script
// does: an optional heading, the reason's lines (Perl's split drops
// trailing empty lines), then an empty line.
func reasonBlocks(reasons, headings []string) string {
	var b strings.Builder
	for i, r := range reasons {
		if headings != nil {
			b.WriteString(headings[i])
		}
		lines := strings.Split(r, "\n")
		for len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func dnsHostResults(servers []string, ok map[string]bool) []HostResult {
	hosts := make([]HostResult, len(servers))
	for i, s := range servers {
		detail := "ok"
		if !ok[s] {
			detail = "failed"
		}
		hosts[i] = HostResult{Host: s, OK: ok[s], Detail: detail}
	}
	return hosts
}

// --- dns-query.monitor ---

// dns-query.monitor: resolve one name (-n, "mailhost") on every server
// (-t seconds, 5). gomon adds -P PORT (53). The name is queried as given:
// the script's resolver would also try the search domains of
// /etc/resolv.conf for a name without dots.

const dnsQueryUsage = "dns-query.monitor [-t secs] [-n name] [-P port] server [server...]"

type dnsQueryMonitor struct {
	name     string
	resolver *dnsMonitor // for exchange: one try of -t seconds
}

func newDNSQuery(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("t:n:P:", args)
	if err != nil {
		return nil, err
	}
	m := &dnsQueryMonitor{name: opts['n']}
	if m.name == "" {
		m.name = "mailhost"
	}
	timeout, err := secondsOpt(opts, 't', 5*time.Second)
	if err != nil {
		return nil, err
	}
	port, err := portOpt(opts, 'P', "53")
	if err != nil {
		return nil, err
	}
	m.resolver = &dnsMonitor{retry: 1, retrans: timeout, timeout: timeout, port: port}
	return withHostArgs(m, rest), nil
}

func (m *dnsQueryMonitor) Check(ctx context.Context, req Request) Result {
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	start := time.Now()
	hosts := checkHosts(ctx, req.Hosts, m.resolver.timeout*2, func(ctx context.Context, server string) HostResult {
		r, err := m.resolver.exchange(ctx, server, m.name, dns.TypeA, true)
		if !answered(r, err) {
			return HostResult{Host: server, Detail: dnsErrorString(r, err)}
		}
		rr := r.Answer[0]
		h := rr.Header()
		return HostResult{Host: server, OK: true,
			Detail: h.Name + " " + dns.ClassToString[h.Class] + " " + dns.TypeToString[h.Rrtype] + " " + strings.TrimSpace(rdata(rr))}
	})
	// The script's layout, with its blocks sorted instead of in Perl
	// hash order.
	sorted := append([]HostResult(nil), hosts...)
	slices.SortStableFunc(sorted, func(a, b HostResult) int { return strings.Compare(a.Host, b.Host) })
	var b strings.Builder
	b.WriteString(strings.Join(failedHosts(hosts), " ") + "\n")
	if anyFailed(hosts) {
		b.WriteString("failures:\n")
		for _, h := range sorted {
			if !h.OK {
				b.WriteString("    " + h.Host + ": " + h.Detail + " (" + m.name + ")\n")
			}
		}
		b.WriteString("\n")
	}
	if len(failedHosts(hosts)) < len(hosts) {
		b.WriteString("successes:\n")
		for _, h := range sorted {
			if h.OK {
				b.WriteString("    " + h.Host + ": successfull lookup for " + h.Detail + " (" + m.name + ")\n")
			}
		}
	}
	return Result{Exit: exitFor(hosts), Output: []byte(b.String()), Hosts: hosts, Duration: time.Since(start)}
}

func init() {
	Register(&Builtin{Name: "dns", Aliases: []string{"dns.monitor"}, Usage: dnsUsage, New: newDNS})
	Register(&Builtin{Name: "dns-query", Aliases: []string{"dns-query.monitor"}, Usage: dnsQueryUsage, New: newDNSQuery})
}
