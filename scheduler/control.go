package scheduler

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

// Errors returned by the control operations; the protocol server maps
// them to mon's reply texts.
var (
	ErrUnknownGroup   = errors.New("unknown group")
	ErrUnknownService = errors.New("unknown service")
	ErrUnknownPeriod  = errors.New("period not defined")
	ErrNotFailing     = errors.New("service is in a non-failure state")
	ErrNoReload       = errors.New("reset is not available")
)

// Config returns the running configuration (read-only).
func (s *Scheduler) Config() *config.Config {
	s.mu.readLock()
	defer s.mu.Unlock()
	return s.cfg
}

// Stopped reports whether the scheduler is stopped and since when.
func (s *Scheduler) Stopped() (bool, time.Time) {
	s.mu.readLock()
	defer s.mu.Unlock()
	return s.stopped, s.stoppedAt
}

// Stop freezes all timers; running monitors finish and their results
// are processed, but every alert is dropped until Start.
func (s *Scheduler) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		s.stoppedAt = s.clk.Now()
	}
}

// Start resumes the timers where Stop froze them.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		return
	}
	s.stopped = false
	shift := s.clk.Now().Sub(s.stoppedAt)
	for _, svc := range s.services {
		for k := timerKind(0); k < nTimerKinds; k++ {
			if due := svc.dueAt(k); due != 0 {
				s.arm(svc, k, due.Time().Add(shift))
			}
		}
		if svc.planned != 0 {
			svc.planned = at(svc.planned.Time().Add(shift))
		}
	}
	s.poke()
}

// ServiceRef names a service.
type ServiceRef struct{ Group, Service string }

// Services returns every service in config order.
func (s *Scheduler) Services() []ServiceRef {
	s.mu.readLock()
	defer s.mu.Unlock()
	out := make([]ServiceRef, len(s.services))
	for i, svc := range s.services {
		out[i] = ServiceRef{svc.w.name, svc.cfg.Name}
	}
	return out
}

// GroupMembers returns a host group's members in config order, disabled
// ones prefixed with "*" as mon shows them.
func (s *Scheduler) GroupMembers(name string) ([]string, bool) {
	s.mu.readLock()
	defer s.mu.Unlock()
	g := s.groups[name]
	if g == nil {
		return nil, false
	}
	out := make([]string, len(g.hosts))
	for i, h := range g.hosts {
		if s.disabledHosts[name][h] {
			h = "*" + h
		}
		out[i] = h
	}
	return out, true
}

func (s *Scheduler) lookup(group, service string) (*service, error) {
	if s.watchByName(group) == nil {
		return nil, ErrUnknownGroup
	}
	svc := s.watchIdx.service(group, service)
	if svc == nil {
		return nil, ErrUnknownService
	}
	return svc, nil
}

// Disabled lists what is disabled, in config order.
type Disabled struct {
	Hosts    []GroupHosts // groups with disabled hosts
	Watches  []string
	Services []ServiceRef
}

// GroupHosts is a group and some of its hosts.
type GroupHosts struct {
	Group string
	Hosts []string
}

// DisabledList returns the current disabled hosts, watches and services.
func (s *Scheduler) DisabledList() Disabled {
	s.mu.readLock()
	defer s.mu.Unlock()
	var d Disabled
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var hs []string
		for _, h := range s.groups[n].hosts {
			if s.disabledHosts[n][h] {
				hs = append(hs, h)
			}
		}
		if len(hs) > 0 {
			d.Hosts = append(d.Hosts, GroupHosts{n, hs})
		}
	}
	for _, w := range s.watches {
		if s.disabledWatches[w.name] {
			d.Watches = append(d.Watches, w.name)
		}
		for _, svc := range w.services {
			if svc.st.Disabled {
				d.Services = append(d.Services, ServiceRef{w.name, svc.cfg.Name})
			}
		}
	}
	return d
}

// DisableWatch suppresses the alerts of a watch (its monitors keep
// running, as in mon, Q-SCH-1).
func (s *Scheduler) DisableWatch(group string) error {
	return s.DisableWatchFor(group, "", Hold{})
}

// DisableWatchFor is DisableWatch until h.Until, for h.Reason, by who
// (gomon; a zero Hold is mon's disable).
func (s *Scheduler) DisableWatchFor(group, who string, h Hold) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchByName(group) == nil {
		return ErrUnknownGroup
	}
	s.disabledWatches[group] = true
	s.hold(Downtime{Kind: DowntimeWatch, Group: group}, who, h, s.clk.Now())
	s.writeDisabled()
	return nil
}

// EnableWatch undoes DisableWatch.
func (s *Scheduler) EnableWatch(group string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watchByName(group) == nil {
		return ErrUnknownGroup
	}
	delete(s.disabledWatches, group)
	s.unhold(DowntimeWatch + " " + group)
	s.writeDisabled()
	return nil
}

// DisableService suppresses a service's alerts, after sending its
// disable alerts (which mon never manages to send, Q-SCH-9). who is the
// logged-in user.
func (s *Scheduler) DisableService(group, service, who string) error {
	return s.DisableServiceFor(group, service, who, Hold{})
}

// DisableServiceFor is DisableService until h.Until, for h.Reason (gomon;
// a zero Hold is mon's disable).
func (s *Scheduler) DisableServiceFor(group, service, who string, h Hold) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	now := s.clk.Now()
	s.disableService(svc, who, now)
	if d := svc.peek().disabled; d != nil && h.Reason != "" {
		d.Reason = h.Reason
	}
	s.hold(Downtime{Kind: DowntimeService, Group: group, Service: service}, who, h, now)
	s.writeDisabled()
	return nil
}

// disableService disables svc, sending its disable alerts when it was
// enabled. Called with s.mu held.
func (s *Scheduler) disableService(svc *service, who string, now time.Time) {
	if !svc.st.Disabled {
		d := decide.Disable(svc.cfg, svc.st, who, s.world(svc, now))
		svc.st.Disabled = true
		svc.more().disabled = &DisableNote{By: who, Time: now}
		s.carryOut(svc, d, now, false)
	}
	svc.st.Disabled = true
}

// EnableService undoes DisableService.
func (s *Scheduler) EnableService(group, service string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	s.enableService(svc)
	s.unhold(DowntimeService + " " + group + " " + service)
	s.writeDisabled()
	return nil
}

// enableService enables svc. Called with s.mu held.
func (s *Scheduler) enableService(svc *service) {
	svc.st.Disabled = false
	if svc.m != nil {
		svc.m.disabled = nil
	}
	s.noteState(svc, s.clk.Now())
	s.publish(svc, nil, true)
}

// DisableHosts disables each host in every group that has it enabled. If
// any host is not an enabled member of some group, nothing changes and
// the missing hosts are returned. A group whose only member is disabled
// gets its watch disabled too. Host names match literally (Q-PRO-8).
func (s *Scheduler) DisableHosts(hosts []string) (missing []string) {
	return s.DisableHostsFor(hosts, "", Hold{})
}

// DisableHostsFor is DisableHosts until h.Until, for h.Reason, by who
// (gomon; a zero Hold is mon's disable).
func (s *Scheduler) DisableHostsFor(hosts []string, who string, h Hold) (missing []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range hosts {
		found := false
		for _, g := range s.groups {
			if contains(g.hosts, h) && !s.disabledHosts[g.name][h] {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return missing
	}
	s.disableHosts(hosts)
	now := s.clk.Now()
	for _, host := range hosts {
		s.hold(Downtime{Kind: DowntimeHost, Host: host}, who, h, now)
	}
	s.writeDisabled()
	return nil
}

// disableHosts disables hosts in every group that has them. Called with
// s.mu held.
func (s *Scheduler) disableHosts(hosts []string) {
	for _, h := range hosts {
		for _, g := range s.groups {
			if !contains(g.hosts, h) {
				continue
			}
			if s.disabledHosts[g.name] == nil {
				s.disabledHosts[g.name] = map[string]bool{}
			}
			s.disabledHosts[g.name][h] = true
			if len(g.hosts) == 1 && s.watchByName(g.name) != nil {
				s.disabledWatches[g.name] = true
			}
		}
	}
}

// EnableHosts re-enables hosts (unknown hosts are ignored, as in mon) and
// the watches of groups whose only member they are.
func (s *Scheduler) EnableHosts(hosts []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enableHosts(hosts)
	for _, h := range hosts {
		s.unhold(DowntimeHost + " " + h)
	}
	s.writeDisabled()
}

// enableHosts re-enables hosts. Called with s.mu held.
func (s *Scheduler) enableHosts(hosts []string) {
	for _, h := range hosts {
		for _, g := range s.groups {
			if !contains(g.hosts, h) {
				continue
			}
			delete(s.disabledHosts[g.name], h)
			if len(g.hosts) == 1 {
				delete(s.disabledWatches, g.name)
			}
		}
	}
}

// Ack acknowledges a failing service and sends its ack alerts.
func (s *Scheduler) Ack(group, service, who, comment string) error {
	return s.AckFor(group, service, who, comment, time.Time{})
}

// AckFor is Ack until a time (gomon; zero is mon's ack, which holds
// until the service recovers): then the ack ends and alerts resume.
func (s *Scheduler) AckFor(group, service, who, comment string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	if st := svc.st.OpStatus; st == decide.OK || st == decide.Untested {
		return ErrNotFailing
	}
	now := s.clk.Now()
	d := decide.Acknowledge(svc.cfg, svc.st, who, comment, s.world(svc, now))
	s.carryOut(svc, d, now, false)
	// Only a timed ack is recorded: mon's ack writes no state file.
	var h Hold
	if !until.IsZero() {
		h = Hold{Until: until, Reason: comment}
	}
	s.hold(Downtime{Kind: DowntimeAck, Group: group, Service: service, AckAt: svc.st.Ack}, who, h, now)
	if !until.IsZero() {
		s.writeDisabled() // the downtimes file keeps the ack's expiry
	}
	return nil
}

// TestMonitor makes a service's monitor due now (after the current run,
// if one is running).
func (s *Scheduler) TestMonitor(group, service string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	svc.planned = 0
	if svc.running {
		svc.runAgain = true
		return nil
	}
	s.arm(svc, tRun, s.clk.Now())
	return nil
}

// TestAlert runs every alert line of one list of one period right away,
// with mon's test input. Test alerts are neither counted nor recorded.
func (s *Scheduler) TestAlert(typ decide.AlertType, group, service string, retval int, periodKey string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	var p *config.Period
	for _, x := range svc.cfg.Periods {
		if x.Key == periodKey {
			p = x
		}
	}
	if p == nil {
		return ErrUnknownPeriod
	}
	var lines []config.AlertLine
	switch typ {
	case decide.UpAlert:
		lines = p.UpAlerts
	case decide.StartupAlert:
		lines = p.StartupAlerts
	case decide.AckAlert:
		lines = p.AckAlerts
	case decide.DisableAlert:
		lines = p.DisableAlerts
	default:
		lines = p.Alerts
	}
	now := s.clk.Now()
	env := decide.EnvOf(svc.st)
	for _, l := range lines {
		// The exit= filter is not applied to test alerts; unlike mon the
		// exit=R word is not mistaken for the alert name (Q-SCH-10).
		a := decide.Action{Period: -1, Line: l, Type: typ, Input: "test\ntest detail\n", Retval: &retval, Env: env}
		s.dispatch(svc, a, s.alertEnv(svc, a), now)
	}
	return nil
}

// ClearTimers restarts a service's timers and throttling counters.
func (s *Scheduler) ClearTimers(group, service string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	now := s.clk.Now()
	c := svc.cfg
	if c.TrapTimeout > 0 {
		s.arm(svc, tTrapTimeout, now.Add(c.TrapTimeout))
	}
	if c.TrapDuration > 0 && svc.dueAt(tTrapDuration) != 0 {
		s.arm(svc, tTrapDuration, now.Add(c.TrapDuration))
	}
	if svc.st.Interval > 0 && !svc.running {
		svc.planned = 0
		s.arm(svc, tRun, now.Add(svc.st.Interval))
	}
	svc.st.ConsecFailures = 0
	for i, p := range c.Periods {
		if p.AlertEvery > 0 {
			svc.st.Periods[i].LastAlert = 0
			svc.st.Periods[i].Defined |= decide.DefLastAlert
		}
		if p.AlertAfterTime > 0 {
			svc.st.Periods[i].FirstFailTime = 0
			svc.st.Periods[i].Defined |= decide.DefFirstFailTime
		}
	}
	s.publish(svc, nil, true)
	return nil
}

// AlertHistory returns the alert history lines, oldest first.
func (s *Scheduler) AlertHistory() []string {
	s.mu.readLock()
	defer s.mu.Unlock()
	return slices.Clone(s.alertHist)
}

// FailureHistory returns the failure history lines, oldest first.
func (s *Scheduler) FailureHistory() []string {
	s.mu.readLock()
	defer s.mu.Unlock()
	return slices.Clone(s.failHist)
}

// MaxKeep returns the history length limit.
func (s *Scheduler) MaxKeep() int {
	s.mu.readLock()
	defer s.mu.Unlock()
	return s.maxKeep
}

// SetMaxKeep changes the history length limit.
func (s *Scheduler) SetMaxKeep(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxKeep = n
}

// Running is a monitor run in progress.
type Running struct {
	ServiceRef
	PID int // 0 for built-in monitors, which run in-process
}

// RunningMonitors lists running monitors in config order.
func (s *Scheduler) RunningMonitors() []Running {
	s.mu.readLock()
	defer s.mu.Unlock()
	var out []Running
	for _, svc := range s.services {
		if svc.running {
			out = append(out, Running{ServiceRef{svc.w.name, svc.cfg.Name}, svc.pid})
		}
	}
	return out
}

// Trace returns the decision trace of a service, oldest first.
func (s *Scheduler) Trace(group, service string) ([]decide.Trace, error) {
	s.mu.readLock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return nil, err
	}
	return slices.Clone(svc.peek().trace), nil
}

// StatusOf returns the opstatus of one service.
func (s *Scheduler) StatusOf(group, service string) (Status, error) {
	s.mu.readLock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return Status{}, err
	}
	return s.status(svc, s.clk.Now()), nil
}

// StatusAll returns the opstatus of every service in config order.
func (s *Scheduler) StatusAll() []Status {
	return s.Snapshot().Services
}

// Snapshot is the status of every service at one instant.
type Snapshot struct {
	Services []Status // config order
	Now      time.Time
	// Version is StateVersion at the instant of the snapshot.
	Version uint64
}

// Snapshot returns every service's status, taken under one lock.
func (s *Scheduler) Snapshot() Snapshot {
	s.mu.readLock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	out := Snapshot{Services: make([]Status, len(s.services)), Now: now, Version: s.mu.version.Load()}
	for i, svc := range s.services {
		out.Services[i] = s.status(svc, now)
	}
	return out
}

// StateVersion changes whenever the state of any service may have
// changed. While it stays the same, a Snapshot differs from an earlier one
// only in what moves with the clock: Status.Timer and Status.Now.
func (s *Scheduler) StateVersion() uint64 { return s.mu.version.Load() }

// Now reads the scheduler's clock.
func (s *Scheduler) Now() time.Time { return s.clk.Now() }

// Status is everything `list opstatus` shows about a service.
type Status struct {
	ServiceRef
	Config    *config.Service
	State     decide.State // a copy
	Timer     time.Duration
	LastCheck time.Time // zero before the first run
	Duration  time.Duration
	Ran       bool // a run has finished (monitor_duration is known)
	Running   bool
	Overdue   bool // the running monitor has lasted several intervals (see overdueIntervals)
	// AlertFailure is the last alert that could not be delivered (nil
	// when the last one got through).
	AlertFailure *AlertFailure
	AlertsSent   int
	LastAlert    int64 // max over periods
	// DisabledBy says who disabled the service, when and why; nil when
	// it is enabled or was disabled before this process knew (state file,
	// another cluster node).
	DisabledBy  *DisableNote
	Now         time.Time
	Description string
	// Values are what the last run measured; Hosts its per-host verdicts
	// (built-in monitors only). Shared with the scheduler: read only.
	Values []monitors.Value
	Hosts  []monitors.HostResult
}

func (s *Scheduler) status(svc *service, now time.Time) Status {
	st := svc.st.Clone()
	out := Status{
		ServiceRef: ServiceRef{svc.w.name, svc.cfg.Name},
		Config:     svc.cfg,
		State:      st,
		LastCheck:  svc.lastCheck,
		Duration:   svc.duration,
		Ran:        svc.ran,
		Running:    svc.running,
		Overdue:    svc.overdue,
		AlertFailure: func() *AlertFailure {
			if f := svc.peek().alertFailure; f != nil {
				c := *f
				return &c
			}
			return nil
		}(),
		Now:         now,
		Description: svc.description(),
		Values:      svc.values,
		Hosts:       svc.hosts,
	}
	if n := svc.peek().disabled; n != nil && st.Disabled {
		c := *n
		out.DisabledBy = &c
	}
	if due := svc.due[tRun].Time(); !due.IsZero() && due.After(now) {
		out.Timer = due.Sub(now)
	}
	for i, p := range svc.cfg.Periods {
		ps := st.Periods[i]
		if !p.AlertsDontCount {
			out.AlertsSent += ps.AlertSent
		}
		out.LastAlert = max(out.LastAlert, ps.LastAlert)
	}
	return out
}

func (svc *service) description() string {
	if d, ok := svc.peek().vars["description"]; ok {
		return d
	}
	return svc.cfg.Description
}

// Get returns a service variable by mon's key name (`get G S VAR`);
// unknown keys read as empty.
func (s *Scheduler) Get(group, service, key string) (string, error) {
	s.mu.readLock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return "", err
	}
	if v, ok := svc.peek().vars[key]; ok {
		return v, nil
	}
	st := svc.st
	switch key {
	case "interval":
		return seconds(st.Interval), nil
	case "failure_interval":
		if st.FailureInterval > 0 {
			return seconds(st.FailureInterval), nil
		}
	case "_old_interval":
		// mon keeps the normal interval here while failure_interval applies.
		if st.FailureIntervalActive {
			return seconds(st.OldInterval()), nil
		}
	case "description":
		return svc.cfg.Description, nil
	case "monitor":
		return svc.cfg.Monitor, nil
	case "_op_status", "opstatus":
		return strconv.Itoa(int(st.OpStatus)), nil
	case "_last_op_status":
		return strconv.Itoa(int(st.LastOpStatus)), nil
	case "_ack":
		return itoa(st.Ack), nil
	case "_ack_comment":
		return st.AckComment, nil
	case "_last_summary":
		return st.LastSummary, nil
	case "_last_detail":
		return st.LastDetail, nil
	case "_consec_failures":
		return strconv.Itoa(st.ConsecFailures), nil
	case "_failure_count":
		return strconv.Itoa(st.FailureCount), nil
	case "_alert_count":
		return strconv.Itoa(st.AlertCount), nil
	case "_last_success":
		return itoa(st.LastSuccess), nil
	case "_last_failure":
		return itoa(st.LastFailure), nil
	case "_last_trap":
		return itoa(st.LastTrap()), nil
	}
	return "", nil
}

// Set stores a service variable (`set G S VAR VALUE`). Keys gomon models
// update the model; others are kept and read back by Get.
func (s *Scheduler) Set(group, service, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	m := svc.more()
	if m.vars == nil {
		m.vars = map[string]string{}
	}
	defer s.publish(svc, nil, true) // the cluster keeps what was set
	switch key {
	case "interval":
		// As in mon, a value that is not a positive number of seconds
		// (even an empty one) leaves the service without an interval:
		// it is no longer polled.
		secs, _ := strconv.ParseFloat(value, 64)
		svc.st.Interval = time.Duration(max(secs, 0) * float64(time.Second))
		return nil
	case "_ack_comment":
		svc.st.AckComment = value
		return nil
	case "failure_interval":
		// Used from the next failure on, as in mon; Get reads the raw text.
		secs, _ := strconv.ParseFloat(value, 64)
		svc.st.FailureInterval = time.Duration(max(secs, 0) * float64(time.Second))
	}
	m.vars[key] = value
	return nil
}

// SetOpStatus sets a service's status by name (`set G S opstatus NAME`).
// Unlike mon, the numeric code is stored (Q-PRO-10).
func (s *Scheduler) SetOpStatus(group, service string, code decide.Status) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	svc.st.LastOpStatus = svc.st.OpStatus
	svc.st.OpStatus = code
	s.noteState(svc, s.clk.Now())
	s.publish(svc, nil, true)
	return nil
}
