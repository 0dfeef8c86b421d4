package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/spawn"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

// recheck is how soon a due monitor held back by exclude_period or a
// failing monitor dependency is looked at again (mon: every loop).
const recheck = time.Second

// monitorDue is called when a service's run timer fires. Called with
// s.mu held.
func (s *Scheduler) monitorDue(svc *service, now time.Time) {
	if svc.running {
		svc.runAgain = true // no overlap: run again as soon as it ends
		return
	}
	if mp := s.cfg.Globals.MaxProcs; mp > 0 && s.running >= mp {
		if !svc.queued {
			svc.queued = true
			s.waitq = append(s.waitq, svc)
			s.log.Info("throttled at " + strconv.Itoa(mp) + " processes")
		}
		return
	}
	s.tryStart(svc, now)
}

// tryStart runs the monitor unless exclude_period or a monitor-side
// dependency holds it back.
func (s *Scheduler) tryStart(svc *service, now time.Time) {
	c := svc.cfg
	if c.ExcludePeriod != nil && c.ExcludePeriod.In(now) {
		s.arm(svc, tRun, now.Add(recheck))
		return
	}
	if expr := svc.monitorDepend(); expr != nil {
		ok, err := s.evalDepend(expr, 0, 'm', now)
		if err != nil || !ok {
			if err == nil {
				svc.st.DependStatus = boolPtr(false)
			}
			s.arm(svc, tRun, now.Add(recheck))
			return
		}
		svc.st.DependStatus = boolPtr(true)
	}
	s.startMonitor(svc, now)
}

// startMonitor launches one run. Called with s.mu held.
func (s *Scheduler) startMonitor(svc *service, now time.Time) {
	if svc.mon == nil {
		if !svc.errSeen {
			s.log.Error(svc.monErr.Error(), "group", svc.w.name, "service", svc.cfg.Name)
			svc.errSeen = true
		}
		s.reschedule(svc, now)
		return
	}
	hosts := s.monitorHosts(svc, now)
	if len(hosts) == 0 && !svc.noHosts && !svc.cfg.AllowEmptyGroup {
		s.log.Error("monitor for " + svc.key() + " not called because of no host arguments")
		s.reschedule(svc, now)
		return
	}
	req := monitors.Request{
		Group:   svc.w.name,
		Service: svc.cfg.Name,
		Args:    svc.monArgs,
		Hosts:   hosts,
		Timeout: s.monitorTimeout(svc),
		// Whatever it leaves behind is killed unless kept.
		KeepChildren: svc.cfg.KeepChildren,
	}
	gen := s.gen
	if !monitors.HostsOnly(svc.mon) {
		req.Env = s.monitorEnv(svc)
		req.Started = func(pid int) {
			s.mu.Lock()
			if gen == s.gen && svc.running {
				svc.pid = pid
			}
			s.mu.Unlock()
		}
	}
	svc.running = true
	svc.lastCheck = now
	if iv := svc.st.Interval; iv > 0 {
		s.arm(svc, tOverdue, now.Add(overdueIntervals*iv))
	}
	if req.Timeout > 0 {
		// The scheduler ends the run on its own clock too, whatever
		// the monitor does with req.Timeout.
		s.arm(svc, tTimeout, now.Add(req.Timeout))
	}
	if svc.cfg.Interval > 0 && svc.cfg.Schedule == nil {
		// Fixed rate: the next run is planned one interval after this
		// run's planned start, not after it ends.
		if svc.planned == 0 {
			svc.planned = at(now)
		}
		svc.planned = at(svc.planned.Time().Add(svc.st.Interval))
	}
	s.running++
	ctx, cancel := context.WithCancelCause(s.ctx)
	svc.cancel = cancel
	s.runs.Add(1)
	due := svc.fellDue.Time()
	if due.IsZero() || due.After(now) {
		due = now
	}
	svc.fellDue = 0
	s.emit(Event{Kind: "monitor-start", Group: svc.w.name, Service: svc.cfg.Name, Time: now, Due: due})
	j := runJob{ctx, cancel, svc, gen, req}
	if _, ok := svc.mon.(*monitors.External); ok {
		// A program's run waits for a start slot as a queued callback,
		// not a parked goroutine (see spawn.Runner).
		s.runner.Reserve(func(slot *spawn.Slot) {
			j.req.Slot = slot
			s.startRun(j)
		})
		return
	}
	s.startRun(j)
}

// runners are goroutines that finished a run and wait for the next one.
// A run on a fresh goroutine grows its stack, copying it, to what a
// check needs (a connect goes deep into package net); a runner has grown
// it already, and is not created and torn down for each run.
type runners struct {
	jobs chan runJob // unbuffered: a send finds a waiting runner or none
	idle atomic.Int32
}

// maxIdleRunners bounds the runners kept waiting: enough for the runs
// that overlap at 10,000 checks a second, few enough that the stacks
// left behind by a burst of runs are not kept.
const maxIdleRunners = 64

// runJob is one run for a runner.
type runJob struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	svc    *service
	gen    uint64
	req    monitors.Request
}

// startRun hands j to a waiting runner, or starts one. A start slot's
// callback calls it without s.mu.
func (s *Scheduler) startRun(j runJob) {
	select {
	case s.runners.jobs <- j:
	default:
		go s.runRuns(j)
	}
}

// runRuns runs j, then the runs handed to it while it waits, until enough
// others wait or the scheduler stops.
func (s *Scheduler) runRuns(j runJob) {
	for {
		s.run(j)
		if s.runners.idle.Add(1) > maxIdleRunners {
			s.runners.idle.Add(-1)
			return
		}
		select {
		case j = <-s.runners.jobs:
			s.runners.idle.Add(-1)
		case <-s.stopping:
			s.runners.idle.Add(-1)
			return
		}
	}
}

// run runs the monitor and hands its result to finish.
func (s *Scheduler) run(j runJob) {
	defer s.runs.Done()
	defer j.cancel(nil)
	res := j.svc.mon.Check(j.ctx, j.req)
	if errors.Is(context.Cause(j.ctx), errMonitorTimeout) && !res.TimedOut {
		res = res.TimedOutAfter(j.req.Timeout) // a monitor that ended without saying why
	}
	s.finish(j.svc, j.gen, res)
}

// finish processes a completed run (mon's finish_monitor).
func (s *Scheduler) finish(svc *service, gen uint64, res monitors.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen != s.gen {
		return // killed by a reset; its service record is gone
	}
	now := s.clk.Now()
	svc.running = false
	svc.overdue = false
	s.arm(svc, tOverdue, time.Time{})
	s.arm(svc, tTimeout, time.Time{})
	svc.cancel = nil
	svc.pid = 0
	s.running--
	if s.ctx.Err() != nil {
		// Killed because the daemon is stopping: not a verdict on the
		// service, so no event and no alert.
		return
	}
	if !s.owned(svc) {
		// Ownership moved while it ran: the new owner decides. A result
		// here would change this node's copy of the cluster's state.
		s.reschedule(svc, now)
		s.startQueued(now)
		return
	}
	svc.ran = true
	svc.duration = now.Sub(svc.lastCheck)
	svc.values, svc.hosts = res.Measurements(), res.Hosts
	if res.Truncated > 0 {
		s.log.Warn("monitor output truncated", "group", svc.w.name, "service", svc.cfg.Name, "dropped_bytes", res.Truncated)
	}
	if res.TimedOut || res.Signal != "" {
		s.log.Warn("monitor killed", "group", svc.w.name, "service", svc.cfg.Name, "signal", res.Signal, "timeout", res.TimedOut)
	}
	s.processEvent(svc, decide.Result{Kind: decide.Monitor, Exit: res.Exit, Output: string(res.Output)}, now)
	s.reschedule(svc, now)
	s.emit(Event{Kind: "monitor-done", Group: svc.w.name, Service: svc.cfg.Name, Exit: res.Exit, Time: now})
	s.startQueued(now)
}

// reschedule arms the next run after a run ended or was skipped (mon's
// reset_timer). Unlike mon, an overrun does not turn fixed-rate
// scheduling into "interval after completion" for good (Q-SCH-2): missed
// slots are skipped and the grid is kept.
func (s *Scheduler) reschedule(svc *service, now time.Time) {
	c := svc.cfg
	if svc.runAgain {
		svc.runAgain = false
		s.arm(svc, tRun, now)
		return
	}
	if c.Schedule != nil {
		s.arm(svc, tRun, c.Schedule.Next(now))
		return
	}
	iv := svc.st.Interval
	if iv <= 0 {
		return // trap-only
	}
	if svc.st.ResetSchedule {
		svc.st.ResetSchedule = false
		svc.planned = 0
	}
	var next time.Time
	switch {
	case c.RandSkew > 0:
		// Whole seconds, as mon; a randskew under a second still skews
		// by one.
		skew := time.Duration(1+s.rng.Int64N(max(int64(c.RandSkew/time.Second), 1))) * time.Second
		if s.rng.IntN(2) == 0 {
			skew = -skew
		}
		next = now.Add(iv + skew)
		svc.planned = 0
	case svc.planned != 0:
		next = svc.planned.Time()
		if next.Before(now) {
			missed := now.Sub(next)/iv + 1
			next = next.Add(missed * iv)
			svc.planned = at(next)
		}
	default:
		next = now.Add(iv)
	}
	s.arm(svc, tRun, next)
}

// startQueued starts services waiting for a maxprocs slot, oldest first.
func (s *Scheduler) startQueued(now time.Time) {
	mp := s.cfg.Globals.MaxProcs
	for len(s.waitq) > 0 && (mp == 0 || s.running < mp) {
		svc := s.waitq[0]
		s.waitq = s.waitq[1:]
		svc.queued = false
		if svc.gen == s.gen && !svc.running && s.owned(svc) {
			s.tryStart(svc, now)
		}
	}
}

// monitorHosts computes the host arguments of a run (spec §4.2): the
// group's enabled hosts, minus exclude_hosts, minus hosts named in the
// failure summaries of host dependencies. Monitors do not change
// Request.Hosts, so when nothing is left out it is the group's own list.
func (s *Scheduler) monitorHosts(svc *service, now time.Time) []string {
	if svc.noHosts {
		return nil
	}
	g := s.groups[svc.w.name]
	if g == nil {
		return nil
	}
	c := svc.cfg
	disabled := s.disabledHosts[svc.w.name]
	sums, _ := s.depSummaries(svc, now)
	if len(disabled) == 0 && len(c.ExcludeHosts) == 0 && len(sums) == 0 {
		return g.hosts
	}
	var hosts []string
	for _, h := range g.hosts {
		if !disabled[h] && !contains(c.ExcludeHosts, h) && !namedIn(sums, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// namedIn reports whether a failure summary names host. mon matches host
// names as substrings of the parent's failure summary (Q-SCH-15); kept
// for compatibility.
func namedIn(sums []string, host string) bool {
	for _, sum := range sums {
		if strings.Contains(sum, host) {
			return true
		}
	}
	return false
}

// monitorEnv builds the MON_* environment of a monitor run (spec §4.3).
func (s *Scheduler) monitorEnv(svc *service) []string {
	st := svc.st
	env := serviceVars(svc.cfg)
	env = append(env,
		"MON_GROUP="+svc.w.name,
		"MON_SERVICE="+svc.cfg.Name,
		"MON_LAST_FAILURE="+itoa(st.LastFailure),
		"MON_LAST_SUCCESS="+itoa(st.LastSuccess),
	)
	if st.HasLastEvent {
		env = append(env, envVar("MON_LAST_SUMMARY", st.LastSummary))
	}
	if st.HasLastOutput {
		env = append(env, envVar("MON_LAST_OUTPUT", st.LastOutput))
	}
	if st.HasFirstFailure {
		env = append(env, "MON_FIRST_FAILURE="+firstFailureText(st.FirstFailure, st.FirstFailureBlank))
	}
	if st.HasFirstSuccess {
		env = append(env, "MON_FIRST_SUCCESS="+st.FirstSuccess)
	}
	if st.DependStatus != nil {
		env = append(env, "MON_DEPEND_STATUS="+boolDigit(*st.DependStatus))
	}
	if d := svc.cfg.Description; d != "" {
		env = append(env, "MON_DESCRIPTION="+d)
	}
	return append(env, s.dirEnv()...)
}

func (s *Scheduler) dirEnv() []string {
	g := s.cfg.Globals
	return []string{"MON_STATEDIR=" + g.StateDir, "MON_LOGDIR=" + g.LogDir, "MON_CFBASEDIR=" + g.CfBaseDir}
}

// serviceVars returns the service's VAR=value lines.
func serviceVars(c *config.Service) []string {
	env := make([]string, 0, len(c.Env)+16)
	for _, v := range c.Env {
		env = append(env, v.Name+"="+v.Value)
	}
	return env
}

// maxEnvVar is the longest NAME=value string Linux passes to a program
// (MAX_ARG_STRLEN, 128 KiB). mon passes longer monitor output in
// MON_LAST_OUTPUT, which makes execve fail with E2BIG; gomon cuts the
// value instead, keeping its head.
const maxEnvVar = 128<<10 - 1

func envVar(name, value string) string {
	if len(name)+1+len(value) > maxEnvVar {
		value = value[:maxEnvVar-len(name)-1]
	}
	return name + "=" + value
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// firstFailureText is MON_FIRST_FAILURE's value: empty when it was
// loaded empty from a state file, as mon exports it.
func firstFailureText(t int64, blank bool) string {
	if blank {
		return ""
	}
	return itoa(t)
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func boolPtr(b bool) *bool { return &b }

// overdueIntervals is how many intervals a monitor may run before it is
// reported as overdue: a hung monitor with no (or a long) monitor_timeout
// leaves its service unwatched, which must not go unnoticed.
const overdueIntervals = 3

// monitorOverdue reports a run that has lasted overdueIntervals
// intervals: once in the log, and for as long as it lasts in the status
// (list opstatus, /metrics, the status page). Called with s.mu held.
func (s *Scheduler) monitorOverdue(svc *service, now time.Time) {
	if !svc.running {
		return
	}
	svc.overdue = true
	timeout := "none"
	if t := s.monitorTimeout(svc); t > 0 {
		timeout = t.String()
	}
	s.log.Warn("monitor still running after "+strconv.Itoa(overdueIntervals)+" intervals; the service is not being checked",
		"group", svc.w.name, "service", svc.cfg.Name, "running_for", now.Sub(svc.lastCheck).Round(time.Second),
		"interval", svc.st.Interval, "monitor_timeout", timeout, "pid", svc.pid)
	s.emit(Event{Kind: "monitor-overdue", Group: svc.w.name, Service: svc.cfg.Name, Time: now})
}

// monitorTimeout is the service's monitor_timeout, else the global one
// (0 = none).
func (s *Scheduler) monitorTimeout(svc *service) time.Duration {
	switch t := svc.cfg.MonitorTimeout; {
	case t == config.Unbounded:
		return 0
	case t > 0:
		return t
	}
	return s.cfg.Globals.MonitorTimeout
}

// errMonitorTimeout ends a run whose monitor_timeout is up. It wraps
// DeadlineExceeded, so the process runner reports a timeout, not a
// cancellation.
var errMonitorTimeout = fmt.Errorf("monitor_timeout: %w", context.DeadlineExceeded)
