package server

import (
	"bufio"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler"
)

func (srv *Server) cmdList(sess *session, args string) reply {
	what, rest, _ := strings.Cut(args, " ")
	rest = strings.TrimSpace(rest)
	switch what {
	case "state":
		if stopped, since := srv.sched.Stopped(); stopped {
			return ok("220 list state completed", "scheduler stopped since "+strconv.FormatInt(since.Unix(), 10))
		}
		return ok("220 list state completed", "scheduler running")
	case "watch":
		var data []string
		for _, r := range srv.sched.Services() {
			if srv.inView(sess, r.Group, r.Service) {
				data = append(data, r.Group+" "+r.Service)
			}
		}
		return ok("220 list watch completed", data...)
	case "group":
		members, found := srv.sched.GroupMembers(rest)
		if !found {
			return fail("520 list group error, undefined group")
		}
		return ok("220 list group completed", "hostgroup "+rest+" "+strings.Join(members, " "))
	case "opstatus":
		return srv.listOpstatus(sess, rest)
	case "cluster":
		if srv.opts.Cluster == nil {
			return fail("520 list cluster error, gomon runs alone (no cluster_etcd)")
		}
		if rest != "" {
			// list cluster G S: who runs that service.
			f := strings.Fields(rest)
			if len(f) != 2 {
				return fail("520 list cluster error, usage: list cluster [group service]")
			}
			node, found := srv.opts.Cluster.Owner(f[0], f[1])
			if !found {
				return fail("520 list cluster error, no shard-scope service " + f[0] + "/" + f[1] + " or no owner")
			}
			return ok("220 list cluster completed", "group="+f[0]+" service="+f[1]+" owner="+node)
		}
		return ok("220 list cluster completed", srv.opts.Cluster.StatusLines()...)
	case "downtimes":
		return srv.listDowntimes()
	case "snmptraps":
		f := srv.snmpStats.Load()
		if f == nil {
			return fail("520 list snmptraps error, no SNMP trap receiver (snmptrap_listen)")
		}
		return ok("220 list snmptraps completed", (*f)().Lines()...)
	case "failures", "successes", "warnings":
		var data []string
		for _, st := range srv.sched.StatusAll() {
			s := st.State.OpStatus
			if !srv.inView(sess, st.Group, st.Service) ||
				(what == "failures" && !s.IsFailure()) ||
				(what == "successes" && !s.IsSuccess()) ||
				(what == "warnings" && !s.IsWarning()) {
				continue
			}
			data = append(data, protocol.Record(opstatus(st)))
		}
		if what == "warnings" {
			what = "successes" // sic: mon's reply text (Q-PRO-13)
		}
		return ok("220 list "+what+" completed", data...)
	case "descriptions":
		var data []string
		for _, st := range srv.sched.StatusAll() {
			if srv.inView(sess, st.Group, st.Service) {
				data = append(data, st.Group+" "+st.Service+" "+protocol.Escape(st.Description))
			}
		}
		return ok("220 list descriptions completed", data...)
	case "disabled":
		d := srv.sched.DisabledList()
		var data []string
		for _, gh := range d.Hosts {
			data = append(data, "group "+gh.Group+": "+strings.Join(gh.Hosts, " "))
		}
		for _, w := range d.Watches {
			data = append(data, "watch "+w)
		}
		for _, s := range d.Services {
			if srv.inView(sess, s.Group, s.Service) {
				data = append(data, "watch "+s.Group+" service "+s.Service)
			}
		}
		return ok("220 list disabled completed", data...)
	case "alerthist":
		return ok("220 list alerthist completed", escapeAll(srv.sched.AlertHistory())...)
	case "failurehist":
		return ok("220 list failurehist completed", escapeAll(srv.sched.FailureHistory())...)
	case "pids":
		data := []string{"server " + strconv.Itoa(os.Getpid())}
		for _, r := range srv.sched.RunningMonitors() {
			data = append(data, r.Group+" "+r.Service+" "+strconv.Itoa(r.PID))
		}
		return ok("220 list pids completed", data...)
	case "deps":
		return srv.listDeps(sess)
	case "dtlog":
		return srv.listDTLog()
	case "aliases":
		return srv.listAliases(strings.Fields(rest))
	case "aliasgroups":
		var names []string
		for _, a := range srv.sched.Config().Aliases {
			names = append(names, a.Name)
		}
		if len(names) == 0 {
			return ok("220 list aliasgroups completed")
		}
		return ok("220 list aliasgroups completed", strings.Join(names, " "))
	case "views":
		var names []string
		for _, v := range srv.sched.Config().Views {
			names = append(names, v.Name)
		}
		slices.Sort(names)
		return ok("220 list group completed", "views "+strings.Join(names, " ")) // sic (Q-PRO-13)
	case "decisions":
		return srv.listDecisions(rest)
	}
	return fail("520 unknown list command")
}

func escapeAll(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = protocol.EscapeRaw(l)
	}
	return out
}

// listOpstatus answers `list opstatus [G,S | G | G, ...]`. With
// selectors no view applies; an unknown G,S fails the whole request,
// naming the first unknown pair (mon names the last pair examined,
// Q-PRO-5), and an unknown bare G yields nothing.
func (srv *Server) listOpstatus(sess *session, sel string) reply {
	if sel == "" {
		if r, hit := srv.opstatus.get(sess.view, srv.sched.StateVersion(), srv.sched.Now()); hit {
			return r
		}
		snap := srv.sched.Snapshot()
		var data []string
		for _, st := range snap.Services {
			if srv.inView(sess, st.Group, st.Service) {
				data = append(data, protocol.Record(opstatus(st)))
			}
		}
		return srv.opstatus.put(sess.view, snap, ok("220 list opstatus completed", data...))
	}
	all := srv.sched.StatusAll()
	var data []string
	for _, s := range strings.Fields(sel) {
		group, service, pair := strings.Cut(s, ",")
		if pair && service != "" {
			found := false
			for _, st := range all {
				if st.Group == group && st.Service == service {
					data = append(data, protocol.Record(opstatus(st)))
					found = true
				}
			}
			if !found {
				return fail("520 " + s + " does not exist")
			}
			continue
		}
		for _, st := range all {
			if st.Group == group {
				data = append(data, protocol.Record(opstatus(st)))
			}
		}
	}
	return ok("220 list opstatus completed", data...)
}

// opstatus fills the protocol record from a scheduler status.
func opstatus(st scheduler.Status) protocol.OpStatus {
	s, c := &st.State, st.Config
	o := protocol.OpStatus{
		Group:        st.Group,
		Service:      st.Service,
		OpStatus:     int(s.OpStatus),
		LastOpStatus: int(s.LastOpStatus),
		ExitVal:      "undef",
		Timer:        int64(math.Ceil(st.Timer.Seconds())),
		LastSuccess:  s.LastSuccess,
		LastTrap:     s.LastTrap(),
		Ack:          s.Ack,
		AckComment:   s.AckComment,
		AlertsSent:   st.AlertsSent,
		Monitor:      c.Monitor,
		LastSummary:  s.LastSummary,
		LastDetail:   s.LastDetail,
		LastFailure:  s.LastFailure,
		LastAlert:    st.LastAlert,
		ExcludeHosts: c.ExcludeHosts,
		RandSkew:     int64(c.RandSkew.Seconds()),
	}
	if s.HasExitVal {
		o.ExitVal = strconv.Itoa(s.ExitVal)
	}
	if !st.LastCheck.IsZero() {
		o.LastCheck = st.LastCheck.Unix()
	}
	if s.DependStatus != nil {
		o.DepStatus = "0"
		if *s.DependStatus {
			o.DepStatus = "1"
		}
	}
	if c.Depend != nil {
		o.Depend = c.Depend.String()
	}
	if c.HostDepend != nil {
		o.HostDepend = c.HostDepend.String()
	}
	if c.MonitorDepend != nil {
		o.MonitorDepend = c.MonitorDepend.String()
	}
	if c.AlertDepend != nil {
		o.AlertDepend = c.AlertDepend.String()
	}
	if s.Interval > 0 {
		o.HasInterval = true
		o.Interval = int64(s.Interval.Seconds())
		o.MonitorDuration = -1
		if st.Ran {
			o.MonitorDuration = int64(st.Duration.Seconds())
		}
		o.MonitorRunning = st.Running
	}
	if st.Overdue {
		o.MonitorOverdue = max(1, int64(st.Now.Sub(st.LastCheck).Seconds()))
	}
	if c.ExcludePeriod != nil {
		o.ExcludePeriod = c.ExcludePeriod.String()
	}
	if s.FirstFailure != 0 {
		o.FirstFailure = s.FirstFailure
		o.FailureDuration = st.Now.Unix() - s.FirstFailure
	}
	o.SetGomonState(s, c.Flap != nil)
	return o
}

// listDeps shows each service's `depend` expression and its tokens
// (protocol §4.4); unlike mon, the view is applied properly (Q-PRO-6).
func (srv *Server) listDeps(sess *session) reply {
	var data []string
	for _, w := range srv.sched.Config().Watches {
		for _, s := range w.Services {
			if !srv.inView(sess, w.Name, s.Name) {
				continue
			}
			if s.Depend == nil {
				data = append(data, "exp "+w.Name+" "+s.Name+" 'NONE'", "cmp "+w.Name+" "+s.Name+" NONE")
				continue
			}
			var toks []string
			for _, r := range s.Depend.Refs() {
				toks = append(toks, r.String())
			}
			data = append(data, "exp "+w.Name+" "+s.Name+" '"+protocol.Escape(s.Depend.String())+"'",
				"cmp "+w.Name+" "+s.Name+" "+strings.Join(toks, " "))
		}
	}
	return ok("220 list deps completed", data...)
}

func (srv *Server) listDTLog() reply {
	g := srv.sched.Config().Globals
	if !g.DtLogging {
		return fail("520 list dtlog error, dtlogging is not turned on")
	}
	f, err := os.Open(g.DtLogFile)
	if err != nil {
		return fail("520 list dtlog error, cannot open dtlog")
	}
	defer f.Close()
	var data []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		data = append(data, l)
	}
	return ok("220 list dtlog completed", data...)
}

// listAliases shows the requested aliases (all when none are named).
// Unknown names print an empty alias but, unlike mon, create nothing
// (Q-PRO-7).
func (srv *Server) listAliases(names []string) reply {
	aliases := srv.sched.Config().Aliases
	if len(names) == 0 {
		for _, a := range aliases {
			names = append(names, a.Name)
		}
	}
	var data []string
	for _, n := range names {
		data = append(data, "alias "+n)
		for _, a := range aliases {
			if a.Name == n {
				data = append(data, a.Lines...)
			}
		}
		data = append(data, "")
	}
	return ok("220 list aliases completed", data...)
}

// listDecisions is gomon's `list decisions [G S]`: the decision trace,
// one line per rule that sent or suppressed an alert, oldest first:
// `G S EPOCH PERIOD sent|suppressed RULE MESSAGE`, each field escaped.
func (srv *Server) listDecisions(sel string) reply {
	refs := srv.sched.Services()
	if f := strings.Fields(sel); len(f) > 0 {
		if len(f) != 2 {
			return fail("520 list decisions takes a group and a service")
		}
		refs = []scheduler.ServiceRef{{Group: f[0], Service: f[1]}}
	}
	var data []string
	for _, r := range refs {
		tr, err := srv.sched.Trace(r.Group, r.Service)
		if err != nil {
			return fail("520 " + r.Group + "," + r.Service + " does not exist")
		}
		for _, t := range tr {
			verdict := "suppressed"
			if t.Sent {
				verdict = "sent"
			}
			period := t.Period
			if period == "" {
				period = "-"
			}
			data = append(data, strings.Join([]string{r.Group, r.Service, strconv.FormatInt(t.Time.Unix(), 10),
				protocol.Escape(period), verdict, protocol.Escape(t.Rule), protocol.Escape(t.Msg)}, " "))
		}
	}
	return ok("220 list decisions completed", data...)
}
