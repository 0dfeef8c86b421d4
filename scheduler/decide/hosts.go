package decide

import (
	"slices"
	"strings"

	"github.com/gomon/gomon/internal/config"
)

// hostEvent is what one event says about the hosts of a service that
// keeps per-host verdicts.
type hostEvent struct {
	// known is false when a failure's summary names no host of the
	// group: the failure is the service's, its hosts are unknown.
	known    bool
	down, up []string          // failing now; recovered by this event
	prev     map[string]string // each failing host's text before the event
}

// hostVerdicts reads the failing hosts from the summary line (mon's
// convention: the first line lists them, blank-separated) and updates
// st.Hosts. Words that are not hosts of the group are ignored, which
// also bounds the state by the group.
func (c *decider) hostVerdicts(res Result, summary, detail string) {
	if !c.svc.TracksHosts() {
		return
	}
	if len(c.w.Hosts) == 0 {
		c.trace("", false, "per_host", "the group has no hosts; no per-host verdicts")
		return
	}
	st := c.st
	var failing []string
	if res.Exit != 0 {
		failing = NamedHosts(summary, c.w.Hosts)
		if len(failing) == 0 {
			c.hosts = &hostEvent{}
			c.trace("", false, "per_host", "the summary names no host of the group; host verdicts unchanged, alerting for the service")
			return
		}
	}
	ev := &hostEvent{known: true, prev: map[string]string{}}
	c.hosts = ev
	for _, h := range st.FailingHosts(c.w.Hosts) {
		switch {
		case !slices.Contains(c.w.Hosts, h):
			delete(st.Hosts, h)
			c.trace("", false, "per_host", "host %s is no longer in the group; its verdict is dropped", h)
		case !slices.Contains(failing, h):
			ev.up = append(ev.up, h)
			c.trace("", false, "per_host", "host %s recovered after %s", h, secs(c.now-st.Hosts[h].FirstFailure))
		}
	}
	if len(failing) > 0 && st.Hosts == nil {
		st.Hosts = map[string]*HostState{}
	}
	for _, h := range failing {
		hs := st.Hosts[h]
		if hs == nil {
			hs = &HostState{FirstFailure: c.now}
			st.Hosts[h] = hs
			c.trace("", false, "per_host", "host %s failing", h)
		} else {
			ev.prev[h] = hostText(h, hs.LastOutput)
		}
		hs.ConsecFailures++
		hs.LastFailure = c.now
		hs.LastOutput = Clip(hostDetail(h, detail), MaxSummary)
		ev.down = append(ev.down, h)
	}
}

// endHostVerdicts forgets the hosts that recovered, once their upalerts
// have been decided.
func (c *decider) endHostVerdicts() {
	if c.hosts == nil {
		return
	}
	for _, h := range c.hosts.up {
		delete(c.st.Hosts, h)
	}
	if len(c.st.Hosts) == 0 {
		c.st.Hosts = nil
	}
}

// perHost reports whether an alert_per_host period alerts per host for
// a: failure and up alerts of an event whose hosts are known.
func (c *decider) perHost(p *config.Period, a alertCall) bool {
	switch {
	case c.hosts == nil || !(a.isFailure() || a.typ == UpAlert):
		return false
	case !c.hosts.known || (a.typ == UpAlert && len(c.hosts.up) == 0):
		c.trace(p.Key, false, "per_host", "no host named: alerting for the service")
		return false
	}
	return true
}

// hostsPeriod applies period i's rules to each host: an upalert for each
// host that recovered, then the event's alert for each failing host.
func (c *decider) hostsPeriod(i int, p *config.Period, a alertCall) {
	zero := 0
	for _, h := range c.hosts.up {
		c.rules(i, p, alertCall{typ: UpAlert, retval: &zero}, c.hostSubject(i, h))
	}
	if a.typ == UpAlert {
		return
	}
	for _, h := range c.hosts.down {
		c.rules(i, p, a, c.hostSubject(i, h))
	}
}

// hostSubject is host h of the service in period i.
func (c *decider) hostSubject(i int, h string) subject {
	hs := c.st.Hosts[h]
	for len(hs.Periods) < len(c.svc.Periods) {
		hs.Periods = append(hs.Periods, PeriodState{})
	}
	text := hostText(h, hs.LastOutput)
	return subject{
		host:       h,
		ps:         &hs.Periods[i],
		consec:     hs.ConsecFailures,
		first:      hs.FirstFailure,
		input:      text,
		output:     text,
		prevOutput: c.hosts.prev[h],
		env: func(e *Env) {
			e.Host = h
			e.FirstFailure, e.HasFirstFailure = hs.FirstFailure, true
			e.LastFailure = hs.LastFailure
		},
	}
}

// hostText is a per-host alert's input, in mon's format for a failure
// of that host alone: its name as the summary, then its detail.
func hostText(h, detail string) string {
	if detail == "" {
		return h + "\n"
	}
	return h + "\n" + detail + "\n"
}

// NamedHosts returns the hosts (in their order) that summary names.
func NamedHosts(summary string, hosts []string) []string {
	words := strings.FieldsFunc(summary, func(r rune) bool { return strings.ContainsRune(perlSpace, r) })
	var out []string
	for _, h := range hosts {
		if slices.Contains(words, h) && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// hostDetail returns the detail lines about host h: those that start
// with its name followed by a blank or a colon, as the built-in monitors
// and mon's scripts write them.
func hostDetail(h, detail string) string {
	var out []string
	for _, l := range strings.Split(detail, "\n") {
		rest, ok := strings.CutPrefix(l, h)
		if ok && (rest == "" || strings.ContainsAny(rest[:1], ": \t")) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
