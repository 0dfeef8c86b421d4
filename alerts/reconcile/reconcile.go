// Package reconcile keeps a serving layer that alerts steer (an IPVS
// table, a zone's address records) in step with the health the scheduler
// sees. Alerts report changes only, so some states have no alert: a
// restart while a server is down, a partial recovery, a hand edit. A
// Reconciler converges the whole layer after start, reset and reload and
// after each result of a service that steers it; what "converged" means
// is the built-in's own (alerts/lvs, alerts/dnsupdate). This package owns
// what they share: the scheduler's view (Health), finding a built-in's
// lines, the verdict a line's service gives on its hosts, and the
// signalled, coalesced passes.
package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gomon/gomon/internal/config"
)

// passTimeout bounds one reconcile pass, so a hung peer (an ipvsadm, a
// DNS server) cannot stop later passes.
const passTimeout = 30 * time.Second

// Health is the reconciler's view of the scheduler.
type Health interface {
	// Services returns every service of the running configuration in
	// config order, all as of one instant.
	Services() []Service
}

// Configured is optional on a Health: the running configuration, which
// is cheap to read. A pass for a kind that no alert line names then skips
// Services, a snapshot of every service (a fifth of a second at 100,000).
type Configured interface {
	Config() *config.Config
}

// Reconciler runs the passes of one built-in alert: after every signal
// it reads the health, finds the built-in's lines and hands them to
// converge. A is the built-in's parsed alert.
type Reconciler[A any] struct {
	kind     string // the built-in's name, also the log messages' prefix
	parse    func(args []string) (A, error)
	converge func(ctx context.Context, lines []Line[A]) error
	health   Health
	log      *slog.Logger
	wake     chan struct{} // capacity 1: a pending pass absorbs later signals

	mu      sync.Mutex
	watched map[Ref]bool // services with lines of kind, as of the last pass

	lastErr string // the previous pass's error, logged once while it repeats
}

// New returns a reconciler for the built-in alert kind (its registered
// name), whose lines parse reads and converge acts on; Run starts it.
func New[A any](kind string, health Health, log *slog.Logger,
	parse func([]string) (A, error), converge func(context.Context, []Line[A]) error) *Reconciler[A] {
	return &Reconciler[A]{kind: kind, parse: parse, converge: converge, health: health, log: log,
		wake: make(chan struct{}, 1)}
}

// Loaded tells the reconciler that a configuration was loaded (start,
// reset, reload): a pass follows. It only signals, so it may be called
// with the scheduler locked.
func (r *Reconciler[A]) Loaded() { r.signal() }

// Result tells the reconciler that a service has a new result (a monitor
// run or a trap): a pass follows if the service has lines of its kind. It
// only signals, so it may be called with the scheduler locked.
func (r *Reconciler[A]) Result(group, service string) {
	r.mu.Lock()
	ok := r.watched[Ref{group, service}]
	r.mu.Unlock()
	if ok {
		r.signal()
	}
}

func (r *Reconciler[A]) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run reconciles after every signal until ctx is done.
func (r *Reconciler[A]) Run(ctx context.Context) {
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

// pass converges everything the configuration's lines of kind manage.
func (r *Reconciler[A]) pass(ctx context.Context) {
	var services []Service
	if c, ok := r.health.(Configured); !ok || Names(c.Config(), r.kind) {
		services = r.health.Services()
	}
	lines, errs := Lines(services, r.kind, r.parse)
	watched := map[Ref]bool{}
	for _, l := range lines {
		watched[l.Ref] = true
	}
	// The health was read before this: a result that lands after the
	// read signals another pass, as long as its service is watched.
	r.mu.Lock()
	r.watched = watched
	r.mu.Unlock()
	if len(lines) > 0 {
		errs = append(errs, r.converge(ctx, lines))
	}
	// A pass follows every result: an error that persists (no IPVS, an
	// unreachable server) is logged when it first appears, not every
	// interval.
	err := errors.Join(errs...)
	switch {
	case err == nil && r.lastErr != "":
		r.log.Info(r.kind + " reconcile works again")
	case err != nil && err.Error() != r.lastErr:
		r.log.Error(r.kind+" reconcile failed", "err", err)
	case err != nil:
		r.log.Debug(r.kind+" reconcile still failing", "err", err)
	}
	r.lastErr = ""
	if err != nil {
		r.lastErr = err.Error()
	}
}
