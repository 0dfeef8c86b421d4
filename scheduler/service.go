package scheduler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/internal/shellwords"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

type watch struct {
	name     string
	cfg      *config.Watch
	services []*service // config order
	// byName indexes the services of a watch of more than bigWatch
	// (nil: few enough to search).
	byName map[string]*service
}

// bigWatch is how many services a watch searches before it indexes them
// by name: one index for all services would cost each of 100,000 a key
// string and 40 bytes of table, and most watches have a handful.
const bigWatch = 16

// service returns the watch's service called name, or nil.
func (w *watch) service(name string) *service {
	if w.byName != nil {
		return w.byName[name]
	}
	for _, svc := range w.services {
		if svc.cfg.Name == name {
			return svc
		}
	}
	return nil
}

// watchIndex is a configuration's watches by name.
type watchIndex map[string]*watch

// service returns the service called name of watch group, or nil.
func (x watchIndex) service(group, name string) *service {
	if w := x[group]; w != nil {
		return w.service(name)
	}
	return nil
}

type group struct {
	name  string
	hosts []string // config order
}

// service is the run-time record of one configured service. There is
// one per service, so its fields are packed: times as instants, the
// flags together.
type service struct {
	w   *watch
	cfg *config.Service
	st  *decide.State
	gen uint64 // configuration generation it belongs to

	mon     monitors.Monitor // nil when the monitor could not be resolved
	monArgs []string
	monErr  error

	// The timers every running service arms (timer): when each is due
	// (0: not armed) and its generation, which makes older heap entries
	// stale.
	due      [nCommonTimers]instant
	timerGen [nCommonTimers]uint32
	planned  instant       // fixed-rate schedule: planned start of the next run
	fellDue  instant       // when the run timer that will start the next run fired due
	phase    time.Duration // offset of this service's runs within its interval

	noHosts  bool // monitor line ends in ";;"
	errSeen  bool // monErr already logged (Q-SCH-3: log once, not every second)
	running  bool
	overdue  bool // the run has lasted overdueIntervals intervals
	runAgain bool // `test monitor` arrived while running
	queued   bool // waiting for a maxprocs slot
	ran      bool // a run has finished at least once

	m *serviceMore // what most services never use (nil until used)

	cancel    context.CancelCauseFunc // ends the running monitor (nil: none)
	pid       int
	lastCheck time.Time // start of the last run (mon's _last_check)
	duration  time.Duration
	// values and hosts are what the last finished run measured and its
	// per-host verdicts (built-ins only). Each run replaces the slices,
	// never changes them, so Status can share them.
	values []monitors.Value
	hosts  []monitors.HostResult

	states []StateChange // bounded state history (history.go); nil until the state first changes
}

// serviceMore holds the fields of a service that only alerting, failing,
// clustered, disabled or `set` services use, so that the others do not
// carry them (one record per service).
type serviceMore struct {
	// The timers of trap and alert_on_period_start services, as
	// service.due and timerGen (kinds from nCommonTimers on).
	due      [nTimerKinds - nCommonTimers]instant
	timerGen [nTimerKinds - nCommonTimers]uint32

	trace []decide.Trace // the last decisions' trace lines (addTrace)
	// lastFailureTime is never reset (unlike st.LastFailure); it gives
	// dep_memory the meaning the manual promises (Q-SCH-14).
	lastFailureTime instant

	// lastDispatch is when the service last started alerts (tests aside),
	// and newer is closed when a later event starts alerts: a retry
	// waiting then gives up at once (and frees the output it holds).
	lastDispatch instant
	newer        chan struct{}
	// alertFailure is the last undeliverable alert; nil once one got through.
	alertFailure *AlertFailure

	// held are the alerts waiting for the cluster to accept the state
	// (replica.go); sig is the signature of the state last published
	// or imported.
	held []heldAlert
	sig  string

	windows *windows // alert_on_period_start: the windows at their last change (nil: none watched)

	vars     map[string]string // `set G S VAR` for keys gomon does not model
	disabled *DisableNote      // set while the service is disabled
}

// noMore is what peek shows of a service without a serviceMore; it is
// never written.
var noMore serviceMore

// peek returns the service's rarely used fields for reading.
func (svc *service) peek() *serviceMore {
	if svc.m == nil {
		return &noMore
	}
	return svc.m
}

// more returns the service's rarely used fields for writing, allocating
// them on first use.
func (svc *service) more() *serviceMore {
	if svc.m == nil {
		svc.m = &serviceMore{}
	}
	return svc.m
}

// timer returns where svc keeps its timer of kind k: when it is due and
// its generation. A rare kind's live in serviceMore, made only if alloc
// (to arm it); without, a service that never armed it has none (nil).
func (svc *service) timer(k timerKind, alloc bool) (due *instant, gen *uint32) {
	if k < nCommonTimers {
		return &svc.due[k], &svc.timerGen[k]
	}
	if svc.m == nil && !alloc {
		return nil, nil
	}
	m, i := svc.more(), k-nCommonTimers
	return &m.due[i], &m.timerGen[i]
}

// dueAt returns when svc's timer of kind k is due (0: not armed).
func (svc *service) dueAt(k timerKind) instant {
	if due, _ := svc.timer(k, false); due != nil {
		return *due
	}
	return 0
}

func (svc *service) key() string { return svc.w.name + "/" + svc.cfg.Name }

// load replaces the running configuration with cfg. Run-time state
// starts fresh except what mon keeps across a reset: disabled hosts and
// disabled watches. Called with s.mu held.
func (s *Scheduler) load(cfg *config.Config, now time.Time) {
	s.bulkArm = true
	s.install(s.build(cfg), now, nil)
	s.endBulkArm()
}

// loaded is a configuration's run-time records before they are
// installed: build makes them without the lock, since at 100,000
// services that takes most of a second that timers would wait for.
type loaded struct {
	cfg        *config.Config
	groups     map[string]*group
	watches    []*watch
	services   []*service // config order
	watchIdx   watchIndex
	dtServices []*service // with configured downtimes
	alertProgs map[string]alertProg
	timers     timerHeap // empty, with room for the services' first timers
}

// build makes the records of cfg's services: fresh state, resolved
// monitor and alert lines, staggered phases. It reads only cfg and what
// does not change after New (opts, runner), so it needs no lock.
func (s *Scheduler) build(cfg *config.Config) *loaded {
	n := 0
	for _, wc := range cfg.Watches {
		n += len(wc.Services)
	}
	// Sized up front: at 100,000 services growing them by appending
	// leaves a quarter more than they hold, and garbage on the way.
	l := &loaded{cfg: cfg, groups: make(map[string]*group, len(cfg.HostGroups)), watchIdx: make(watchIndex, len(cfg.Watches)),
		watches: make([]*watch, 0, len(cfg.Watches)), services: make([]*service, 0, n)}
	for _, hg := range cfg.HostGroups {
		l.groups[hg.Name] = &group{name: hg.Name, hosts: hg.Hosts}
	}
	l.alertProgs = resolveAlerts(cfg, s.alertResolverFor(cfg))
	// Identical monitor lines resolve alike within one load; a built-in
	// that keeps no state between runs is then shared, not parsed again.
	res := s.monitorResolverFor(cfg)
	seen := map[string]resolvedMonitor{}
	for _, wc := range cfg.Watches {
		if l.groups[wc.Name] == nil {
			l.groups[wc.Name] = &group{name: wc.Name, hosts: []string{wc.Name}}
		}
		w := &watch{name: wc.Name, cfg: wc, services: make([]*service, 0, len(wc.Services))}
		if len(wc.Services) > bigWatch {
			w.byName = make(map[string]*service, len(wc.Services))
		}
		for _, sc := range wc.Services {
			svc := &service{w: w, cfg: sc, st: decide.NewState(sc)}
			if s.opts.Replica != nil {
				svc.more().sig = signature(svc.st)
			}
			resolveShared(svc, res, seen)
			w.services = append(w.services, svc)
			l.services = append(l.services, svc)
			if w.byName != nil {
				w.byName[sc.Name] = svc
			}
			if len(sc.Downtimes) > 0 {
				l.dtServices = append(l.dtServices, svc)
			}
		}
		l.watches = append(l.watches, w)
		l.watchIdx[w.name] = w
	}
	// Services that share an interval get staggered phases: started in the
	// same instant every time, their monitors would queue behind each
	// other's fork and exec. They are spaced by about what one process
	// start costs, or evenly over the interval when that does not fit.
	byInterval := map[time.Duration][]*service{}
	for _, svc := range l.services {
		if c := svc.cfg; c.Interval > 0 && c.Schedule == nil {
			byInterval[c.Interval] = append(byInterval[c.Interval], svc)
		}
	}
	for iv, list := range byInterval {
		step := min(iv/time.Duration(len(list)), phaseStep)
		for i, svc := range list {
			svc.phase = step * time.Duration(i)
		}
	}
	// A run timer per service, some trap and window timers: allocated
	// here, install only appends (with the lock held).
	l.timers = make(timerHeap, 0, len(l.services)+len(l.services)/8+8)
	return l
}

// install makes l the running configuration: a new generation, timers
// armed from now. prev, when not nil, is a keep-state reset's old
// service for each new one (pairServices): each takes its state, and its
// schedule when keepsSchedule, on the way (one pass over the services,
// the lock held). Called with s.mu held, arming in bulk.
func (s *Scheduler) install(l *loaded, now time.Time, prev []pairing) {
	s.gen++
	s.loadedAt = now
	s.cfg = l.cfg
	s.maxKeep = l.cfg.Globals.HistLength
	s.groups, s.watches, s.services, s.dtServices, s.watchIdx = l.groups, l.watches, l.services, l.dtServices, l.watchIdx
	s.alertProgs = l.alertProgs
	s.waitq = nil
	s.timers = l.timers
	s.running = 0
	// Disabled hosts survive only while they are still group members.
	for g, hosts := range s.disabledHosts {
		grp := s.groups[g]
		for h := range hosts {
			if grp == nil || !contains(grp.hosts, h) {
				delete(hosts, h)
			}
		}
	}
	if s.stopped {
		s.stoppedAt = now
	}
	for i, svc := range s.services {
		svc.gen = s.gen
		var from *service // whose schedule svc keeps
		if prev != nil && prev[i].from != nil {
			if c := prev[i].from.cancel; c != nil {
				c(nil) // as Reset does for the others
			}
			prev[i].carry(svc)
			if s.keepsSchedule(svc, prev[i]) {
				from = prev[i].from
			}
		}
		s.armFirst(svc, now, from)
	}
}

// phaseStep spaces the runs of services that share an interval.
const phaseStep = time.Millisecond

// armFirst schedules a service's first run and trap timer after a load.
// Like mon, the first run is not immediate: it comes one interval after
// start, plus the service's phase (or at a random point within randstart).
// A service that keeps the schedule of from (keepsSchedule) runs when
// from would have.
func (s *Scheduler) armFirst(svc *service, now time.Time, from *service) {
	c := svc.cfg
	switch {
	case c.Schedule != nil:
		s.arm(svc, tRun, c.Schedule.Next(now))
	case c.Interval > 0:
		first := c.Interval + svc.phase
		if rs := s.cfg.Globals.RandStart; rs > 0 {
			// Drawn even for a kept schedule: the other services'
			// starts stay what they were.
			first = time.Duration(s.rng.Int64N(int64(rs)))
		}
		when := now.Add(first)
		if from != nil {
			when = from.due[tRun].Time()
			svc.planned, svc.phase = from.planned, from.phase
		}
		s.arm(svc, tRun, when)
	}
	if c.TrapTimeout > 0 {
		s.arm(svc, tTrapTimeout, now.Add(c.TrapTimeout))
	}
	s.armWindows(svc, now)
}

// resolveMonitor sets the service's monitor implementation.
func (s *Scheduler) resolveMonitor(svc *service) {
	m, err := findMonitor(s.monitorResolver(), svc.cfg.Monitor)
	svc.mon, svc.monArgs, svc.noHosts, svc.monErr = m.mon, m.args, m.noHosts, err
}

// resolveShared is resolveMonitor for a load: the instance found for
// an earlier service with the same line is reused when it is shareable.
func resolveShared(svc *service, res *registry.Resolver[monitors.Monitor], seen map[string]resolvedMonitor) {
	line := svc.cfg.Monitor
	m, ok := seen[line]
	var err error
	if !ok {
		m, err = findMonitor(res, line)
		if err == nil && m.mon != nil && monitors.Shareable(m.mon) {
			seen[line] = m
		}
	}
	svc.mon, svc.monArgs, svc.noHosts, svc.monErr = m.mon, m.args, m.noHosts, err
}

// resolvedMonitor is a parsed and resolved `monitor` line.
type resolvedMonitor struct {
	mon     monitors.Monitor
	args    []string
	noHosts bool // the line ends in ";;"
}

// findMonitor parses a `monitor` line (NAME ARGS... [;;]) and resolves
// its name (registry.Resolver: built-in, drop-in alias, script: prefix,
// mondir).
func findMonitor(res *registry.Resolver[monitors.Monitor], line string) (resolvedMonitor, error) {
	var m resolvedMonitor
	line = strings.TrimSpace(line)
	if line == "" {
		return m, errors.New("no monitor found while trying to run []")
	}
	if rest, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), ";;"); ok {
		line = strings.TrimRight(rest, " \t")
		m.noHosts = true
	}
	name, rest, _ := strings.Cut(line, " ")
	args, err := shellwords.Split(rest)
	if err != nil {
		return m, fmt.Errorf("monitor %q: %w", line, err)
	}
	m.args = args
	r, err := res.Resolve(name, args)
	m.mon = r.Impl
	return m, err
}

// monitorResolver resolves monitor names with the configured mondir and
// the built-ins of Options.Monitors.
func (s *Scheduler) monitorResolver() *registry.Resolver[monitors.Monitor] {
	return s.monitorResolverFor(s.cfg)
}

// monitorResolverFor is monitorResolver for cfg, which may not be the
// running configuration yet.
func (s *Scheduler) monitorResolverFor(cfg *config.Config) *registry.Resolver[monitors.Monitor] {
	r := monitors.Resolver(cfg.Globals.MonDir, s.runner)
	if s.opts.Monitors != nil {
		r.Builtins = s.opts.Monitors
	}
	return r
}

// alertResolverFor resolves alert names with cfg's alertdir and the
// built-ins of Options.Alerts.
func (s *Scheduler) alertResolverFor(cfg *config.Config) *registry.Resolver[alerts.Alert] {
	r := alerts.Resolver(cfg.Globals.AlertDir, s.runner)
	if s.opts.Alerts != nil {
		r.Builtins = s.opts.Alerts
	}
	return r
}

// alertProg is a resolved alert line: the implementation and what the
// alert history shows as its path, or why it cannot run.
type alertProg struct {
	alert alerts.Alert
	path  string
	err   error
}

// resolveAlerts resolves every alert line of cfg (every period's lines
// and the redistribute lines), once per load. The decision engine's "is
// there such an alert" and dispatch both read this table, so an alert is
// counted as sent exactly when it can be started.
func resolveAlerts(cfg *config.Config, r *registry.Resolver[alerts.Alert]) map[string]alertProg {
	progs := map[string]alertProg{}
	for _, l := range alertLines(cfg) {
		key := alertKey(l)
		if _, ok := progs[key]; ok {
			continue
		}
		a, err := r.Resolve(l.Name, l.Args)
		progs[key] = alertProg{alert: a.Impl, path: a.Path, err: err}
	}
	return progs
}

// alertLines returns every alert line of cfg, in config order.
func alertLines(cfg *config.Config) []config.AlertLine {
	var out []config.AlertLine
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			if l, err := decide.RedistributeLine(s); err == nil && l != nil {
				out = append(out, *l)
			}
			for _, p := range s.Periods {
				out = slices.Concat(out, p.Alerts, p.UpAlerts, p.StartupAlerts, p.AckAlerts, p.DisableAlerts)
			}
		}
	}
	return out
}

// alertKey identifies an alert line by name and arguments (a built-in is
// configured from its arguments).
func alertKey(l config.AlertLine) string {
	return l.Name + "\x00" + strings.Join(l.Args, "\x00")
}

// findAlert returns the resolved alert line. Every line of the running
// configuration was resolved at load.
func (s *Scheduler) findAlert(l config.AlertLine) alertProg {
	if p, ok := s.alertProgs[alertKey(l)]; ok {
		return p
	}
	return alertProg{err: fmt.Errorf("alert line %q is not in the running configuration", l)}
}

// enabledHosts returns the members of the service's group that are not
// disabled, in config order (alert -h and the base of monitor hosts).
func (s *Scheduler) enabledHosts(groupName string) []string {
	g := s.groups[groupName]
	if g == nil {
		return nil
	}
	dis := s.disabledHosts[groupName]
	out := make([]string, 0, len(g.hosts))
	for _, h := range g.hosts {
		if !dis[h] {
			out = append(out, h)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// base returns the last path element, for log lines like mon's.
func base(p string) string { return filepath.Base(p) }
