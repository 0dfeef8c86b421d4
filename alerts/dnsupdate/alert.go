// Package dnsupdate is the built-in dnsupdate alert, which keeps a
// name's address records (DNS round robin) in step with mon's alerts
// through RFC 2136 dynamic updates signed with TSIG, and the reconciler
// that converges those names to the health the scheduler sees
// (docs/alerts-dns.md). It works against any authoritative server that
// takes dynamic updates: BIND, Knot, PowerDNS.
//
// The package registers the alert as "dnsupdate" and "dnsupdate.alert"
// with package alerts when it is linked in: a program that runs
// dnsupdate alert lines must import it.
package dnsupdate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/reconcile"
	"github.com/gomon/gomon/scheduler/decide"
	"github.com/miekg/dns"
)

// kind is the built-in's registered name.
const kind = "dnsupdate"

func init() {
	alerts.Register(&alerts.Builtin{
		Name:    kind,
		Aliases: []string{kind + ".alert"},
		Usage: "dnsupdate -Z ZONE -N NAME [-A ADDRESS] [-T TTL] [-S SERVER[:PORT]]" +
			" [-K KEYFILE | -k [ALGORITHM:]KEYNAME:SECRET] [-L]",
		New: func(args []string) (alerts.Alert, error) { return Parse(args) },
	})
}

// Alert is the dnsupdate alert: on a failure it deletes the failing
// servers' addresses from a name's A/AAAA records, on an upalert it adds
// them back. It is idempotent, and it never deletes the name's last
// address unless -L allows it (an empty round robin answers nobody; a
// stale address still answers some).
//
// The addresses are -A when given, else the failing hosts: the words of
// the event's first input line that are members of the group (as the lvs
// alert reads them), each an address or a name that resolves.
type Alert struct {
	Zone, Name string     // -Z, -N: with the final dot
	Addr       netip.Addr // -A; invalid: the failing hosts
	TTL        uint32     // -T, default 60
	Server     string     // -S host:port; "" for the zone's primary (SOA MNAME), port 53
	Key        *Key       // -K or -k; nil: updates are not signed
	AllowEmpty bool       // -L

	// Log takes the alert's own lines (what changed, the last address
	// kept); nil is slog's default logger.
	Log *slog.Logger

	// resolvers are asked for the SOA when there is no -S (default: the
	// system's resolv.conf); primaryPort is the port of the primary it
	// names (default 53). Tests set them.
	resolvers   []string
	primaryPort string
}

// Parse parses dnsupdate.alert's arguments.
func Parse(args []string) (*Alert, error) {
	o, err := alerts.ParseArgs(kind, args, "Z:N:A:T:S:K:k:Lu")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Alert, error) { return nil, fmt.Errorf("dnsupdate alert: %w", err) }
	a := &Alert{TTL: 60, AllowEmpty: o.Has("L")}
	if !o.Has("Z") || !o.Has("N") {
		return fail(errors.New("-Z ZONE and -N NAME are required"))
	}
	if _, ok := dns.IsDomainName(o.Get("Z")); !ok || o.Get("Z") == "" {
		return fail(fmt.Errorf("-Z %q is not a domain name", o.Get("Z")))
	}
	a.Zone = dns.CanonicalName(o.Get("Z"))
	if _, ok := dns.IsDomainName(o.Get("N")); !ok || o.Get("N") == "" {
		return fail(fmt.Errorf("-N %q is not a domain name", o.Get("N")))
	}
	// A name inside the zone is taken as it is, any other as relative to
	// the zone (-N www -Z example.com is www.example.com).
	if a.Name = dns.CanonicalName(o.Get("N")); !dns.IsSubDomain(a.Zone, a.Name) {
		a.Name = dns.CanonicalName(o.Get("N") + "." + a.Zone)
	}
	if o.Has("A") {
		if a.Addr, err = netip.ParseAddr(o.Get("A")); err != nil {
			return fail(fmt.Errorf("-A: %w", err))
		}
		a.Addr = a.Addr.Unmap()
	}
	if o.Has("T") {
		n, err := strconv.ParseUint(o.Get("T"), 10, 31)
		if err != nil {
			return fail(fmt.Errorf("-T %q: want a TTL in seconds", o.Get("T")))
		}
		a.TTL = uint32(n)
	}
	if o.Has("S") {
		if a.Server, err = hostPort(o.Get("S")); err != nil {
			return fail(fmt.Errorf("-S: %w", err))
		}
	}
	switch {
	case o.Has("K") && o.Has("k"):
		return fail(errors.New("give -K or -k, not both"))
	case o.Has("K"):
		a.Key, err = readKeyFile(o.Get("K"))
	case o.Has("k"):
		a.Key, err = parseKeySpec(o.Get("k"))
	}
	if err != nil {
		return fail(err)
	}
	if len(o.Args) > 0 {
		return fail(fmt.Errorf("unexpected argument %q", o.Args[0]))
	}
	return a, nil
}

// hostName is what -S takes for a host that is not an address.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9.])?$`)

// hostPort checks -S's SERVER[:PORT] and adds port 53 when none is given.
func hostPort(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), "53"
	}
	_, perr := strconv.ParseUint(port, 10, 16)
	if _, aerr := netip.ParseAddr(host); perr != nil || (aerr != nil && !hostName.MatchString(host)) {
		return "", fmt.Errorf("%q: want SERVER[:PORT]", s)
	}
	return net.JoinHostPort(host, port), nil
}

// RedactArgs hides a -k secret from the "calling alert" log line and the
// alert history.
func (a *Alert) RedactArgs(raw string) string {
	if a.Key == nil {
		return raw
	}
	return strings.ReplaceAll(raw, a.Key.Secret, "(secret)")
}

func (a *Alert) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// Send deletes the addresses for a failure and adds them for an upalert.
// Ack, disable and startup alerts change nothing.
func (a *Alert) Send(ctx context.Context, ev alerts.Event) error {
	switch ev.Type {
	case decide.AckAlert, decide.DisableAlert, decide.StartupAlert:
		if !ev.IsUpalert() {
			return nil
		}
	}
	hosts := []string{a.Addr.String()}
	if !a.Addr.IsValid() {
		summary, _ := ev.SplitInput()
		if hosts = reconcile.FailingMembers(summary, ev.Hosts); len(hosts) == 0 {
			return fmt.Errorf("dnsupdate alert %s: no group member in summary %q", a.Name, summary)
		}
	}
	addrs, resolveErr := a.addrs(ctx, hosts)
	c, err := a.client(ctx)
	if err != nil {
		return fmt.Errorf("dnsupdate alert %s: %w", a.Name, err)
	}
	var del, add []netip.Addr
	if ev.IsUpalert() {
		add = addrs
	} else {
		del = addrs
	}
	ch, err := c.apply(ctx, a.Name, a.TTL, del, add, a.AllowEmpty)
	if err == nil {
		logChange(a.log(), "dnsupdate alert", a.Name, ch, "group", ev.Group, "service", ev.Service)
	}
	if err := errors.Join(resolveErr, err); err != nil {
		return fmt.Errorf("dnsupdate alert %s: %w", a.Name, err)
	}
	return nil
}

// addrs returns the addresses of hosts: -A, or each host's own (an
// address, or every address a name resolves to). Bad ones are reported
// and skipped.
func (a *Alert) addrs(ctx context.Context, hosts []string) ([]netip.Addr, error) {
	if a.Addr.IsValid() {
		return []netip.Addr{a.Addr}, nil
	}
	var out []netip.Addr
	var errs []error
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			out = append(out, ip.Unmap())
			continue
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", h)
		if err != nil {
			errs = append(errs, fmt.Errorf("host %q: %w", h, err))
			continue
		}
		for _, ip := range ips {
			out = append(out, ip.Unmap())
		}
	}
	return out, errors.Join(errs...)
}

// client returns the zone's client: -S, else the primary its SOA names.
func (a *Alert) client(ctx context.Context) (*zoneClient, error) {
	c := &zoneClient{server: a.Server, zone: a.Zone, key: a.Key}
	if c.server != "" {
		return c, nil
	}
	var err error
	c.server, err = a.primary(ctx)
	return c, err
}

// primary finds the zone's primary server: the MNAME of its SOA, asked
// of the resolvers, and MNAME's first address.
func (a *Alert) primary(ctx context.Context) (string, error) {
	resolvers := a.resolvers
	if len(resolvers) == 0 {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return "", fmt.Errorf("finding the primary of %s (no -S): %w", a.Zone, err)
		}
		for _, s := range conf.Servers {
			resolvers = append(resolvers, net.JoinHostPort(s, conf.Port))
		}
	}
	ask := func(name string, typ uint16) ([]dns.RR, error) {
		var errs []error
		for _, r := range resolvers {
			c := &zoneClient{server: r}
			m := new(dns.Msg)
			m.SetQuestion(name, typ)
			resp, err := c.exchange(ctx, m, true)
			if err == nil {
				return resp.Answer, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
	answer, err := ask(a.Zone, dns.TypeSOA)
	if err != nil {
		return "", fmt.Errorf("finding the primary of %s (no -S): %w", a.Zone, err)
	}
	for _, rr := range answer {
		soa, ok := rr.(*dns.SOA)
		if !ok {
			continue
		}
		for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
			addrs, err := ask(soa.Ns, typ)
			if err != nil {
				return "", fmt.Errorf("finding the address of %s, primary of %s: %w", soa.Ns, a.Zone, err)
			}
			for _, rr := range addrs {
				if ip, ok := rrAddr(rr); ok {
					port := a.primaryPort
					if port == "" {
						port = "53"
					}
					return net.JoinHostPort(ip.String(), port), nil
				}
			}
		}
		return "", fmt.Errorf("the primary of %s, %s, has no address", a.Zone, soa.Ns)
	}
	return "", fmt.Errorf("no SOA record for %s (give -S)", a.Zone)
}
