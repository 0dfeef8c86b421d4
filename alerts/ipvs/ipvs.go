// Package ipvs manages real servers of Linux IPVS virtual services: the
// layer under gomon's lvs alert. A Director is one way to reach the kernel
// table (netlink, the ipvsadm program, or an in-memory fake for tests);
// SetReal, RemoveReal and Reconcile are idempotent operations on top of it.
package ipvs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Protocol is a virtual service's transport protocol.
type Protocol string

const (
	TCP Protocol = "tcp"
	UDP Protocol = "udp"
)

// ParseProtocol accepts "tcp" and "udp" in any case.
func ParseProtocol(s string) (Protocol, error) {
	switch p := Protocol(strings.ToLower(s)); p {
	case TCP, UDP:
		return p, nil
	}
	return "", fmt.Errorf("unknown protocol %q (want tcp or udp)", s)
}

// Forward is how the director forwards packets to a real server.
type Forward string

const (
	DirectRoute Forward = "dr"    // ipvsadm -g, "Route"
	Masquerade  Forward = "nat"   // ipvsadm -m, "Masq"
	Tunnel      Forward = "tun"   // ipvsadm -i, "Tunnel"
	Local       Forward = "local" // the director itself; only ever read
)

// ParseForward accepts the names lvs.alert and ipvsadm use: dr, gate, g,
// route; nat, masq, m; tun, ipip, i, tunnel.
func ParseForward(s string) (Forward, error) {
	switch strings.ToLower(s) {
	case "dr", "gate", "g", "route":
		return DirectRoute, nil
	case "nat", "masq", "m":
		return Masquerade, nil
	case "tun", "ipip", "i", "tunnel":
		return Tunnel, nil
	}
	return "", fmt.Errorf("unknown forwarding method %q (want dr, nat or tun)", s)
}

// VirtualService identifies one IPVS service (protocol, VIP and port).
type VirtualService struct {
	Protocol Protocol
	Addr     netip.AddrPort
}

func (v VirtualService) String() string { return string(v.Protocol) + " " + v.Addr.String() }

// RealServer is one destination of a virtual service.
type RealServer struct {
	Addr    netip.AddrPort
	Weight  int
	Forward Forward
}

// Service is a virtual service as found in the table, with its real
// servers.
type Service struct {
	VirtualService
	Scheduler string
	Reals     []RealServer
}

// DefaultScheduler is used when a virtual service must be created; it is
// ipvsadm's default.
const DefaultScheduler = "wlc"

// Director reads and changes the IPVS table. Add fails when the entry
// exists and Update/Delete when it does not, as the kernel does; use
// SetReal, RemoveReal and Reconcile for idempotent changes. Services lists
// TCP and UDP services only (firewall-mark services are not managed).
type Director interface {
	Services(ctx context.Context) ([]Service, error)
	AddService(ctx context.Context, vs VirtualService, scheduler string) error
	AddReal(ctx context.Context, vs VirtualService, rs RealServer) error
	UpdateReal(ctx context.Context, vs VirtualService, rs RealServer) error
	DeleteReal(ctx context.Context, vs VirtualService, real netip.AddrPort) error
}

// find returns the service vs in list, or nil.
func find(list []Service, vs VirtualService) *Service {
	for i := range list {
		if list[i].VirtualService == vs {
			return &list[i]
		}
	}
	return nil
}

// findReal returns the real server at addr in s, or nil.
func (s *Service) findReal(addr netip.AddrPort) *RealServer {
	for i := range s.Reals {
		if s.Reals[i].Addr == addr {
			return &s.Reals[i]
		}
	}
	return nil
}

// retry runs op once more when it fails. Other writers (an alert, the
// reconciler, another tool) may change the table between op's listing and
// its change, making the kernel refuse it; op's second run starts from a
// fresh listing, which then shows the work already done.
func retry(op func() error) error {
	if err := op(); err == nil {
		return nil
	}
	return op()
}

// SetReal makes rs a real server of vs with exactly its weight and
// forwarding method, creating the virtual service if it is missing. It
// succeeds without a change when that is already so.
func SetReal(ctx context.Context, d Director, vs VirtualService, rs RealServer) error {
	return retry(func() error {
		list, err := d.Services(ctx)
		if err != nil {
			return err
		}
		return setReal(ctx, d, find(list, vs), vs, rs)
	})
}

func setReal(ctx context.Context, d Director, cur *Service, vs VirtualService, rs RealServer) error {
	if cur == nil {
		if err := d.AddService(ctx, vs, DefaultScheduler); err != nil {
			return fmt.Errorf("add service %s: %w", vs, err)
		}
		cur = &Service{VirtualService: vs}
	}
	switch have := cur.findReal(rs.Addr); {
	case have == nil:
		if err := d.AddReal(ctx, vs, rs); err != nil {
			return fmt.Errorf("add real %s to %s: %w", rs.Addr, vs, err)
		}
	case *have != rs:
		if err := d.UpdateReal(ctx, vs, rs); err != nil {
			return fmt.Errorf("update real %s of %s: %w", rs.Addr, vs, err)
		}
	}
	return nil
}

// RemoveReal deletes the real server at addr from vs; it succeeds when
// the server or the virtual service is already absent.
func RemoveReal(ctx context.Context, d Director, vs VirtualService, addr netip.AddrPort) error {
	return retry(func() error {
		list, err := d.Services(ctx)
		if err != nil {
			return err
		}
		cur := find(list, vs)
		if cur == nil || cur.findReal(addr) == nil {
			return nil
		}
		if err := d.DeleteReal(ctx, vs, addr); err != nil {
			return fmt.Errorf("delete real %s from %s: %w", addr, vs, err)
		}
		return nil
	})
}

// Reconcile converges the table to desired: every virtual service in
// desired ends up with exactly the listed real servers (weights and
// forwarding methods included), created if needed. Virtual services not
// in desired are never touched, so tables shared with other tools are
// safe. It goes on after a failed change; when a change failed it starts
// over once from a fresh listing, and returns that pass's errors joined.
func Reconcile(ctx context.Context, d Director, desired map[VirtualService][]RealServer) error {
	return retry(func() error { return reconcile(ctx, d, desired) })
}

func reconcile(ctx context.Context, d Director, desired map[VirtualService][]RealServer) error {
	list, err := d.Services(ctx)
	if err != nil {
		return err
	}
	// Sorted for a deterministic order of changes and errors.
	keys := make([]VirtualService, 0, len(desired))
	for vs := range desired {
		keys = append(keys, vs)
	}
	slices.SortFunc(keys, compareVS)

	var errs []error
	for _, vs := range keys {
		cur := find(list, vs)
		if cur == nil {
			if err := d.AddService(ctx, vs, DefaultScheduler); err != nil {
				errs = append(errs, fmt.Errorf("add service %s: %w", vs, err))
				continue
			}
			cur = &Service{VirtualService: vs}
		}
		want := map[netip.AddrPort]bool{}
		for _, rs := range desired[vs] {
			want[rs.Addr] = true
			if err := setReal(ctx, d, cur, vs, rs); err != nil {
				errs = append(errs, err)
			}
		}
		for _, have := range cur.Reals {
			if want[have.Addr] {
				continue
			}
			if err := d.DeleteReal(ctx, vs, have.Addr); err != nil {
				errs = append(errs, fmt.Errorf("delete real %s from %s: %w", have.Addr, vs, err))
			}
		}
	}
	return errors.Join(errs...)
}

func compareVS(a, b VirtualService) int {
	return cmp.Or(cmp.Compare(a.Protocol, b.Protocol), a.Addr.Compare(b.Addr))
}
