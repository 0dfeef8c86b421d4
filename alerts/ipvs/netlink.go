//go:build linux

package ipvs

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/moby/ipvs"
)

// Netlink talks to the kernel's IPVS table over generic netlink, without
// any helper program.
type Netlink struct {
	h *ipvs.Handle
}

// NewNetlink opens a netlink handle in the caller's network namespace.
// It fails when the kernel has no IPVS: the library would otherwise try
// modprobe and then silently list nothing.
func NewNetlink() (*Netlink, error) { return NewNetlinkAt("") }

// NewNetlinkAt opens a netlink handle in the network namespace at nsPath
// (e.g. /proc/PID/ns/net or /run/netns/NAME; "" = the caller's).
func NewNetlinkAt(nsPath string) (*Netlink, error) {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		return nil, fmt.Errorf("ipvs netlink: IPVS not available in this kernel (load the ip_vs module): %w", err)
	}
	h, err := ipvs.New(nsPath)
	if err != nil {
		return nil, fmt.Errorf("ipvs netlink: %w", err)
	}
	return &Netlink{h: h}, nil
}

// Close releases the netlink socket.
func (n *Netlink) Close() { n.h.Close() }

func (n *Netlink) Services(ctx context.Context) ([]Service, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	svcs, err := n.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("ipvs netlink: list services: %w", err)
	}
	var out []Service
	for _, s := range svcs {
		vs, ok := fromKernelService(s)
		if !ok {
			continue // firewall-mark or SCTP service: not ours
		}
		dsts, err := n.h.GetDestinations(s)
		if err != nil {
			return nil, fmt.Errorf("ipvs netlink: list reals of %s: %w", vs, err)
		}
		svc := Service{VirtualService: vs, Scheduler: s.SchedName}
		for _, d := range dsts {
			ip, _ := netip.AddrFromSlice(d.Address)
			svc.Reals = append(svc.Reals, RealServer{
				Addr:    netip.AddrPortFrom(ip.Unmap(), d.Port),
				Weight:  d.Weight,
				Forward: fromKernelForward(d.ConnectionFlags),
			})
		}
		out = append(out, svc)
	}
	return out, nil
}

func (n *Netlink) AddService(ctx context.Context, vs VirtualService, scheduler string) error {
	s := toKernelService(vs)
	s.SchedName = scheduler
	return wrapNetlink(ctx, "add service", vs, func() error { return n.h.NewService(s) })
}

func (n *Netlink) AddReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	return wrapNetlink(ctx, "add real", vs, func() error {
		return n.h.NewDestination(toKernelService(vs), toKernelDest(rs))
	})
}

func (n *Netlink) UpdateReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	return wrapNetlink(ctx, "update real", vs, func() error {
		return n.h.UpdateDestination(toKernelService(vs), toKernelDest(rs))
	})
}

func (n *Netlink) DeleteReal(ctx context.Context, vs VirtualService, real netip.AddrPort) error {
	return wrapNetlink(ctx, "delete real", vs, func() error {
		return n.h.DelDestination(toKernelService(vs), toKernelDest(RealServer{Addr: real}))
	})
}

// wrapNetlink runs one netlink call; the library has its own socket
// timeouts, so ctx is only checked before the call.
func wrapNetlink(ctx context.Context, what string, vs VirtualService, call func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := call(); err != nil {
		return fmt.Errorf("ipvs netlink: %s %s: %w", what, vs, err)
	}
	return nil
}

func family(a netip.Addr) uint16 {
	if a.Is4() {
		return syscall.AF_INET
	}
	return syscall.AF_INET6
}

func toKernelService(vs VirtualService) *ipvs.Service {
	s := &ipvs.Service{
		Address:       net.IP(vs.Addr.Addr().AsSlice()),
		Port:          vs.Addr.Port(),
		Protocol:      syscall.IPPROTO_TCP,
		AddressFamily: family(vs.Addr.Addr()),
		Netmask:       0xFFFFFFFF,
	}
	if vs.Protocol == UDP {
		s.Protocol = syscall.IPPROTO_UDP
	}
	if vs.Addr.Addr().Is6() {
		s.Netmask = 128
	}
	return s
}

func fromKernelService(s *ipvs.Service) (VirtualService, bool) {
	var p Protocol
	switch {
	case s.FWMark != 0:
		return VirtualService{}, false
	case s.Protocol == syscall.IPPROTO_TCP:
		p = TCP
	case s.Protocol == syscall.IPPROTO_UDP:
		p = UDP
	default:
		return VirtualService{}, false
	}
	ip, ok := netip.AddrFromSlice(s.Address)
	return VirtualService{Protocol: p, Addr: netip.AddrPortFrom(ip.Unmap(), s.Port)}, ok
}

func toKernelDest(rs RealServer) *ipvs.Destination {
	flags := uint32(ipvs.ConnectionFlagDirectRoute)
	switch rs.Forward {
	case Masquerade:
		flags = ipvs.ConnectionFlagMasq
	case Tunnel:
		flags = ipvs.ConnectionFlagTunnel
	}
	return &ipvs.Destination{
		Address:         net.IP(rs.Addr.Addr().AsSlice()),
		Port:            rs.Addr.Port(),
		Weight:          rs.Weight,
		ConnectionFlags: flags,
		AddressFamily:   family(rs.Addr.Addr()),
	}
}

func fromKernelForward(flags uint32) Forward {
	switch flags & ipvs.ConnectionFlagFwdMask {
	case ipvs.ConnectionFlagMasq:
		return Masquerade
	case ipvs.ConnectionFlagTunnel:
		return Tunnel
	case ipvs.ConnectionFlagLocalNode:
		return Local
	}
	return DirectRoute
}
