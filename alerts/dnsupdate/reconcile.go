package dnsupdate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"

	"github.com/gomon/gomon/alerts/reconcile"
)

// line is one dnsupdate alert or upalert line of a service.
type line = reconcile.Line[*Alert]

// NewReconciler returns the reconciler that keeps every name of the
// configured dnsupdate lines in step with the health the scheduler sees,
// after start, reset and reload and after each result of such a service:
// what alerts cannot see (a restart while a server is down, a partial
// recovery, a hand edit) is repaired too. Run starts it.
func NewReconciler(health reconcile.Health, log *slog.Logger) *reconcile.Reconciler[*Alert] {
	return reconcile.New(kind, health, log, Parse, func(ctx context.Context, lines []line) error {
		var errs []error
		for _, group := range byName(lines) {
			errs = append(errs, converge(ctx, log, group))
		}
		return errors.Join(errs...)
	})
}

// byName groups lines by the name they keep (its zone and server). A
// name is driven with the TTL, key and -L of its first line.
func byName(lines []line) [][]line {
	return reconcile.Group(lines, func(l line) [3]string { return [3]string{l.Alert.Server, l.Alert.Zone, l.Alert.Name} })
}

// converge brings one name to what its lines' services say.
func converge(ctx context.Context, log *slog.Logger, lines []line) error {
	first := lines[0].Alert
	del, add, err := desired(ctx, lines)
	if err != nil {
		return fmt.Errorf("%s: %w", first.Name, err)
	}
	if len(del) == 0 && len(add) == 0 {
		return nil // no verdict on any address: left alone
	}
	c, err := first.client(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", first.Name, err)
	}
	ch, err := c.apply(ctx, first.Name, first.TTL, del, add, first.AllowEmpty)
	if err != nil {
		return fmt.Errorf("%s: %w", first.Name, err)
	}
	logChange(log, "dnsupdate reconcile", first.Name, ch)
	return nil
}

// verdict is what the lines say about one address.
type verdict struct{ failing, unknown, up bool }

// desired returns the addresses the name must lose and those it must
// have. Per address: failing (in any line) wins, it goes; else an address
// some line has no result for is left as it is (neither added nor
// removed); else, when every covering line says up, it is there. An
// address no line covers is not gomon's and is left alone. A host that
// does not resolve skips the name for this pass (its record cannot be
// told apart).
func desired(ctx context.Context, lines []line) (del, add []netip.Addr, err error) {
	verdicts := map[netip.Addr]*verdict{}
	mark := func(l line, host string, set func(*verdict)) error {
		addrs, err := l.Alert.addrs(ctx, []string{host})
		if err != nil {
			return fmt.Errorf("%s/%s: %w", l.Group, l.Service, err)
		}
		for _, a := range addrs {
			if verdicts[a] == nil {
				verdicts[a] = &verdict{}
			}
			set(verdicts[a])
		}
		return nil
	}
	var errs []error
	for _, l := range lines {
		failing := l.Failing(l.Alert.Addr.IsValid())
		for _, h := range l.Svc.Unchecked {
			errs = append(errs, mark(l, h, func(v *verdict) { v.unknown = true }))
		}
		for _, h := range l.Svc.Members {
			errs = append(errs, mark(l, h, func(v *verdict) {
				switch {
				case failing == nil:
					v.unknown = true
				case slices.Contains(failing, h):
					v.failing = true
				default:
					v.up = true
				}
			}))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	for a, v := range verdicts {
		switch {
		case v.failing:
			del = append(del, a)
		case !v.unknown && v.up:
			add = append(add, a)
		}
	}
	slices.SortFunc(del, netip.Addr.Compare)
	slices.SortFunc(add, netip.Addr.Compare)
	return del, add, nil
}
