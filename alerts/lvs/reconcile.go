package lvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/reconcile"
)

// NewReconciler returns the reconciler that keeps the IPVS tables of the
// configured lvs alerts in step with the health the scheduler sees, so a
// restart never strands a real server: it converges every virtual service
// named in an lvs line, which also repairs what alerts cannot see (a
// restart, a partial recovery, a hand-edited table). The rules are in
// docs/compat/alerts.md ("lvs reconcile"); Run starts it.
func NewReconciler(health reconcile.Health, log *slog.Logger) *reconcile.Reconciler[*Alert] {
	return reconcile.New("lvs", health, log, Parse, func(ctx context.Context, lines []line) error {
		var errs []error
		for _, group := range byBackend(lines) {
			errs = append(errs, converge(ctx, log, group))
		}
		return errors.Join(errs...)
	})
}

// converge reconciles the virtual services of lines, which share one
// backend.
func converge(ctx context.Context, log *slog.Logger, lines []line) error {
	d, done, err := lines[0].Alert.Open()
	if err != nil {
		return err
	}
	defer done()
	current, err := d.Services(ctx)
	if err != nil {
		return err
	}
	want, err := desired(ctx, lines, current)
	for vs, reals := range want {
		if have := findService(current, vs); have != nil && sameReals(have.Reals, reals) {
			delete(want, vs)
			continue
		}
		log.Info("lvs reconcile", "service", vs.String(), "reals", realsText(reals))
	}
	if len(want) > 0 {
		err = errors.Join(err, ipvs.Reconcile(ctx, d, want))
	}
	return err
}

func realsText(list []ipvs.RealServer) string {
	parts := make([]string, len(list))
	for i, r := range list {
		parts[i] = fmt.Sprintf("%s/%s/%d", r.Addr, r.Forward, r.Weight)
	}
	return strings.Join(parts, " ")
}
