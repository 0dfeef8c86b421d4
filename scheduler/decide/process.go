package decide

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gomon/gomon/internal/config"
)

// noSummary replaces a blank failure summary, as mon shows it.
const noSummary = "(NO SUMMARY)"

// perlSpace is the set of characters Perl's \s matches in mon's byte
// strings.
const perlSpace = " \t\n\r\f\v"

// decider carries one call of the package API: the inputs, the
// decision being built and the event time in whole seconds.
type decider struct {
	svc *config.Service
	st  *State
	w   World
	now int64
	d   Decision
	// summaryPending is true while a failure's summary is already
	// stored but its output is not yet (mon sets _last_output last), so
	// alerts see MON_LAST_SUMMARY even on the very first event.
	summaryPending bool
	// hosts is what the event says about the service's hosts; nil when
	// the service keeps no per-host verdicts (or for non-result calls).
	hosts *hostEvent
}

func newDecider(svc *config.Service, st *State, w World) *decider {
	// A state built for another revision of the service must not make
	// the period loop index out of range.
	for len(st.Periods) < len(svc.Periods) {
		st.Periods = append(st.Periods, PeriodState{})
	}
	return &decider{svc: svc, st: st, w: w, now: w.Now.Unix()}
}

func (c *decider) trace(period string, sent bool, rule, format string, args ...any) {
	c.d.Trace = append(c.d.Trace, Trace{
		Time:   c.w.Now,
		Period: period,
		Sent:   sent,
		Rule:   rule,
		Msg:    fmt.Sprintf(format, args...),
	})
}

// Process applies one event to st (mon's process_event + do_alert).
func Process(svc *config.Service, st *State, res Result, w World) Decision {
	c := newDecider(svc, st, w)
	st.ResetSchedule = false
	kept := clipOutput(res.Output)
	summary, detail := splitOutput(kept)
	st.ExitVal, st.HasExitVal = res.Exit, true
	c.evalDepend()
	c.hostVerdicts(res, summary, detail)
	c.flap(res.Exit != 0)

	if res.Exit != 0 {
		c.failure(res, summary, detail)
	} else {
		c.success(res, summary, detail)
	}
	c.endHostVerdicts()

	st.LastOutput = kept
	st.HasLastEvent = true
	st.HasLastOutput = true
	return c.d
}

func (c *decider) failure(res Result, summary, detail string) {
	st := c.st
	c.d.Failure = true
	st.FailureCount++
	st.ConsecFailures++
	st.LastFailure = c.now
	if st.OpStatus == OK || st.OpStatus == Unknown || st.OpStatus == Untested {
		st.FirstFailure, st.HasFirstFailure, st.FirstFailureBlank = c.now, true, false
	}
	c.setStatus(Fail)
	if isBlank(summary) {
		summary = noSummary
	}
	st.LastSummary, st.LastDetail = summary, detail
	c.summaryPending = true

	typ := FailureAlert
	switch res.Kind {
	case Trap:
		typ = TrapAlert
	case TrapTimeout:
		typ = TrapTimeoutAlert
	}
	exit := res.Exit
	c.doAlert(alertCall{typ: typ, output: res.Output, retval: &exit})
	c.summaryPending = false

	// Traps do not touch the polling schedule.
	if res.Kind == Monitor && st.FailureInterval > 0 && !st.FailureIntervalActive {
		st.SetOldInterval(st.Interval)
		st.Interval = st.FailureInterval
		st.FailureIntervalActive = true
		st.ResetSchedule = true
		c.trace("", false, "failure_interval", "polling every %s while failing (failure_interval)", st.FailureInterval)
	}
	st.SetFailureOutput(clipOutput(res.Output))
}

func (c *decider) success(res Result, summary, detail string) {
	st := c.st
	old := st.OpStatus
	c.setStatus(OK)
	c.d.Recovered = old == Fail

	switch {
	case c.svc.Redistribute != "" || (old == Fail && hasUpAlerts(c.svc)):
		// The upalert carries the output of the last failing run.
		zero := 0
		c.doAlert(alertCall{typ: UpAlert, output: st.LastOutput, retval: &zero})
	case old == Fail:
		c.trace("", false, "upalert", "recovered; no upalert is configured for this service")
	}

	st.Ack, st.AckComment = 0, ""
	st.FirstFailure, st.HasFirstFailure, st.FirstFailureBlank = 0, true, false
	st.LastFailure = 0
	st.ConsecFailures = 0
	st.SetFailureOutput("")
	for i, p := range c.svc.Periods {
		ps := &st.Periods[i]
		if p.AlertEveryMode != config.EveryStrict {
			ps.LastAlert = 0
			ps.Defined |= DefLastAlert
		}
		ps.FirstFailTime = 0
		ps.Defined |= DefFirstFailTime
		ps.AlertSent = 0
	}
	if st.FailureInterval > 0 && st.FailureIntervalActive {
		st.Interval = st.OldInterval()
		st.SetOldInterval(0)
		st.FailureIntervalActive = false
		st.ResetSchedule = true
		c.trace("", false, "failure_interval", "back to polling every %s", st.Interval)
	}
	st.LastSuccess = c.now
	st.LastSummary, st.LastDetail = summary, detail
}

func (c *decider) setStatus(s Status) {
	c.st.LastOpStatus, c.st.OpStatus = c.st.OpStatus, s
}

// evalDepend is mon's dep_ok(S, "a") at the start of process_event,
// extended to services that only have alertdepend (Q-SCH-7). An
// expression that cannot be evaluated counts as up.
func (c *decider) evalDepend() {
	if c.w.EvalDepend == nil || !hasAlertDepend(c.svc) {
		return
	}
	ok, err := c.w.EvalDepend()
	if err != nil {
		c.st.DependStatus = nil
		c.trace("", false, "depend", "dependency %s could not be evaluated (%v); treating it as up", alertDependText(c.svc), err)
		return
	}
	c.st.DependStatus = &ok
}

// Startup returns the startup alerts of the service.
func Startup(svc *config.Service, st *State, w World) Decision {
	c := newDecider(svc, st, w)
	zero := 0
	c.doAlert(alertCall{typ: StartupAlert, output: "", retval: &zero})
	return c.d
}

// CanAcknowledge reports whether the service is in a state that can be
// acknowledged (mon refuses an ack while it is OK or untested).
func CanAcknowledge(st *State) bool {
	return st.OpStatus != OK && st.OpStatus != Untested
}

// Acknowledge records an ack and returns the ack alerts. who is the
// logged-in user ("" when none). The caller checks CanAcknowledge first.
func Acknowledge(svc *config.Service, st *State, who, comment string, w World) Decision {
	c := newDecider(svc, st, w)
	st.Ack = c.now
	st.AckComment = who + ": " + comment
	c.trace("", false, "ack", "acknowledged (%s)", st.AckComment)
	c.doAlert(alertCall{typ: AckAlert, output: st.AckComment})
	return c.d
}

// Disable returns the disable alerts of a service that is being disabled
// and marks it disabled. The alerts are decided before the mark, so they
// fire (mon marks first and never sends them, Q-SCH-9); a service that
// was already disabled sends them again, like a repeated ack.
func Disable(svc *config.Service, st *State, who string, w World) Decision {
	c := newDecider(svc, st, w)
	c.doAlert(alertCall{typ: DisableAlert, output: who, disabling: true})
	st.Disabled = true
	return c.d
}

// Caps on what the state keeps of a monitor's output (gomon; mon keeps it
// whole). The summary is logged, stored, listed and exported on every
// event, so a monitor printing megabytes would flood the log, the state
// file and every `list opstatus` reply. An alert still gets the whole
// output on stdin, up to the runner's output cap.
const (
	MaxSummary = 4 << 10  // bytes of the summary line kept
	MaxDetail  = 64 << 10 // bytes of the detail kept
)

// clipOutput caps a monitor's output to MaxSummary for its first line
// and MaxDetail for the rest, each cut marked with how much was cut.
func clipOutput(out string) string {
	if len(out) <= MaxSummary {
		return out
	}
	summary, detail, found := strings.Cut(out, "\n")
	if len(summary) <= MaxSummary && len(detail) <= MaxDetail {
		return out
	}
	out = Clip(summary, MaxSummary)
	if found {
		out += "\n" + Clip(detail, MaxDetail)
	}
	return out
}

// Clip cuts s to at most n bytes (on a UTF-8 boundary) and says how many
// bytes it cut: "…[123456 bytes cut]".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	marker := fmt.Sprintf(" …[%d bytes cut]", len(s))
	cut := max(n-len(marker), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(" …[%d bytes cut]", len(s)-cut)
}

// splitOutput splits at the first LF: summary before, detail after.
func splitOutput(out string) (summary, detail string) {
	summary, detail, _ = strings.Cut(out, "\n")
	return summary, detail
}

// firstLine is mon's summary of an alert's output: the first line, or
// "(NO SUMMARY)" when it is blank.
func firstLine(out string) string {
	s, _ := splitOutput(out)
	if isBlank(s) {
		return noSummary
	}
	return s
}

// isBlank reports whether s holds only Perl \s characters.
func isBlank(s string) bool {
	return strings.Trim(s, perlSpace) == ""
}

// stripSpace removes all Perl \s characters (unack_summary compares
// summaries that way).
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(perlSpace, r) {
			return -1
		}
		return r
	}, s)
}

func hasUpAlerts(svc *config.Service) bool {
	for _, p := range svc.Periods {
		if len(p.UpAlerts) > 0 {
			return true
		}
	}
	return false
}

func hasAlertDepend(svc *config.Service) bool {
	return (svc.Depend != nil && svc.DepBehavior == config.DepAlert) || svc.AlertDepend != nil
}

// alertDependText is the expression mon's dep_ok(S, "a") evaluates.
func alertDependText(svc *config.Service) string {
	if svc.Depend != nil && svc.DepBehavior == config.DepAlert {
		return svc.Depend.String()
	}
	if svc.AlertDepend != nil {
		return svc.AlertDepend.String()
	}
	return ""
}
