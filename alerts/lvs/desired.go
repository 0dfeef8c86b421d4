package lvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/reconcile"
)

// line is one lvs alert or upalert line of a service.
type line = reconcile.Line[*Alert]

// linesOf returns the lvs alert and upalert lines of services in config
// order.
func linesOf(services []reconcile.Service) ([]line, []error) {
	return reconcile.Lines(services, "lvs", Parse)
}

// byBackend groups lines by their table connection. A virtual service is
// managed through the backend of its first line.
func byBackend(lines []line) [][]line {
	first := map[ipvs.VirtualService]string{}
	return reconcile.Group(lines, func(l line) string {
		key, ok := first[l.Alert.VS]
		if !ok {
			key = l.Alert.Backend + "\x00" + l.Alert.Ipvsadm
			first[l.Alert.VS] = key
		}
		return key
	})
}

// verdict is what the lines say about one real-server address.
type verdict struct {
	failing  bool             // some line's service reports it failing
	unknown  bool             // some line's service has no opinion on it
	up       *ipvs.RealServer // the first line's entry for it when up
	quiesced *ipvs.RealServer // the weight-0 entry, when a failing line has -Q
}

// desired computes the real servers each virtual service should have.
// Per address: failing (in any line) wins, it is left out or kept at
// weight 0 with -Q; else an address some line has no result for keeps
// what current has; else it is present with its first line's weight and
// forwarding. Lists are sorted by address. A virtual service with no
// result at all is not in the answer, so it is left alone. An address
// that does not resolve makes its whole virtual service be skipped (its
// kernel entry cannot be told apart).
func desired(ctx context.Context, lines []line, current []ipvs.Service) (map[ipvs.VirtualService][]ipvs.RealServer, error) {
	verdicts := map[ipvs.VirtualService]map[netip.AddrPort]*verdict{}
	broken := map[ipvs.VirtualService]bool{}
	var errs []error
	for _, l := range lines {
		vs := l.Alert.VS
		if verdicts[vs] == nil {
			verdicts[vs] = map[netip.AddrPort]*verdict{}
		}
		add := func(host string, mark func(*verdict, netip.AddrPort)) {
			addr, err := l.Alert.RealAddr(ctx, host)
			if err != nil {
				broken[vs] = true
				errs = append(errs, fmt.Errorf("%s/%s: %w", l.Group, l.Service, err))
				return
			}
			v := verdicts[vs][addr]
			if v == nil {
				v = &verdict{}
				verdicts[vs][addr] = v
			}
			mark(v, addr)
		}
		failing := l.Failing(l.Alert.Real != "")
		for _, host := range l.Svc.Unchecked {
			add(host, func(v *verdict, _ netip.AddrPort) { v.unknown = true })
		}
		for _, host := range l.Svc.Members {
			add(host, func(v *verdict, addr netip.AddrPort) {
				rs := ipvs.RealServer{Addr: addr, Weight: l.Alert.Weight, Forward: l.Alert.Forward}
				switch {
				case failing == nil:
					v.unknown = true
				case slices.Contains(failing, host):
					v.failing = true
					if l.Alert.Quiesce && v.quiesced == nil {
						rs.Weight = 0
						v.quiesced = &rs
					}
				case v.up == nil:
					v.up = &rs
				}
			})
		}
	}

	out := map[ipvs.VirtualService][]ipvs.RealServer{}
	for vs, byAddr := range verdicts {
		if broken[vs] {
			continue
		}
		addrs := make([]netip.AddrPort, 0, len(byAddr))
		decided := false
		for a, v := range byAddr {
			addrs = append(addrs, a)
			decided = decided || v.failing || !v.unknown
		}
		if !decided {
			continue
		}
		slices.SortFunc(addrs, netip.AddrPort.Compare)
		want := []ipvs.RealServer{}
		cur := findService(current, vs)
		for _, a := range addrs {
			switch v := byAddr[a]; {
			case v.failing:
				if v.quiesced != nil {
					want = append(want, *v.quiesced)
				}
			case v.unknown:
				if cur != nil {
					if i := slices.IndexFunc(cur.Reals, func(r ipvs.RealServer) bool { return r.Addr == a }); i >= 0 {
						want = append(want, cur.Reals[i])
					}
				}
			default:
				want = append(want, *v.up)
			}
		}
		out[vs] = want
	}
	return out, errors.Join(errs...)
}

func findService(list []ipvs.Service, vs ipvs.VirtualService) *ipvs.Service {
	for i := range list {
		if list[i].VirtualService == vs {
			return &list[i]
		}
	}
	return nil
}

// sameReals compares two real-server sets, ignoring order.
func sameReals(a, b []ipvs.RealServer) bool {
	byAddr := func(x, y ipvs.RealServer) int { return x.Addr.Compare(y.Addr) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, byAddr)
	slices.SortFunc(b, byAddr)
	return slices.Equal(a, b)
}
