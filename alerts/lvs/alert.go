// Package lvs is the built-in lvs alert, which keeps IPVS real servers in
// step with mon's alerts, and the reconciler that converges the tables
// its lines name to the health the scheduler sees (docs/compat/alerts.md,
// "lvs"). The tables themselves are package alerts/ipvs.
//
// The package registers the alert as "lvs" and "lvs.alert" with package
// alerts when it is linked in: a program that runs lvs alert lines must
// import it.
package lvs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/reconcile"
	"github.com/gomon/gomon/scheduler/decide"
)

func init() {
	alerts.Register(&alerts.Builtin{
		Name:    "lvs",
		Aliases: []string{"lvs.alert"},
		Usage: "lvs -V VIP:PORT [-P tcp|udp] [-R REAL[:PORT]] [-W WEIGHT] [-F dr|nat|tun] [-Q]" +
			" [--backend auto|netlink|ipvsadm] [--ipvsadm PATH]",
		New: func(args []string) (alerts.Alert, error) { return Parse(args) },
	})
}

// Alert is the lvs alert: on a failure it takes the failing real servers
// out of an IPVS virtual service, on an upalert it puts them back. It is
// idempotent (re-adding a present server or deleting an absent one
// succeeds), and with -Q it quiesces (weight 0) instead of deleting.
//
// The real servers are -R when given, else the failing hosts: the words
// of the event's first input line (the summary for a failure; for an
// upalert mon sends the last failing output, whose first line is that
// failure's summary), kept only if they are members of the group.
type Alert struct {
	VS      ipvs.VirtualService
	Real    string // -R host[:port], "" for the failing hosts
	Weight  int    // -W, default 1
	Forward ipvs.Forward
	Quiesce bool // -Q

	// Backend and Ipvsadm are --backend ("" = auto) and --ipvsadm as
	// given: lines with equal values share one table connection.
	Backend, Ipvsadm string

	// Open returns the Director to use for one Send (and a function to
	// release it). Set by Parse from --backend; tests replace it.
	Open func() (ipvs.Director, func(), error)
}

// Parse parses lvs.alert's arguments.
func Parse(args []string) (*Alert, error) {
	o, err := alerts.ParseArgs("lvs", args, "P:V:R:W:F:Ql:u", "backend:", "ipvsadm:")
	if err != nil {
		return nil, err
	}
	l := &Alert{Real: o.Get("R"), Weight: 1, Forward: ipvs.DirectRoute, Quiesce: o.Has("Q")}
	if l.VS.Protocol, err = ipvs.ParseProtocol(cmp.Or(o.Get("P"), "tcp")); err != nil {
		return nil, fmt.Errorf("lvs alert: -P: %w", err)
	}
	if !o.Has("V") {
		return nil, errors.New("lvs alert: -V VIP:PORT is required")
	}
	if l.VS.Addr, err = netip.ParseAddrPort(o.Get("V")); err != nil {
		return nil, fmt.Errorf("lvs alert: -V: %w", err)
	}
	l.VS.Addr = netip.AddrPortFrom(l.VS.Addr.Addr().Unmap(), l.VS.Addr.Port())
	if o.Has("W") {
		if l.Weight, err = strconv.Atoi(o.Get("W")); err != nil || l.Weight < 0 {
			return nil, fmt.Errorf("lvs alert: -W %q: want a non-negative integer", o.Get("W"))
		}
	}
	if o.Has("F") {
		if l.Forward, err = ipvs.ParseForward(o.Get("F")); err != nil {
			return nil, fmt.Errorf("lvs alert: -F: %w", err)
		}
	}
	if len(o.Args) > 0 {
		return nil, fmt.Errorf("lvs alert: unexpected argument %q", o.Args[0])
	}
	l.Backend, l.Ipvsadm = o.Get("backend"), o.Get("ipvsadm")
	if l.Open, err = openerFor(l.Backend, l.Ipvsadm); err != nil {
		return nil, err
	}
	return l, nil
}

// openerFor picks the Director: netlink, the ipvsadm program, or (auto)
// netlink when the kernel offers it and ipvsadm otherwise.
func openerFor(backend, ipvsadmPath string) (func() (ipvs.Director, func(), error), error) {
	useIpvsadm := func() (ipvs.Director, func(), error) {
		return &ipvs.Ipvsadm{Path: ipvsadmPath}, func() {}, nil
	}
	useNetlink := func() (ipvs.Director, func(), error) {
		n, err := ipvs.NewNetlink()
		if err != nil {
			return nil, nil, err
		}
		return n, n.Close, nil
	}
	switch backend {
	case "netlink":
		return useNetlink, nil
	case "ipvsadm":
		return useIpvsadm, nil
	case "", "auto":
		return func() (ipvs.Director, func(), error) {
			if d, done, err := useNetlink(); err == nil {
				return d, done, nil
			}
			return useIpvsadm()
		}, nil
	}
	return nil, fmt.Errorf("lvs alert: --backend %q: want auto, netlink or ipvsadm", backend)
}

// Send removes (or quiesces) the real servers for a failure and restores
// them for an upalert. Ack, disable and startup alerts change nothing.
func (l *Alert) Send(ctx context.Context, ev alerts.Event) error {
	switch ev.Type {
	case decide.AckAlert, decide.DisableAlert, decide.StartupAlert:
		if !ev.IsUpalert() {
			return nil
		}
	}
	up := ev.IsUpalert()
	hosts := []string{l.Real}
	if l.Real == "" {
		summary, _ := ev.SplitInput()
		hosts = reconcile.FailingMembers(summary, ev.Hosts)
		if len(hosts) == 0 {
			return fmt.Errorf("lvs alert %s: no group member in summary %q", l.VS, summary)
		}
	}
	reals, resolveErr := l.resolve(ctx, hosts)

	d, done, err := l.Open()
	if err != nil {
		return fmt.Errorf("lvs alert %s: %w", l.VS, err)
	}
	defer done()
	errs := []error{resolveErr}
	for _, addr := range reals {
		rs := ipvs.RealServer{Addr: addr, Weight: l.Weight, Forward: l.Forward}
		switch {
		case up:
			err = ipvs.SetReal(ctx, d, l.VS, rs)
		case l.Quiesce:
			rs.Weight = 0
			err = ipvs.SetReal(ctx, d, l.VS, rs)
		default:
			err = ipvs.RemoveReal(ctx, d, l.VS, addr)
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lvs alert %s: %w", l.VS, err)
	}
	return nil
}

// Desired returns the real servers this alert's virtual service should
// have, for ipvs.Reconcile: every member (or -R) with -W, except the
// failing ones, which are left out (or kept at weight 0 with -Q). With -R,
// the real server counts as failing when failing is not empty.
func (l *Alert) Desired(ctx context.Context, members, failing []string) ([]ipvs.RealServer, error) {
	if l.Real != "" {
		members = []string{l.Real}
		if len(failing) > 0 {
			failing = members
		}
	}
	var out []ipvs.RealServer
	var errs []error
	for _, h := range members {
		addrs, err := l.resolve(ctx, []string{h})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs := ipvs.RealServer{Addr: addrs[0], Weight: l.Weight, Forward: l.Forward}
		if slices.Contains(failing, h) {
			if !l.Quiesce {
				continue
			}
			rs.Weight = 0
		}
		out = append(out, rs)
	}
	return out, errors.Join(errs...)
}

// RealAddr returns the real-server address the alert uses for host: -R's
// when it is set, else host's (resolved; the port defaults to the VIP's).
func (l *Alert) RealAddr(ctx context.Context, host string) (netip.AddrPort, error) {
	if l.Real != "" {
		host = l.Real
	}
	addrs, err := l.resolve(ctx, []string{host})
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addrs[0], nil
}

// resolve turns "host[:port]" into addresses of the VIP's family; the
// port defaults to the VIP's. Names are looked up; bad ones are reported
// and skipped.
func (l *Alert) resolve(ctx context.Context, hosts []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	var errs []error
	for _, h := range hosts {
		host, port := h, l.VS.Addr.Port()
		if hp, p, err := net.SplitHostPort(h); err == nil {
			n, err := strconv.ParseUint(p, 10, 16)
			if err != nil {
				errs = append(errs, fmt.Errorf("real server %q: bad port", h))
				continue
			}
			host, port = hp, uint16(n)
		}
		addr, err := l.lookup(ctx, host)
		if err != nil {
			errs = append(errs, fmt.Errorf("real server %q: %w", h, err))
			continue
		}
		out = append(out, netip.AddrPortFrom(addr, port))
	}
	return out, errors.Join(errs...)
}

func (l *Alert) lookup(ctx context.Context, host string) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap(), nil
	}
	network := "ip6"
	if l.VS.Addr.Addr().Is4() {
		network = "ip4"
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("no %s address", network)
	}
	return addrs[0].Unmap(), nil
}
