// Package scheduler is gomon's run-time core: it keeps the state of every
// service, runs monitors on per-service timers (never a polling loop),
// feeds their results to the decision engine (scheduler/decide) and
// dispatches the alerts it asks for. The client protocol server reads and
// steers it through the methods in control.go.
package scheduler

import (
	"container/heap"
	"context"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/atomicfile"
	"github.com/gomon/gomon/internal/clock"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/internal/spawn"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

// Options configure a Scheduler. Zero values are sensible defaults.
type Options struct {
	Clock    clock.Clock  // default clock.Real
	Logger   *slog.Logger // default slog.Default()
	Stopped  bool         // start with the scheduler stopped (mon -S)
	Hostname string       // for reset replies; default os.Hostname
	Rand     *rand.Rand   // for randstart/randskew; default seeded randomly
	// AlertTimeout bounds every alert program; default 10 minutes.
	AlertTimeout time.Duration
	// TraceLength is how many decision-trace lines are kept per service;
	// default 50.
	TraceLength int
	// Reload re-reads the configuration for `reset`; nil disables reset.
	Reload func() (*config.Config, error)
	// Monitors and Alerts are the built-ins that monitor and alert names
	// resolve to before mondir/alertdir are searched; nil means the
	// registries of packages monitors and alerts. Tests register Go
	// values here.
	Monitors *registry.Registry[monitors.Monitor]
	Alerts   *registry.Registry[alerts.Alert]
	// Events, when set, observes what the scheduler does (tests, metrics).
	Events func(Event)
	// Replica, when set, runs the scheduler as one node of a cluster
	// (replica.go).
	Replica Replica
}

// Event is reported to Options.Events after something happened.
type Event struct {
	// Kind is "load" (after start and every reset), "import" (a
	// service's state came from another cluster node), "monitor-start",
	// "monitor-done", "monitor-overdue", "alert" (started), "alert-done"
	// (delivered), "alert-failed" (one failed attempt), "alert-abandoned"
	// (a retry a later alert overtook) or "trap". Observers are called with the
	// scheduler locked: they must not call back into it synchronously.
	Kind      string
	Group     string
	Service   string
	Exit      int
	Alert     string           // alert name for Kind "alert"
	AlertType decide.AlertType // and its type
	Time      time.Time
	// Due is, for "monitor-start", when the run was due: Time − Due is
	// how late it started (timer latency, or waiting for a maxprocs
	// slot or for the previous run). Manual runs were due at once.
	Due time.Time
}

// Scheduler runs one configuration.
type Scheduler struct {
	opts  Options
	log   *slog.Logger
	clk   clock.Clock
	rng   *rand.Rand
	start time.Time // daemon start, for the downtime log

	resetMu  sync.Mutex // held by Reset throughout, taken before mu
	mu       stateLock
	cfg      *config.Config
	gen      uint64    // configuration generation; results of older runs are dropped
	loadedAt time.Time // when the generation was installed: where state histories start
	watches  []*watch
	services []*service // config order
	watchIdx watchIndex // watches and their services by name
	// dtServices are the services with configured downtimes, which the
	// downtime timer looks at (config order).
	dtServices []*service
	groups     map[string]*group
	// disabledHosts and disabledWatches survive a reset, as in mon.
	disabledHosts   map[string]map[string]bool // group -> host
	disabledWatches map[string]bool
	// downtimes are the timed or explained disables and acks in force
	// (downtime.go); dtGen makes older downtime timers stale.
	downtimes []*Downtime
	dtGen     uint32
	// windowsEnded are the configured windows an operator ended early,
	// by service key: until when they stay ended.
	windowsEnded map[string]time.Time
	stopped      bool
	stoppedAt    time.Time
	running      int
	waitq        []*service // due services waiting for a maxprocs slot
	timers       timerHeap
	staleTimers  int // entries of timers re-armed or disarmed since (about: see compactTimers)
	maxKeep      int
	alertHist    []string
	failHist     []string
	alertProgs   map[string]alertProg // resolved alert programs by line key
	runner       *spawn.Runner        // runs every external monitor and alert
	wake         chan struct{}
	runs         sync.WaitGroup // running monitors
	alertsWG     sync.WaitGroup // running alerts
	ctx          context.Context
	// stopping is closed when the scheduler shuts down: alert retries
	// still waiting give up then.
	stopping chan struct{}

	// saveSeq numbers the saves of the state files (taken under mu);
	// stateFiles orders their writes, made after mu is released.
	saveSeq    uint64
	stateFiles [nStateFiles]stateFile

	// bulkArm makes arm append to timers, for endBulkArm to order them
	// at once: a load arms every service, and one heap.Init of them
	// costs a fraction of as many pushes, with the lock held.
	bulkArm bool

	runners runners // goroutines waiting for the next run (run.go)
	// loopWake is when the Run loop's timer wakes it (0: it waits for a
	// poke only): arm pokes the loop only for a timer due before then.
	loopWake instant
}

// stateLock guards the scheduler's state. Lock is for anything that may
// change it and bumps a version number, so that a status rendered earlier
// can be reused as long as the version has not moved (the server caches
// `list opstatus` replies that way); readLock is for code that only reads.
// Plain Lock is the safe default: a reader that takes it only costs a
// cache miss.
type stateLock struct {
	mu      sync.Mutex
	version atomic.Uint64
}

func (l *stateLock) Lock()     { l.mu.Lock(); l.version.Add(1) }
func (l *stateLock) Unlock()   { l.mu.Unlock() }
func (l *stateLock) readLock() { l.mu.Lock() }

// New prepares a scheduler for cfg. Nothing runs until Run.
func New(cfg *config.Config, opts Options) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Hostname == "" {
		opts.Hostname, _ = os.Hostname()
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.AlertTimeout == 0 {
		opts.AlertTimeout = 10 * time.Minute
	}
	if opts.TraceLength == 0 {
		opts.TraceLength = 50
	}
	s := &Scheduler{
		opts:            opts,
		log:             opts.Logger,
		clk:             opts.Clock,
		rng:             opts.Rand,
		disabledHosts:   map[string]map[string]bool{},
		disabledWatches: map[string]bool{},
		stopped:         opts.Stopped,
		wake:            make(chan struct{}, 1),
		runner:          spawn.NewRunner(spawnSlots()),
		ctx:             context.Background(),
		stopping:        make(chan struct{}),
		runners:         runners{jobs: make(chan runJob)},
	}
	s.start = s.clk.Now()
	if s.stopped {
		s.stoppedAt = s.start
	}
	atomicfile.RemoveStaleTemps(cfg.Globals.StateDir, "disabled", "opstatus", "downtimes")
	s.mu.Lock()
	s.load(cfg, s.start)
	s.downtimesDue(s.start, false)
	s.mu.Unlock()
	return s
}

// Run drives timers until ctx is cancelled, then stops every running
// monitor and waits for it.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	s.ctx = ctx
	s.beginLog(s.clk.Now())
	s.startupAlerts(s.clk.Now())
	s.emit(Event{Kind: "load", Time: s.clk.Now()})
	s.mu.Unlock()
	for {
		s.mu.Lock()
		next := s.runDue(s.clk.Now())
		// Every arm so far was made under s.mu, so this pass has seen
		// it: pokes up to here are answered, including those runDue
		// made itself.
		s.drainWake()
		// Each pass makes exactly one timer, under s.mu, even with
		// nothing due. A test on a fake clock reads how many timers
		// there are and pokes, both under s.mu; one more timer then
		// proves a whole pass ran after its step (clock.Fake.WaitMade).
		wait := idleWait
		s.loopWake = at(next)
		if !next.IsZero() {
			wait = next.Sub(s.clk.Now())
		}
		t := s.clk.NewTimer(wait)
		s.mu.Unlock()

		select {
		case <-ctx.Done():
		case <-t.C():
		case <-s.wake:
		}
		t.Stop()
		if ctx.Err() != nil {
			s.shutdown()
			return nil
		}
	}
}

// idleWait is the loop's timer when nothing is due: it never fires, and
// only a poke or ctx end the wait.
const idleWait = time.Duration(math.MaxInt64)

// spawnSlots bounds how many programs are being started at once (see
// spawn.Runner): a few per CPU keeps the start rate at the machine's
// ceiling.
func spawnSlots() int { return 8 * runtime.NumCPU() }

// poke wakes the loop so it recomputes its next deadline. Called with
// s.mu held.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drainWake takes back a poke the current pass already answers. Called
// with s.mu held.
func (s *Scheduler) drainWake() {
	select {
	case <-s.wake:
	default:
	}
}

// shutdown cancels running monitors and waits for monitors and alerts.
func (s *Scheduler) shutdown() {
	s.mu.Lock()
	for _, svc := range s.services {
		if svc.cancel != nil {
			svc.cancel(nil)
		}
	}
	s.mu.Unlock()
	close(s.stopping)
	s.runs.Wait()
	s.alertsWG.Wait()
}

// timerKind says what a timer entry does when it fires.
type timerKind int32

const (
	tRun          timerKind = iota // the monitor is due
	tOverdue                       // the running monitor is overdueIntervals late
	tTimeout                       // the running monitor's monitor_timeout is up
	tTrapTimeout                   // no trap for traptimeout
	tTrapDuration                  // trapduration expired
	tWindow                        // a period or the exclude_period may open or close (alert_on_period_start)
	nTimerKinds
	// tDowntime is the scheduler's one downtime timer (downtime.go): it
	// has no service, so it is outside the per-service kinds.
	tDowntime = nTimerKinds
)

// nCommonTimers: the kinds below it are those every service that runs
// arms; the others only trap and alert_on_period_start services do, and
// keep in serviceMore.
const nCommonTimers = tTrapTimeout

// timerEntry is 24 bytes: there is at least one per service.
type timerEntry struct {
	when instant
	svc  *service
	kind timerKind
	gen  uint32
}

type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].when < h[j].when }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// push and pop are heap.Push and heap.Pop without passing the entry
// through an interface, which allocates: a run arms and fires a few
// timers, ten thousand runs a second at scale.
func (h *timerHeap) push(e timerEntry) {
	*h = append(*h, e)
	heap.Fix(h, len(*h)-1)
}

func (h *timerHeap) pop() timerEntry {
	old := *h
	e, n := old[0], len(old)-1
	old[0] = old[n]
	*h = old[:n]
	if n > 0 {
		heap.Fix(h, 0)
	}
	return e
}

// arm sets the service's timer of kind k to fire at when (zero disarms).
// Older entries for the same timer become stale and are skipped. Called
// with s.mu held, which the Run loop relies on to answer its pokes.
func (s *Scheduler) arm(svc *service, k timerKind, when time.Time) {
	due, gen := svc.timer(k, !when.IsZero())
	if due == nil {
		return // a rare timer never armed: nothing to disarm
	}
	if *due != 0 {
		s.staleTimers++ // its entry in the heap is now stale
	}
	*gen++
	*due = at(when)
	if !s.bulkArm && s.staleTimers > compactAt && s.staleTimers > len(s.timers)/2 {
		s.compactTimers()
	}
	if !when.IsZero() {
		e := timerEntry{when: *due, svc: svc, kind: k, gen: *gen}
		if s.bulkArm {
			s.timers = append(s.timers, e) // endBulkArm pokes
			return
		}
		s.timers.push(e)
		// A run's timers are armed at its start and end, ten thousand a
		// second at scale, nearly all for later than the loop wakes: a
		// poke for each would make a pass of the loop for nothing.
		if s.loopWake == 0 || e.when < s.loopWake {
			s.poke()
		}
	}
}

// endBulkArm ends arming in bulk: the timers are a heap again, and the
// loop is poked once for them all.
// compactAt is how many stale entries the timer heap may hold before
// compactTimers is considered. Every run arms an overdue timer (three
// intervals ahead) and usually a timeout, and disarms both when it ends:
// at 10,000 runs a second the entries left behind until they would have
// fired were 300,000, 8 MB of heap, and every pop of one costs a sift.
const compactAt = 4096

// compactTimers drops the heap's stale entries (re-armed or disarmed
// timers, older generations) and re-heaps the rest: O(n), done when at
// least half the heap is stale. Called with s.mu held.
func (s *Scheduler) compactTimers() {
	live := s.timers[:0]
	for _, e := range s.timers {
		if s.liveTimer(e) {
			live = append(live, e)
		}
	}
	clear(s.timers[len(live):]) // drop the services they point to
	s.timers = live
	heap.Init(&s.timers)
	s.staleTimers = 0
}

// liveTimer reports whether e is the current entry of its timer.
func (s *Scheduler) liveTimer(e timerEntry) bool {
	if e.kind == tDowntime {
		return e.gen == s.dtGen
	}
	due, gen := e.svc.timer(e.kind, false)
	return due != nil && e.gen == *gen && e.svc.gen == s.gen
}

func (s *Scheduler) endBulkArm() {
	s.bulkArm = false
	heap.Init(&s.timers)
	if len(s.timers) > 0 {
		s.poke()
	}
}

// runDue fires every timer that is due at now and returns the time of
// the next one (zero when none). Called with s.mu held.
func (s *Scheduler) runDue(now time.Time) time.Time {
	if s.stopped {
		return time.Time{} // timers are frozen; Start shifts them
	}
	nowAt := at(now)
	for s.timers.Len() > 0 {
		e := s.timers[0]
		if !s.liveTimer(e) {
			s.timers.pop()
			s.staleTimers = max(s.staleTimers-1, 0)
			continue
		}
		if e.kind == tDowntime {
			if e.when > nowAt {
				return e.when.Time()
			}
			s.timers.pop()
			s.downtimesDue(now, true)
			continue
		}
		due, _ := e.svc.timer(e.kind, false)
		if e.when > nowAt {
			return e.when.Time()
		}
		s.timers.pop()
		*due = 0
		if e.kind == tRun {
			e.svc.fellDue = e.when
		}
		s.fire(e.svc, e.kind, now)
	}
	return time.Time{}
}

// fire handles one due timer. Called with s.mu held.
func (s *Scheduler) fire(svc *service, k timerKind, now time.Time) {
	if (k == tRun || k == tTrapTimeout || k == tWindow) && !s.owned(svc) {
		// Another node runs it. Its timers keep their grid, so that a
		// takeover finds them armed. (A run still going when ownership
		// moved keeps its timeout and overdue timers.)
		switch k {
		case tRun:
			s.reschedule(svc, now)
		case tTrapTimeout:
			s.arm(svc, k, now.Add(svc.cfg.TrapTimeout))
		case tWindow:
			s.armWindows(svc, now)
		}
		return
	}
	// A global exclude_period suspends the whole service pass: monitors
	// and trap timers alike are re-checked every second, as mon does.
	if g := s.cfg.Globals.ExcludePeriod; g != nil && g.In(now) {
		s.arm(svc, k, now.Add(time.Second))
		return
	}
	switch k {
	case tRun:
		s.monitorDue(svc, now)
	case tTrapTimeout:
		s.trapTimeout(svc, now)
	case tTrapDuration:
		// trapduration expiry silently forces OK: no event, no alerts.
		svc.st.LastOpStatus = svc.st.OpStatus
		svc.st.OpStatus = decide.OK
	case tOverdue:
		s.monitorOverdue(svc, now)
	case tTimeout:
		if svc.running && svc.cancel != nil {
			svc.cancel(errMonitorTimeout)
		}
	case tWindow:
		s.windowChange(svc, now)
	}
}

func (s *Scheduler) emit(ev Event) {
	if s.opts.Events != nil {
		s.opts.Events(ev)
	}
}

// instant is a time.Time in 8 bytes instead of 24, for the timers of
// every service: nanoseconds since instantEpoch, 0 for the zero time.
// Order and differences are the time.Times': the epoch has a monotonic
// clock reading, so a time with one converts through it, and one without
// (a fake clock's, a cron schedule's) through the wall clock.
type instant int64

// instantEpoch lies a century back, so no time the scheduler meets
// converts to 0, and the century is inside what keeps a monotonic reading.
var instantEpoch = time.Now().Add(-100 * 365 * 24 * time.Hour)

func at(t time.Time) instant {
	if t.IsZero() {
		return 0
	}
	return instant(t.Sub(instantEpoch))
}

// Time is the instant as a time.Time (the zero Time for 0).
func (i instant) Time() time.Time {
	if i == 0 {
		return time.Time{}
	}
	return instantEpoch.Add(time.Duration(i))
}
