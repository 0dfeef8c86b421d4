package decide

import (
	"fmt"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/shellwords"
)

// alertCall is one do_alert invocation.
type alertCall struct {
	typ    AlertType
	output string
	retval *int // nil = unset (ack, disable)
	// disabling is true for the disable alerts of a service being
	// disabled right now: its own disabled mark does not apply.
	disabling bool
	// opened, for the catch-up of alert_on_period_start, holds the
	// periods that have just opened; nil for every other call.
	opened map[int]bool
}

// isFailure reports whether the call is a failure alert (mon's MONITOR,
// TRAP and TRAPTIMEOUT flags), the only kind the throttles apply to.
func (a alertCall) isFailure() bool {
	return a.typ == FailureAlert || a.typ == TrapAlert || a.typ == TrapTimeoutAlert
}

// exitValue is the retval compared with exit ranges; unset compares as 0.
func (a alertCall) exitValue() int {
	if a.retval == nil {
		return 0
	}
	return *a.retval
}

// subject is what a period's rules count for: the service, or one of its
// hosts in an alert_per_host period.
type subject struct {
	host       string // "" = the service
	ps         *PeriodState
	consec     int   // consecutive failures
	first      int64 // first failure of the outage; 0 = none
	input      string
	output     string // input as the state keeps it (clipped)
	prevOutput string // the last failure's output, clipped
	env        func(*Env)
}

// who prefixes a trace message with the host it is about.
func (s subject) who() string {
	if s.host == "" {
		return ""
	}
	return "host " + s.host + ": "
}

// serviceSubject is the service itself in period i.
func (c *decider) serviceSubject(i int, a alertCall) subject {
	first := int64(0)
	if c.st.HasFirstFailure {
		first = c.st.FirstFailure
	}
	return subject{
		ps:         &c.st.Periods[i],
		consec:     c.st.ConsecFailures,
		first:      first,
		input:      a.output,
		output:     clipOutput(a.output),
		prevOutput: c.st.FailureOutput(),
	}
}

// doAlert is mon's do_alert: service-level gates, then every period.
func (c *decider) doAlert(a alertCall) {
	st := c.st
	if c.w.Stopped {
		c.trace("", false, "stopped", "dropped %s alert: the mon scheduler is stopped", a.typ)
		return
	}
	// redistribute goes out before any other rule is applied; a
	// catch-up is no event to redistribute.
	if c.svc.Redistribute != "" && a.opened == nil {
		c.redistribute(a)
	}
	switch {
	case c.w.WatchDisabled:
		c.trace("", false, "disabled", "suppressed %s alert: the watch is disabled", a.typ)
		return
	case st.Disabled && !a.disabling:
		c.trace("", false, "disabled", "suppressed %s alert: the service is disabled", a.typ)
		return
	}
	if a.typ != StartupAlert && a.typ != UpAlert && hasAlertDepend(c.svc) &&
		st.DependStatus != nil && !*st.DependStatus {
		c.trace("", false, "depend", "suppressed %s alert: dependency %s is down", a.typ, alertDependText(c.svc))
		return
	}

	// The state keeps clipped output; compare like with like.
	summary := firstLine(clipOutput(a.output))
	prevSummary := firstLine(st.FailureOutput())
	ackOK := a.typ == UpAlert || a.typ == AckAlert || a.typ == DisableAlert
	if st.Ack != 0 && c.svc.UnackSummary && !ackOK && stripSpace(summary) != stripSpace(prevSummary) {
		c.trace("", false, "unack_summary", "acknowledgement (%s) cleared: summary changed from %q to %q",
			st.AckComment, prevSummary, summary)
		st.Ack, st.AckComment = 0, ""
		st.ConsecFailures = 1
		unthrottle(st.Periods)
		for _, hs := range st.Hosts {
			unthrottle(hs.Periods)
		}
	}
	if st.Ack != 0 && !ackOK {
		c.trace("", false, "ack", "suppressed %s alert: acknowledged at %s (%s)",
			a.typ, c.clock(st.Ack), st.AckComment)
		return
	}
	if c.heldByFlapping(a) {
		return
	}

	for i, p := range c.svc.Periods {
		if a.opened != nil && (!a.opened[i] || !p.AlertOnPeriodStart) {
			continue
		}
		c.period(i, p, a)
	}
}

// unthrottle clears the alertevery and alertafter counters of periods
// (which mon then has defined, for the state file).
func unthrottle(ps []PeriodState) {
	for i := range ps {
		ps[i].LastAlert = 0
		ps[i].FirstFailTime = 0
		ps[i].FailCount = 0
		ps[i].Defined |= DefLastAlert | DefFirstFailTime | DefFailCount
	}
}

// period applies the per-period rules (step 8 of do_alert) to the service,
// or to each host the event is about in an alert_per_host period.
func (c *decider) period(i int, p *config.Period, a alertCall) {
	if !inPeriod(p, c.w.Now) {
		c.trace(p.Key, false, "period", "skipped: outside period %s", p.Spec.String())
		return
	}
	if p.AlertPerHost && c.perHost(p, a) {
		c.hostsPeriod(i, p, a)
		return
	}
	c.rules(i, p, a, c.serviceSubject(i, a))
}

// rules applies a period's rules to one subject and calls the period's
// alerts of the right list.
func (c *decider) rules(i int, p *config.Period, a alertCall, sub subject) {
	ps := sub.ps
	key := p.Key
	paired := a.typ == UpAlert || a.typ == AckAlert
	if paired && !p.NoCompAlerts && ps.AlertSent == 0 {
		c.trace(key, false, "pairing", "%ssuppressed %s alert: no down alert was sent in this period", sub.who(), a.typ)
		return
	}
	if a.typ == UpAlert && p.NoCompAlerts && ps.NoCompUpalertSent > 0 {
		c.trace(key, false, "no_comp_alerts", "%ssuppressed up alert: one was already sent since the last down alert", sub.who())
		return
	}
	if a.typ == UpAlert && p.UpAlertAfter > 0 && sub.first != 0 {
		if lasted := c.now - sub.first; lasted < seconds(p.UpAlertAfter) {
			c.trace(key, false, "upalertafter", "%ssuppressed up alert: the outage lasted %s, upalertafter is %s",
				sub.who(), secs(lasted), p.UpAlertAfter)
			return
		}
	}
	switch {
	case a.opened != nil:
		if c.catchUpHeld(p, sub, a) {
			return
		}
	case a.isFailure() && c.throttled(p, sub, a):
		return
	}

	lines := linesFor(p, a.typ)
	if len(lines) == 0 {
		c.trace(key, false, "no_lines", "%sno %s lines in this period", sub.who(), listName(a.typ))
		return
	}
	called := 0
	for _, l := range lines {
		if !selects(l, a.exitValue()) {
			c.trace(key, false, "exit", "%sskipped %s: exit %d not in exit=%s", sub.who(), l.Name, a.exitValue(), l.Exit)
			continue
		}
		if !c.hasAlert(l) {
			c.trace(key, false, "missing", "no alert found while trying to run %s", l.Name)
			continue
		}
		env := c.env()
		if sub.env != nil {
			sub.env(&env)
		}
		c.d.Actions = append(c.d.Actions, Action{
			Period: i,
			Line:   l,
			Type:   a.typ,
			Host:   sub.host,
			Input:  sub.input,
			Retval: a.retval,
			Record: true,
			Env:    env,
		})
		c.trace(key, true, "sent", "%ssent %s alert %s", sub.who(), a.typ, lineText(l))
		c.st.AlertCount++
		called++
	}
	if called == 0 || a.typ.isFlap() {
		return // flap alerts stand for no failure: no period bookkeeping
	}
	ps.LastAlert = c.now
	ps.Defined |= DefLastAlert
	if a.typ == UpAlert {
		ps.AlertSent, ps.LastAlert = 0, 0
		if p.NoCompAlerts {
			ps.NoCompUpalertSent++
		}
		return
	}
	ps.AlertSent++
	if p.NoCompAlerts {
		ps.NoCompUpalertSent = 0
	}
	if sub.host != "" {
		// The period has alerted on the service's failure (Firing, the
		// alerts_sent count).
		svc := &c.st.Periods[i]
		svc.AlertSent++
		svc.LastAlert = c.now
		svc.Defined |= DefLastAlert
	}
}

// selects is the rule by which a period picks, among its lines of the
// event's list, those to run: a line's exit= range, when it has one, must
// contain the event's exit value.
func selects(l config.AlertLine, exit int) bool {
	return l.Exit == nil || l.Exit.Contains(exit)
}

// Firing reports whether line, an alert line of period i of svc, stands
// for the service's current failure: the service is failing, the period
// has sent its down alert for this failure (AlertSent > 0; alertafter,
// numalerts, the period's time window… can hold it back), and the line
// selects the failure's exit value, by the rule the period applies when
// it sends. What keeps something in step with alerts (the lvs
// reconciler) asks this instead of re-deriving the rules. line may come
// from any of the period's lists: an upalert line answers for the failure
// its period has alerted on.
func Firing(svc *config.Service, st *State, i int, line config.AlertLine) bool {
	// A state built for another revision of the service may lack the
	// period.
	if i < 0 || i >= len(svc.Periods) || i >= len(st.Periods) {
		return false
	}
	return st.OpStatus.IsFailure() && st.Periods[i].AlertSent > 0 && selects(line, st.ExitVal)
}

// throttled applies the failure-only rules in mon's order: alertexitrange,
// numalerts, alertevery, alertafter. It reports whether the period's
// alert is suppressed.
func (c *decider) throttled(p *config.Period, sub subject, a alertCall) bool {
	if c.exitRangeHeld(p, sub, a) {
		return true
	}
	if p.NumAlerts > 0 && sub.ps.AlertSent >= p.NumAlerts {
		c.trace(p.Key, false, "numalerts", "%ssuppressed: numalerts %d reached", sub.who(), p.NumAlerts)
		return true
	}
	// alertafter's counters only move when alertevery let the alert pass.
	return c.alertEvery(p, sub) || c.alertAfter(p, sub)
}

func (c *decider) exitRangeHeld(p *config.Period, sub subject, a alertCall) bool {
	if r := p.AlertExitRange; r != nil && !r.Contains(a.exitValue()) {
		c.trace(p.Key, false, "alertexitrange", "%ssuppressed: exit %d not in alertexitrange %s", sub.who(), a.exitValue(), r)
		return true
	}
	return false
}

// alertEvery is mon's re-alert throttle: within the window, suppress
// unless the failure changed in the way the mode looks at.
func (c *decider) alertEvery(p *config.Period, sub subject) bool {
	ps := sub.ps
	if p.AlertEvery <= 0 || c.now-ps.LastAlert >= seconds(p.AlertEvery) {
		return false
	}
	var why string
	switch p.AlertEveryMode {
	case config.EveryStrict, config.EveryIgnoreSummary:
		why = string(p.AlertEveryMode)
	case config.EveryObserveDetail:
		if sub.prevOutput == sub.output {
			why = "same output"
		}
	default:
		if firstLine(sub.prevOutput) == firstLine(sub.output) {
			why = "same summary"
		}
	}
	if why == "" {
		return false
	}
	c.trace(p.Key, false, "alertevery", "%ssuppressed: alertevery %s, last sent %s ago, %s",
		sub.who(), p.AlertEvery, secs(c.now-ps.LastAlert), why)
	return true
}

// alertAfter is mon's alertafter in its three forms, with their counter
// side effects.
func (c *decider) alertAfter(p *config.Period, sub subject) bool {
	ps, key, who := sub.ps, p.Key, sub.who()
	n, t := p.AlertAfterCount, seconds(p.AlertAfterTime)
	switch {
	case n > 0 && t == 0:
		if sub.consec < n {
			c.trace(key, false, "alertafter", "%ssuppressed: %d of %d consecutive failures", who, sub.consec, n)
			return true
		}
	case n == 0 && t > 0:
		if ps.FirstFailTime == 0 {
			ps.FirstFailTime = c.now
		}
		if c.now-ps.FirstFailTime <= t {
			c.trace(key, false, "alertafter", "%ssuppressed: failing for %s, alertafter %s not yet exceeded",
				who, secs(c.now-ps.FirstFailTime), p.AlertAfterTime)
			return true
		}
	case n > 0 && t > 0:
		ps.FailCount++
		if c.now-ps.FirstFailTime <= t && ps.FailCount < n {
			c.trace(key, false, "alertafter", "%ssuppressed: %d of %d failures within %s", who, ps.FailCount, n, p.AlertAfterTime)
			return true
		}
		if c.now-ps.FirstFailTime > t {
			ps.FailCount = 1 // a new window starts
		}
		if ps.FailCount == 1 {
			ps.FirstFailTime = c.now
		}
		if ps.FailCount < n {
			c.trace(key, false, "alertafter", "%ssuppressed: %d of %d failures within %s", who, ps.FailCount, n, p.AlertAfterTime)
			return true
		}
	}
	return false
}

// redistribute calls the service's redistribute alert: no period, no
// accounting, not recorded. The first word is the alert name (mon looks
// up the whole text, Q-CFG-3).
func (c *decider) redistribute(a alertCall) {
	l, err := RedistributeLine(c.svc)
	switch {
	case err != nil:
		c.trace("", false, "redistribute", "not sent: %v", err)
		return
	case l == nil:
		return
	}
	if !c.hasAlert(*l) {
		c.trace("", false, "redistribute", "no alert found while trying to run %s", l.Name)
		return
	}
	c.d.Actions = append(c.d.Actions, Action{
		Period:       -1,
		Line:         *l,
		Type:         a.typ,
		Input:        a.output,
		Retval:       a.retval,
		Redistribute: true,
		Env:          c.env(),
	})
	c.trace("", true, "redistribute", "sent %s event to redistribute %s", a.typ, lineText(*l))
}

// RedistributeLine parses a service's redistribute value into an alert
// line: the first word is the alert name (mon looks up the whole text,
// Q-CFG-3), the rest its arguments. It is nil when there is none.
func RedistributeLine(svc *config.Service) (*config.AlertLine, error) {
	text := strings.TrimLeft(svc.Redistribute, perlSpace)
	if text == "" {
		return nil, nil
	}
	name, raw := text, ""
	if i := strings.IndexAny(text, perlSpace); i >= 0 {
		name, raw = text[:i], strings.TrimLeft(text[i:], perlSpace)
	}
	args, err := shellwords.Split(raw)
	if err != nil {
		return nil, fmt.Errorf("redistribute %q: %w", svc.Redistribute, err)
	}
	return &config.AlertLine{Name: name, Args: args, RawArgs: raw, Pos: svc.Pos}, nil
}

func (c *decider) hasAlert(l config.AlertLine) bool {
	return c.w.HasAlert == nil || c.w.HasAlert(l)
}

// env captures the MON_* view of the state at this point of the event.
func (c *decider) env() Env {
	e := EnvOf(c.st)
	e.HasLastSummary = e.HasLastSummary || c.summaryPending
	return e
}

// EnvOf is the MON_* view of a service's state between events (for test
// alerts, which do not go through the engine).
func EnvOf(st *State) Env {
	e := Env{
		OpStatus:          st.OpStatus,
		LastSummary:       st.LastSummary,
		HasLastSummary:    st.HasLastEvent,
		LastOutput:        st.LastOutput,
		HasLastOutput:     st.HasLastOutput,
		LastFailure:       st.LastFailure,
		FirstFailure:      st.FirstFailure,
		HasFirstFailure:   st.HasFirstFailure,
		FirstFailureBlank: st.FirstFailureBlank,
		FirstSuccess:      st.FirstSuccess,
		LastSuccess:       st.LastSuccess,
		Intended:          st.Intended(),
	}
	if st.Ack != 0 {
		e.Ack = st.AckComment
	}
	return e
}

// clock formats an epoch second in the location of World.Now.
func (c *decider) clock(t int64) string {
	return time.Unix(t, 0).In(c.w.Now.Location()).Format("2006-01-02 15:04:05")
}

// inPeriod is the single place where a period's time window is checked.
func inPeriod(p *config.Period, t time.Time) bool {
	return p.Spec.In(t)
}

func linesFor(p *config.Period, t AlertType) []config.AlertLine {
	switch t {
	case UpAlert:
		return p.UpAlerts
	case StartupAlert:
		return p.StartupAlerts
	case AckAlert:
		return p.AckAlerts
	case DisableAlert:
		return p.DisableAlerts
	}
	return p.Alerts
}

// listName is the config keyword of the list an alert type uses.
func listName(t AlertType) string {
	switch t {
	case UpAlert, StartupAlert, AckAlert, DisableAlert:
		return string(t) + "alert"
	}
	return "alert"
}

func lineText(l config.AlertLine) string {
	if l.RawArgs == "" {
		return l.Name
	}
	return l.Name + " " + l.RawArgs
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func secs(n int64) time.Duration { return time.Duration(n) * time.Second }
