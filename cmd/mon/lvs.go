package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// lvsPassTimeout bounds one reconcile pass, so a hung ipvsadm cannot stop
// later passes.
const lvsPassTimeout = 30 * time.Second

// lvsReconciler keeps the IPVS tables of the configured lvs alerts in step
// with the health the scheduler sees, after start, reset and reload, so a
// restart never strands a real server. Alerts only report changes; the
// reconciler converges the whole virtual service, which also repairs what
// alerts cannot see (a restart, a partial recovery, a hand-edited table).
// The rules are in docs/compat/alerts.md ("lvs reconcile").
type lvsReconciler struct {
	log  *slog.Logger
	wake chan struct{} // capacity 1: a pending pass absorbs later signals

	mu      sync.Mutex
	watched map[scheduler.ServiceRef]bool // services with lvs lines, as of the last pass

	lastErr string // the previous pass's error, logged once while it repeats
}

func newLVSReconciler(log *slog.Logger) *lvsReconciler {
	return &lvsReconciler{log: log, wake: make(chan struct{}, 1)}
}

// observe receives scheduler events (called with the scheduler locked, so
// it only signals run). A pass follows every load (start, reset, reload)
// and every result of a service that has lvs lines.
func (r *lvsReconciler) observe(e scheduler.Event) {
	switch e.Kind {
	case "load":
	case "monitor-done", "trap":
		r.mu.Lock()
		ok := r.watched[scheduler.ServiceRef{Group: e.Group, Service: e.Service}]
		r.mu.Unlock()
		if !ok {
			return
		}
	default:
		return
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// run reconciles until ctx is done.
func (r *lvsReconciler) run(ctx context.Context, sched *scheduler.Scheduler) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		}
		pctx, cancel := context.WithTimeout(ctx, lvsPassTimeout)
		r.pass(pctx, sched)
		cancel()
	}
}

// pass converges every table the configuration's lvs lines manage.
func (r *lvsReconciler) pass(ctx context.Context, sched *scheduler.Scheduler) {
	lines, lineErrs := lvsLines(sched.Config())
	watched := map[scheduler.ServiceRef]bool{}
	for _, l := range lines {
		watched[l.ref] = true
	}
	// Set before reading the health: a result that lands after the read
	// signals another pass.
	r.mu.Lock()
	r.watched = watched
	r.mu.Unlock()
	errs := lineErrs
	if len(lines) > 0 {
		health := lvsHealthOf(sched)
		for _, group := range byBackend(lines) {
			errs = append(errs, r.converge(ctx, group, health))
		}
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
func (r *lvsReconciler) converge(ctx context.Context, lines []lvsLine, health map[scheduler.ServiceRef]lvsHealth) error {
	d, done, err := lines[0].lvs.Open()
	if err != nil {
		return err
	}
	defer done()
	current, err := d.Services(ctx)
	if err != nil {
		return err
	}
	desired, err := lvsDesired(ctx, lines, health, current)
	for vs, want := range desired {
		if have := findService(current, vs); have != nil && sameReals(have.Reals, want) {
			delete(desired, vs)
			continue
		}
		r.log.Info("lvs reconcile", "service", vs.String(), "reals", realsText(want))
	}
	if len(desired) > 0 {
		err = errors.Join(err, ipvs.Reconcile(ctx, d, desired))
	}
	return err
}

// lvsLine is one lvs alert or upalert line of a service.
type lvsLine struct {
	ref    scheduler.ServiceRef
	period int               // index of the line's period in the service
	exit   *config.ExitRange // the line's exit= range, nil = any
	lvs    *lvs.Alert
}

// isLVSAlert reports whether an alert line names the built-in lvs alert
// (lvs, lvs.alert, builtin:lvs…; script:lvs.alert is someone else's).
func isLVSAlert(name string) bool {
	b := alerts.Builtins()
	return !strings.HasPrefix(name, registry.ScriptPrefix) &&
		b.Lookup(name) != nil && b.Lookup(name) == b.Lookup("lvs")
}

// lvsLines returns the lvs alert and upalert lines of cfg in config order.
func lvsLines(cfg *config.Config) ([]lvsLine, []error) {
	var (
		out  []lvsLine
		errs []error
	)
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			ref := scheduler.ServiceRef{Group: w.Name, Service: s.Name}
			for i, p := range s.Periods {
				for _, al := range slices.Concat(p.Alerts, p.UpAlerts) {
					if !isLVSAlert(al.Name) {
						continue
					}
					l, err := lvs.Parse(al.Args)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s/%s: %w", w.Name, s.Name, err))
						continue
					}
					out = append(out, lvsLine{ref: ref, period: i, exit: al.Exit, lvs: l})
				}
			}
		}
	}
	return out, errs
}

// byBackend groups lines by their table connection. A virtual service is
// managed through the backend of its first line.
func byBackend(lines []lvsLine) [][]lvsLine {
	first := map[ipvs.VirtualService]string{}
	index := map[string]int{}
	var out [][]lvsLine
	for _, l := range lines {
		key, ok := first[l.lvs.VS]
		if !ok {
			key = l.lvs.Backend + "\x00" + l.lvs.Ipvsadm
			first[l.lvs.VS] = key
		}
		i, ok := index[key]
		if !ok {
			i = len(out)
			index[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], l)
	}
	return out
}

// lvsHealth is what the scheduler knows about one service's hosts.
type lvsHealth struct {
	// known is false while the service has no result (untested since
	// start or reset, or skipped for a dependency), and while the service
	// or its watch is disabled.
	known   bool
	failing bool     // its status is a failure
	alerted []bool   // per period: a down alert was sent for this failure
	exit    int      // exit value of the last result
	summary string   // summary of the last result
	members []string // checked group members
	// unchecked hosts are members the monitor is not given (disabled,
	// exclude_hosts): the scheduler has no opinion on them.
	unchecked []string
}

// lvsHealthOf reads the health of every service from the scheduler.
func lvsHealthOf(sched *scheduler.Scheduler) map[scheduler.ServiceRef]lvsHealth {
	disabledWatches := sched.DisabledList().Watches
	out := map[scheduler.ServiceRef]lvsHealth{}
	for _, st := range sched.StatusAll() {
		op := st.State.OpStatus
		h := lvsHealth{
			known: op != decide.Untested && op != decide.Depend && !st.State.Disabled &&
				!slices.Contains(disabledWatches, st.Group),
			failing: op.IsFailure(),
			exit:    st.State.ExitVal,
			summary: st.State.LastSummary,
		}
		for _, p := range st.State.Periods {
			h.alerted = append(h.alerted, p.AlertSent > 0)
		}
		members, _ := sched.GroupMembers(st.Group)
		for _, m := range members {
			if host, disabled := strings.CutPrefix(m, "*"); disabled || slices.Contains(st.Config.ExcludeHosts, m) {
				h.unchecked = append(h.unchecked, host)
			} else {
				h.members = append(h.members, m)
			}
		}
		out[st.ServiceRef] = h
	}
	return out
}

// verdict is what the lines say about one real-server address.
type verdict struct {
	failing  bool             // some line's service reports it failing
	unknown  bool             // some line's service has no opinion on it
	up       *ipvs.RealServer // the first line's entry for it when up
	quiesced *ipvs.RealServer // the weight-0 entry, when a failing line has -Q
}

// lvsDesired computes the real servers each virtual service should have.
// Per address: failing (in any line) wins, it is left out or kept at
// weight 0 with -Q; else an address some line has no result for keeps
// what current has; else it is present with its first line's weight and
// forwarding. Lists are sorted by address. A virtual service with no result at all is not in the
// answer, so it is left alone. An address that does not resolve makes its
// whole virtual service be skipped (its kernel entry cannot be told
// apart).
func lvsDesired(ctx context.Context, lines []lvsLine, health map[scheduler.ServiceRef]lvsHealth, current []ipvs.Service) (map[ipvs.VirtualService][]ipvs.RealServer, error) {
	verdicts := map[ipvs.VirtualService]map[netip.AddrPort]*verdict{}
	broken := map[ipvs.VirtualService]bool{}
	var errs []error
	for _, l := range lines {
		vs := l.lvs.VS
		if verdicts[vs] == nil {
			verdicts[vs] = map[netip.AddrPort]*verdict{}
		}
		add := func(host string, mark func(*verdict, netip.AddrPort)) {
			addr, err := l.lvs.RealAddr(ctx, host)
			if err != nil {
				broken[vs] = true
				errs = append(errs, fmt.Errorf("%s/%s: %w", l.ref.Group, l.ref.Service, err))
				return
			}
			v := verdicts[vs][addr]
			if v == nil {
				v = &verdict{}
				verdicts[vs][addr] = v
			}
			mark(v, addr)
		}
		h := health[l.ref]
		failing := lineFailing(l, h)
		for _, host := range h.unchecked {
			add(host, func(v *verdict, _ netip.AddrPort) { v.unknown = true })
		}
		for _, host := range h.members {
			add(host, func(v *verdict, addr netip.AddrPort) {
				rs := ipvs.RealServer{Addr: addr, Weight: l.lvs.Weight, Forward: l.lvs.Forward}
				switch {
				case failing == nil:
					v.unknown = true
				case slices.Contains(failing, host):
					v.failing = true
					if l.lvs.Quiesce && v.quiesced == nil {
						rs.Weight = 0
						v.quiesced = &rs
					}
				case v.up == nil:
					v.up = &rs
				}
			})
		}
	}

	desired := map[ipvs.VirtualService][]ipvs.RealServer{}
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
		desired[vs] = want
	}
	return desired, errors.Join(errs...)
}

// lineFailing returns the members a line's service reports failing (an
// empty, non-nil list when it is up), or nil when it gives no verdict:
// no result yet, a failure for which the line's period has sent no alert
// yet (alertafter, outside the period…: the alert has not acted either),
// a failure outside the line's exit= range (the alert would not run), or
// a failure naming no member without -R (the alert would not know whom
// to take out either).
func lineFailing(l lvsLine, h lvsHealth) []string {
	switch {
	case !h.known:
		return nil
	case !h.failing:
		return []string{}
	case l.period >= len(h.alerted) || !h.alerted[l.period]:
		return nil
	case l.exit != nil && !l.exit.Contains(h.exit):
		return nil
	case l.lvs.Real != "":
		return h.members
	}
	var out []string
	for _, w := range strings.Fields(h.summary) {
		if slices.Contains(h.members, w) {
			out = append(out, w)
		}
	}
	return out // nil when the summary names no member
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

func realsText(list []ipvs.RealServer) string {
	parts := make([]string, len(list))
	for i, r := range list {
		parts[i] = fmt.Sprintf("%s/%s/%d", r.Addr, r.Forward, r.Weight)
	}
	return strings.Join(parts, " ")
}
