package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/atomicfile"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/scheduler/decide"
)

// processEvent feeds one event to the decision engine and carries out
// what it decided. Called with s.mu held.
func (s *Scheduler) processEvent(svc *service, res decide.Result, now time.Time) {
	pre := *svc.st // for the downtime log
	d := decide.Process(svc.cfg, svc.st, res, s.world(svc, now))
	var classic []any // mon's syslog line for the result, if it has one
	if d.Failure {
		svc.more().lastFailureTime = at(now)
		line := fmt.Sprintf("%s %s %d %s", svc.w.name, svc.cfg.Name, now.Unix(), svc.st.LastSummary)
		s.failHist = s.appendHist(s.failHist, line)
		classic = []any{syslog.Classic, "failure for " + line, syslog.Key, "crit"}
	}
	s.logResult(svc, pre.OpStatus, classic)
	if d.Recovered {
		s.writeDTLog(svc, &pre, now)
	}
	s.carryOut(svc, d, now, true)
}

// logResult logs a result that changed the service's opstatus (a failure,
// a recovery, the first result) as one record. A result that changed
// nothing is only debug, but mon syslogs every failure at crit, so a
// repeated failure still carries its classic line to syslog.
func (s *Scheduler) logResult(svc *service, prev decide.Status, classic []any) {
	st := svc.st
	level, msg := slog.LevelInfo, "service state changed"
	switch {
	case st.OpStatus == prev && classic == nil:
		return
	case st.OpStatus == prev:
		level, msg = syslog.LevelChatter, "service still failing"
	case st.OpStatus.IsFailure():
		level = slog.LevelError
	case st.OpStatus == decide.Warn:
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return // the hosts are not worth computing
	}
	s.log.Log(ctx, level, msg, append([]any{"group", svc.w.name, "service", svc.cfg.Name, "hosts", s.logHosts(svc),
		"opstatus", st.OpStatus.String(), "prev_opstatus", prev.String(), "summary", st.LastSummary}, classic...)...)
}

// logHosts is the hosts a state record names: the failing ones (by their
// verdicts, else those the summary names), else the group's enabled hosts
// (the ones checked).
func (s *Scheduler) logHosts(svc *service) []string {
	if svc.st.OpStatus.IsFailure() {
		var group []string
		if g := s.groups[svc.w.name]; g != nil {
			group = g.hosts
		}
		if len(svc.st.Hosts) > 0 {
			return svc.st.FailingHosts(group)
		}
		if h := decide.NamedHosts(svc.st.LastSummary, group); len(h) > 0 {
			return h
		}
	}
	return s.enabledHosts(svc.w.name)
}

// world is the decision engine's view of everything outside svc.
func (s *Scheduler) world(svc *service, now time.Time) decide.World {
	w := decide.World{
		Now:           now,
		Stopped:       s.stopped,
		WatchDisabled: s.disabledWatches[svc.w.name],
		HasAlert:      s.hasAlert,
	}
	if g := s.groups[svc.w.name]; g != nil {
		w.Hosts = g.hosts
	}
	if expr := svc.dependFor('a'); expr != nil {
		w.EvalDepend = func() (bool, error) { return s.evalDepend(expr, 0, 'a', now) }
	}
	return w
}

// hasAlert reports whether an alert line can be started; mon counts an
// alert as sent only when it could start the program.
func (s *Scheduler) hasAlert(l config.AlertLine) bool { return s.findAlert(l).err == nil }

// alertEnv builds the MON_* environment of an alert (spec §10.2) from the
// engine's snapshot of the state at the moment mon would call it.
func (s *Scheduler) alertEnv(svc *service, a decide.Action) []string {
	e := a.Env
	env := serviceVars(svc.cfg)
	env = append(env,
		"MON_GROUP="+svc.w.name,
		"MON_SERVICE="+svc.cfg.Name,
		"MON_ALERTTYPE="+string(a.Type),
		"MON_OPSTATUS="+strconv.Itoa(int(e.OpStatus)),
		"MON_LAST_FAILURE="+itoa(e.LastFailure),
		"MON_LAST_SUCCESS="+itoa(e.LastSuccess),
		"MON_FIRST_SUCCESS="+e.FirstSuccess,
	)
	if a.Retval != nil {
		env = append(env, "MON_RETVAL="+strconv.Itoa(*a.Retval))
	}
	if e.HasLastSummary {
		env = append(env, envVar("MON_LAST_SUMMARY", e.LastSummary))
	}
	if e.HasLastOutput {
		env = append(env, envVar("MON_LAST_OUTPUT", e.LastOutput))
	}
	if e.HasFirstFailure {
		env = append(env, "MON_FIRST_FAILURE="+firstFailureText(e.FirstFailure, e.FirstFailureBlank))
	}
	if d := svc.cfg.Description; d != "" {
		env = append(env, "MON_DESCRIPTION="+d)
	}
	if e.Ack != "" {
		env = append(env, "MON_ACK="+e.Ack)
	}
	if e.Intended != "" {
		env = append(env, "MON_TRAP_INTENDED="+e.Intended)
	}
	if e.Host != "" {
		env = append(env, "MON_HOST="+e.Host) // gomon: an alert_per_host alert
	}
	return append(env, s.dirEnv()...)
}

// dispatch starts one alert without waiting for it, or in cluster mode
// holds it until the service's state is published (carryOut). Called
// with s.mu held.
func (s *Scheduler) dispatch(svc *service, a decide.Action, env []string, now time.Time) {
	if a.Type != decide.TestAlert && !a.Line.Local && s.clustered(svc) {
		if s.owned(svc) {
			m := svc.more()
			m.held = append(m.held, heldAlert{a, env, now})
		} // else its owner sends it
		return
	}
	s.startAlert(svc, a, env, now)
}

// startAlert starts one alert without waiting for it. Called with s.mu held.
func (s *Scheduler) startAlert(svc *service, a decide.Action, env []string, now time.Time) {
	p := s.findAlert(a.Line)
	if p.err != nil {
		s.log.Error(p.err.Error(), "group", svc.w.name, "service", svc.cfg.Name)
		return
	}
	hosts := s.enabledHosts(svc.w.name)
	if a.Host != "" {
		hosts = []string{a.Host} // alert_per_host: -h names the one host
	}
	ev := alerts.Event{
		Group:   svc.w.name,
		Service: svc.cfg.Name,
		Hosts:   hosts,
		Time:    now.Truncate(time.Second),
		Type:    a.Type,
		Flag:    a.Flag,
		Args:    a.Line.Args,
		Input:   []byte(a.Input),
		Env:     env,
	}
	// The fields every record of this alert carries, to its last retry.
	attrs := []any{"group", ev.Group, "service", ev.Service, "hosts", hosts, "opstatus", a.Env.OpStatus.String(),
		"alert", a.Line.Name, "alert_type", string(a.Type)}
	sum := decide.Clip(ev.Summary(), decide.MaxSummary) // logged and kept in the history
	started := append(attrs[:len(attrs):len(attrs)], "summary", sum)
	if !a.Record {
		s.log.Info("alert started", started...)
	} else {
		typ := a.Type.HistoryWord()
		raw := a.Line.RawArgs
		if r, ok := p.alert.(alerts.ArgsRedactor); ok {
			raw = r.RedactArgs(raw) // no secret in the log or the history
		}
		s.log.Info("alert started", append(started, syslog.Key, "alert",
			syslog.Classic, fmt.Sprintf("calling %s %s for %s (%s,%s) %s", typ, base(p.path), svc.key(), p.path, raw, sum))...)
		line := fmt.Sprintf("%s %s %s %d %s (%s) %s", typ, svc.w.name, svc.cfg.Name, now.Unix(), p.path, raw, sum)
		s.alertHist = s.appendHist(s.alertHist, line)
		if f := s.cfg.Globals.HistoricFile; f != "" {
			if err := atomicfile.AppendLine(f, line); err != nil {
				s.log.Error("could not append to historicfile", "file", f, "err", err)
			}
		}
	}
	s.emit(Event{Kind: "alert", Group: svc.w.name, Service: svc.cfg.Name, Alert: a.Line.Name, AlertType: a.Type, Time: now})
	s.alertsWG.Add(1)
	var newer <-chan struct{} // nil for a test: never overtaken
	if a.Type != decide.TestAlert {
		// The alert lines of one event share a channel; the next event
		// that alerts closes it.
		m := svc.more()
		if now.After(m.lastDispatch.Time()) || m.newer == nil {
			if m.newer != nil {
				close(m.newer)
			}
			m.newer = make(chan struct{})
			m.lastDispatch = at(now)
		}
		newer = m.newer
	}
	go s.deliver(svc, s.gen, newer, s.cfg.Globals.AlertRetries, p.alert, a.Line.Name, ev, attrs)
}

// appendHist appends to a history list, keeping histlength+1 entries as
// mon does (Q-SCH-16).
func (s *Scheduler) appendHist(list []string, line string) []string {
	if len(list) > s.maxKeep {
		list = list[len(list)-s.maxKeep:]
	}
	return append(list, line)
}

// addTrace keeps the last TraceLength decision-trace lines of svc.
func (s *Scheduler) addTrace(svc *service, tr []decide.Trace) {
	for _, t := range tr {
		s.log.Debug("decision", "group", svc.w.name, "service", svc.cfg.Name, "period", t.Period, "rule", t.Rule, "sent", t.Sent, "msg", t.Msg)
	}
	if len(tr) == 0 || s.opts.TraceLength <= 0 {
		return // most events decide nothing worth a line
	}
	m := svc.more()
	m.trace = append(m.trace, tr...)
	if n := len(m.trace) - s.opts.TraceLength; n > 0 {
		m.trace = append(m.trace[:0], m.trace[n:]...)
	}
}

// writeDTLog appends a downtime-log line for a recovery (spec §12.4).
func (s *Scheduler) writeDTLog(svc *service, pre *decide.State, now time.Time) {
	g := s.cfg.Globals
	if !g.DtLogging {
		return
	}
	first := pre.FirstFailure
	if first == 0 {
		first = s.start.Unix()
	}
	line := fmt.Sprintf("%d %s %s %d %d %s %s", now.Unix(), svc.w.name, svc.cfg.Name, first,
		now.Unix()-first, seconds(pre.Interval), pre.LastSummary)
	if err := atomicfile.AppendLine(g.DtLogFile, line); err != nil {
		s.log.Error("could not write downtime log", "file", g.DtLogFile, "err", err)
	}
}

// seconds formats a duration the way mon prints its numeric seconds.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// ctime formats t like C's ctime(3) without the newline.
func ctime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }
