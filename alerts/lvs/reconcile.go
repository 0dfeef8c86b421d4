package lvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler/decide"
)

// passTimeout bounds one reconcile pass, so a hung ipvsadm cannot stop
// later passes.
const passTimeout = 30 * time.Second

// Health is the reconciler's view of the scheduler.
type Health interface {
	// Services returns every service of the running configuration in
	// config order, all as of one instant.
	Services() []Service
}

// Service is one service as the scheduler sees it: its configuration,
// whose lvs lines name the tables to keep, and its health.
type Service struct {
	Group, Name string
	Config      *config.Service
	State       decide.State
	// Disabled is true while the service or its watch is disabled: its
	// last result is then no verdict on its hosts.
	Disabled bool
	// Members are the group's hosts its monitor is given; Unchecked are
	// the others (disabled hosts, exclude_hosts), on which it has no
	// opinion.
	Members, Unchecked []string
}

// ref names a service.
type ref struct{ group, service string }

// Reconciler keeps the IPVS tables of the configured lvs alerts in step
// with the health the scheduler sees, after start, reset and reload, so a
// restart never strands a real server. Alerts only report changes; the
// reconciler converges the whole virtual service, which also repairs what
// alerts cannot see (a restart, a partial recovery, a hand-edited table).
// The rules are in docs/compat/alerts.md ("lvs reconcile").
type Reconciler struct {
	health Health
	log    *slog.Logger
	wake   chan struct{} // capacity 1: a pending pass absorbs later signals

	mu      sync.Mutex
	watched map[ref]bool // services with lvs lines, as of the last pass

	lastErr string // the previous pass's error, logged once while it repeats
}

// NewReconciler returns a reconciler reading health; Run starts it.
func NewReconciler(health Health, log *slog.Logger) *Reconciler {
	return &Reconciler{health: health, log: log, wake: make(chan struct{}, 1)}
}

// Loaded tells the reconciler that a configuration was loaded (start,
// reset, reload): a pass follows. It only signals, so it may be called
// with the scheduler locked.
func (r *Reconciler) Loaded() { r.signal() }

// Result tells the reconciler that a service has a new result (a monitor
// run or a trap): a pass follows if the service has lvs lines. It only
// signals, so it may be called with the scheduler locked.
func (r *Reconciler) Result(group, service string) {
	r.mu.Lock()
	ok := r.watched[ref{group, service}]
	r.mu.Unlock()
	if ok {
		r.signal()
	}
}

func (r *Reconciler) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run reconciles after every signal until ctx is done.
func (r *Reconciler) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		pctx, cancel := context.WithTimeout(ctx, passTimeout)
		r.pass(pctx)
		cancel()
	}
}

// pass converges every table the configuration's lvs lines manage.
func (r *Reconciler) pass(ctx context.Context) {
	services := r.health.Services()
	lines, errs := linesOf(services)
	watched := map[ref]bool{}
	for _, l := range lines {
		watched[l.ref] = true
	}
	// The health was read before this: a result that lands after the
	// read signals another pass, as long as its service is watched.
	r.mu.Lock()
	r.watched = watched
	r.mu.Unlock()
	for _, group := range byBackend(lines) {
		errs = append(errs, r.converge(ctx, group))
	}
	// A pass follows every result: an error that persists (no IPVS, a
	// missing ipvsadm) is logged when it first appears, not every interval.
	err := errors.Join(errs...)
	switch {
	case err == nil && r.lastErr != "":
		r.log.Info("lvs reconcile works again")
	case err != nil && err.Error() != r.lastErr:
		r.log.Error("lvs reconcile failed", "err", err)
	case err != nil:
		r.log.Debug("lvs reconcile still failing", "err", err)
	}
	r.lastErr = ""
	if err != nil {
		r.lastErr = err.Error()
	}
}

// converge reconciles the virtual services of lines, which share one
// backend.
func (r *Reconciler) converge(ctx context.Context, lines []line) error {
	d, done, err := lines[0].alert.Open()
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
		r.log.Info("lvs reconcile", "service", vs.String(), "reals", realsText(reals))
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
