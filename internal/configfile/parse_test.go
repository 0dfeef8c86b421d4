package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// svcHeader opens watch g / service s; the next line is line 5.
const svcHeader = "hostgroup g h1 h2\n\nwatch g\n    service s\n"

func parseOK(t *testing.T, src string) *config.Config {
	t.Helper()
	c, err := Parse("mon.cf", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatalf("Parse failed:\n%v\nsource:\n%s", err, src)
	}
	return c
}

func parseErr(t *testing.T, src string) *Error {
	t.Helper()
	c, err := Parse("mon.cf", []byte(src), LoadOptions{})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse = %v, %v; want *Error\nsource:\n%s", c, err, src)
	}
	return ce
}

// warnings returns the warning messages of c.
func warnings(c *config.Config) []string {
	var ws []string
	for _, w := range c.Warnings {
		ws = append(ws, w.String())
	}
	return ws
}

func hasWarning(c *config.Config, substr string) bool {
	for _, w := range warnings(c) {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

func svc(c *config.Config) *config.Service { return c.Watch("g").Service("s") }

func TestGlobals(t *testing.T) {
	for _, tc := range []struct {
		line  string
		check func(g config.Globals) bool
	}{
		{"alertdir = /a/alert.d", func(g config.Globals) bool { return reflect.DeepEqual(g.AlertDir, []string{"/a/alert.d"}) }},
		{"mondir = /a/mon.d/ : mon.d:/b ", func(g config.Globals) bool { return reflect.DeepEqual(g.MonDir, []string{"/a/mon.d", "mon.d", "/b"}) }},
		{"basedir = /x", func(g config.Globals) bool { return g.BaseDir == "/x" }},
		{"cfbasedir=/y", func(g config.Globals) bool { return g.CfBaseDir == "/y" }},
		{"logdir = /l", func(g config.Globals) bool { return g.LogDir == "/l" }},
		{"statedir = /s", func(g config.Globals) bool { return g.StateDir == "/s" }},
		{"histlength = 250", func(g config.Globals) bool { return g.HistLength == 250 }},
		{"serverport = 3000", func(g config.Globals) bool { return g.ServerPort == 3000 }},
		{"trapport = 3001", func(g config.Globals) bool { return g.TrapPort == 3001 }},
		{"serverbind = 127.0.0.1", func(g config.Globals) bool { return g.ServerBind == "127.0.0.1" }},
		{"trapbind = 127.0.0.2", func(g config.Globals) bool { return g.TrapBind == "127.0.0.2" }},
		{"clientallow = 127.0.0.1  10\\.0\\..*", func(g config.Globals) bool {
			return reflect.DeepEqual(g.ClientAllow, []string{"127.0.0.1", `10\.0\..*`})
		}},
		{"pidfile =", func(g config.Globals) bool { return g.PidFile == "" }},
		{"randstart = 0s", func(g config.Globals) bool { return g.RandStart == 0 }},
		{"randstart = 1.5m", func(g config.Globals) bool { return g.RandStart == 90*time.Second }},
		{"maxprocs = 20", func(g config.Globals) bool { return g.MaxProcs == 20 }},
		{"authtype = getpwnam userfile", func(g config.Globals) bool { return reflect.DeepEqual(g.AuthType, []string{"getpwnam", "userfile"}) }},
		{"pamservice = login", func(g config.Globals) bool { return g.PamService == "login" }},
		{"historicfile = h.log", func(g config.Globals) bool { return g.HistoricFile == "h.log" }},
		{"historictime = 1d", func(g config.Globals) bool { return g.HistoricTime == 24*time.Hour }},
		{"cltimeout = 10m", func(g config.Globals) bool { return g.CLTimeout == 10*time.Minute }},
		{"monerrfile = /tmp/err", func(g config.Globals) bool { return g.MonErrFile == "/tmp/err" }},
		{"dtlogfile = dt", func(g config.Globals) bool { return g.DtLogFile == "dt" }},
		{"dtlogging = yes", func(g config.Globals) bool { return g.DtLogging }},
		{"dtlogging = true", func(g config.Globals) bool { return g.DtLogging }},
		{"dtlogging = 1.0", func(g config.Globals) bool { return g.DtLogging }},
		{"dtlogging = Yes", func(g config.Globals) bool { return !g.DtLogging }},
		{"dtlogging = on", func(g config.Globals) bool { return !g.DtLogging }},
		{"dep_recur_limit = 5", func(g config.Globals) bool { return g.DepRecurLimit == 5 }},
		{"syslog_facility = local0", func(g config.Globals) bool { return g.SyslogFacility == "local0" }},
		{"startupalerts_on_reset = 1", func(g config.Globals) bool { return g.StartupAlertsOnReset }},
		{"startupalerts_on_reset = sure yes", func(g config.Globals) bool { return g.StartupAlertsOnReset }},
		{"startupalerts_on_reset = ON", func(g config.Globals) bool { return g.StartupAlertsOnReset }},
		{"startupalerts_on_reset = off", func(g config.Globals) bool { return !g.StartupAlertsOnReset }},
		{"monremote = /usr/local/bin/remote", func(g config.Globals) bool { return g.MonRemote == "/usr/local/bin/remote" }},
		{"monitor_timeout = 2m", func(g config.Globals) bool { return g.MonitorTimeout == 2*time.Minute }},
		{"monitor_timeout = 0", func(g config.Globals) bool { return g.MonitorTimeout == 0 }},
		{"maxclients = 64", func(g config.Globals) bool { return g.MaxClients == 64 }},
		{"status_listen = 127.0.0.1:8080", func(g config.Globals) bool { return g.StatusListen == "127.0.0.1:8080" }},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := parseOK(t, tc.line+"\n")
			if !tc.check(c.Globals) {
				t.Errorf("%q: globals = %+v", tc.line, c.Globals)
			}
		})
	}
}

func TestGlobalsNeedPeriods(t *testing.T) {
	c := parseOK(t, "exclude_period = wd {Sat-Sun}\n")
	if c.Globals.ExcludePeriod == nil || c.Globals.ExcludePeriod.String() != "wd {Sat-Sun}" {
		t.Errorf("exclude_period = %v", c.Globals.ExcludePeriod)
	}
}

func TestDefaults(t *testing.T) {
	c := parseOK(t, "")
	g := c.Globals
	if g.BaseDir != "/usr/lib/mon" || g.CfBaseDir != "/etc/mon" || g.HistLength != 100 ||
		g.CLTimeout != 30*time.Second || g.AuthFile != "auth.cf" || g.DepRecurLimit != 10 ||
		g.SyslogFacility != "daemon" || g.MonErrFile != "/dev/null" || g.DtLogFile != "downtime.log" ||
		!reflect.DeepEqual(g.ClientAllow, []string{`\d+.\d+.\d+.\d+`}) ||
		!reflect.DeepEqual(g.MonDir, []string{"/usr/local/lib/mon/mon.d", "mon.d"}) {
		t.Errorf("defaults = %+v", g)
	}
}

func TestIntegerWithTrailingText(t *testing.T) {
	c := parseOK(t, "maxprocs = 20  # twenty\n")
	if c.Globals.MaxProcs != 20 || !hasWarning(c, "mon.cf:1: warning: text after the number of maxprocs is ignored") {
		t.Errorf("maxprocs = %d, warnings %q", c.Globals.MaxProcs, warnings(c))
	}
}

func TestLastGlobalWins(t *testing.T) {
	c := parseOK(t, "maxprocs = 1\nmaxprocs = 2\n")
	if c.Globals.MaxProcs != 2 {
		t.Errorf("maxprocs = %d", c.Globals.MaxProcs)
	}
}

func TestBaseGlobals(t *testing.T) {
	base := Defaults()
	base.ServerPort = 9999
	base.MaxProcs = 7
	c, err := Parse("mon.cf", []byte("maxprocs = 3\n"), LoadOptions{Globals: &base})
	if err != nil {
		t.Fatal(err)
	}
	if c.Globals.ServerPort != 9999 || c.Globals.MaxProcs != 3 {
		t.Errorf("globals = %+v", c.Globals)
	}
}

func TestHostgroup(t *testing.T) {
	c := parseOK(t, "hostgroup web 10.0.0.1 10.0.0.2\n  10.0.0.3\n\tweb4 web5\nmaxprocs = 3\n  web6\n\nwatch web\n")
	want := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "web4", "web5", "web6"}
	if g := c.HostGroup("web"); g == nil || !reflect.DeepEqual(g.Hosts, want) || g.Pos.Line != 1 {
		t.Errorf("hostgroup web = %+v", g)
	}
	if c.Globals.MaxProcs != 3 {
		t.Error("a global inside a hostgroup was not applied")
	}
}

func TestHostgroupNameIsLongestPrefix(t *testing.T) {
	c := parseOK(t, "hostgroup a/b x # c\n")
	if g := c.HostGroup("a"); g == nil || !reflect.DeepEqual(g.Hosts, []string{"/b", "x", "#", "c"}) {
		t.Errorf("hostgroup a = %+v", g)
	}
}

func TestHostgroupRedefined(t *testing.T) {
	c := parseOK(t, "hostgroup a x\n\nhostgroup b y\n\nhostgroup a z\n")
	if len(c.HostGroups) != 2 || c.HostGroups[0].Name != "a" || !reflect.DeepEqual(c.HostGroups[0].Hosts, []string{"z"}) {
		t.Errorf("groups = %+v %+v", c.HostGroups[0], c.HostGroups[1])
	}
	if !hasWarning(c, "mon.cf:5: warning: hostgroup a redefined") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestHostgroupSwallowsWatch(t *testing.T) {
	c := parseOK(t, "hostgroup g h1\nwatch g\n    service ping\n")
	if len(c.Watches) != 0 || !reflect.DeepEqual(c.HostGroup("g").Hosts, []string{"h1", "watch", "g", "service", "ping"}) {
		t.Errorf("watches = %d, hosts = %q", len(c.Watches), c.HostGroup("g").Hosts)
	}
	if !hasWarning(c, "mon.cf:2: warning: line taken as hosts of hostgroup g: 'watch g'; a hostgroup ends only at a blank line") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestDisabledHostsSurviveReread(t *testing.T) {
	prev := parseOK(t, "hostgroup g a b c\n\nhostgroup other a\n")
	prev.HostGroup("g").Hosts[1] = "*b" // disabled via the protocol
	c, err := Parse("mon.cf", []byte("hostgroup g a\n  b c d\n\nhostgroup other a b\n"), LoadOptions{HostDisabled: DisabledIn(prev)})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.HostGroup("g").Hosts; !reflect.DeepEqual(got, []string{"a", "*b", "c", "d"}) {
		t.Errorf("hosts of g = %q", got)
	}
	if got := c.HostGroup("other").Hosts; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("hosts of other = %q", got)
	}
}

func TestView(t *testing.T) {
	c := parseOK(t, "view v1 web db:ping\n   web mail\n\nview v2\n\nview v1 x\n")
	if len(c.Views) != 1 || !reflect.DeepEqual(c.Views[0].Members, []string{"x"}) || c.Views[0].Pos.Line != 6 {
		t.Errorf("views = %+v", c.Views)
	}
	if !hasWarning(c, "mon.cf:4: warning: line ignored: 'view v2'") {
		t.Errorf("warnings = %q", warnings(c))
	}
	c = parseOK(t, "view v1 web db:ping\n   web mail\n")
	if !reflect.DeepEqual(c.Views[0].Members, []string{"web", "db:ping", "mail"}) {
		t.Errorf("members = %q", c.Views[0].Members)
	}
}

func TestAlias(t *testing.T) {
	c := parseOK(t, "alias web\nservice http\nwatch web service http items x y\nhistlength = 5\nurl http://x/\n\nalias web\nmore text\n")
	want := []string{"service http", "watch web service http items x y", "url http://x/", "more text"}
	if len(c.Aliases) != 1 || !reflect.DeepEqual(c.Aliases[0].Lines, want) {
		t.Errorf("aliases = %+v", c.Aliases)
	}
	if c.Globals.HistLength != 5 {
		t.Error("a `word = value` line in an alias is a global")
	}
}

func TestWatchImplicitGroup(t *testing.T) {
	c := parseOK(t, "hostgroup unused u1\n\nwatch lonely\n    service s\n        interval 1m\n")
	w := c.Watch("lonely")
	if w == nil || !w.Implicit || !reflect.DeepEqual(c.HostGroup("lonely").Hosts, []string{"lonely"}) {
		t.Fatalf("watch = %+v, group = %+v", w, c.HostGroup("lonely"))
	}
	var legacy []string
	for _, d := range c.Warnings {
		if d.Legacy != "" {
			legacy = append(legacy, d.Legacy)
		}
	}
	want := []string{
		"Warning: watch group lonely defined with no corresponding hostgroup.",
		"Warning: hostgroup unused has no watch assigned to it!",
	}
	if !reflect.DeepEqual(legacy, want) {
		t.Errorf("mon warnings = %q, want %q", legacy, want)
	}
}

func TestWatchTrailingText(t *testing.T) {
	c := parseOK(t, "hostgroup web a\n\nwatch web servers\n")
	if c.Watch("web") == nil || !hasWarning(c, "text after the watch name is ignored: 'servers'") {
		t.Errorf("watches %+v warnings %q", c.Watches, warnings(c))
	}
}

func TestBlankLineEndsWatch(t *testing.T) {
	c := parseOK(t, svcHeader+"        interval 1m\n\n    service t\n        interval 2m\n")
	if len(c.Watch("g").Services) != 1 {
		t.Errorf("services = %d", len(c.Watch("g").Services))
	}
	if !hasWarning(c, "mon.cf:7: warning: line ignored: 'service t'; the blank line at line 6 ended watch g") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestTopLevelGarbageIgnored(t *testing.T) {
	c := parseOK(t, "hostgrup g a\n")
	if len(c.HostGroups) != 0 || !hasWarning(c, "mon.cf:1: warning: line ignored: 'hostgrup g a'") {
		t.Errorf("groups %d warnings %q", len(c.HostGroups), warnings(c))
	}
}

func TestBlocksInsideWatch(t *testing.T) {
	c := parseOK(t, "hostgroup g h\n\nwatch g\n    service s\n        interval 1m\nhostgroup k x\n\nwatch k\n    service t\n        interval 1m\nwatch g2\n    service u\n        interval 1m\n")
	if c.HostGroup("k") == nil || c.Watch("k") == nil || c.Watch("g2") == nil {
		t.Errorf("hostgroup/watch lines inside a watch must start new blocks: %+v", c.Watches)
	}
}

func TestGlobalLineInsideWatchIsAnError(t *testing.T) {
	e := parseErr(t, svcHeader+"        maxprocs = 3\n")
	if e.Legacy() != "cf error: unknown syntax [maxprocs = 3], line 5" {
		t.Errorf("legacy = %q", e.Legacy())
	}
}

func TestEnv(t *testing.T) {
	c := parseOK(t, svcHeader+"        MON_X=1 2\n        _Y=\n        MON_X=3\n        interval 1m\n")
	want := []config.EnvVar{{Name: "MON_X", Value: "3"}, {Name: "_Y", Value: ""}}
	if !reflect.DeepEqual(svc(c).Env, want) {
		t.Errorf("env = %+v", svc(c).Env)
	}
}

func TestServiceKeywords(t *testing.T) {
	for _, tc := range []struct {
		line  string
		check func(s *config.Service) bool
	}{
		{"interval 5m", func(s *config.Service) bool { return s.Interval == 5*time.Minute }},
		{"interval 0.5s", func(s *config.Service) bool { return s.Interval == 500*time.Millisecond }},
		{"failure_interval 30s", func(s *config.Service) bool { return s.FailureInterval == 30*time.Second }},
		{"monitor fping.monitor -r 2 ;;", func(s *config.Service) bool {
			return s.Monitor == "fping.monitor -r 2 ;;"
		}},
		{"allow_empty_group whatever", func(s *config.Service) bool { return s.AllowEmptyGroup }},
		{"keep_children", func(s *config.Service) bool { return s.KeepChildren }},
		{"host_verdicts", func(s *config.Service) bool { return s.HostVerdicts }},
		{"host_verdicts yes", func(s *config.Service) bool { return s.HostVerdicts && s.TracksHosts() }},
		{"host_verdicts no", func(s *config.Service) bool { return !s.HostVerdicts && !s.TracksHosts() }},
		{"flap_detection 20 25 50", func(s *config.Service) bool {
			return *s.Flap == config.FlapDetection{Window: 20, Low: 25, High: 50}
		}},
		{"flap_detection 10 12.5% 40%", func(s *config.Service) bool {
			return *s.Flap == config.FlapDetection{Window: 10, Low: 12.5, High: 40}
		}},
		{"monitor_timeout 0", func(s *config.Service) bool { return s.MonitorTimeout == config.Unbounded }},
		{"description a  b", func(s *config.Service) bool { return s.Description == "a  b" }},
		{"description", func(s *config.Service) bool { return s.Description == "" }},
		{"exclude_hosts h1 h2 h1", func(s *config.Service) bool { return reflect.DeepEqual(s.ExcludeHosts, []string{"h1", "h2"}) }},
		{"dep_behavior m", func(s *config.Service) bool { return s.DepBehavior == config.DepMonitor }},
		{"dep_behavior hm", func(s *config.Service) bool { return s.DepBehavior == config.DepHostMonitor }},
		{"dep_memory 10m", func(s *config.Service) bool { return s.DepMemory == 10*time.Minute }},
		{"randskew 10s", func(s *config.Service) bool { return s.RandSkew == 10*time.Second }},
		{"traptimeout 10m", func(s *config.Service) bool { return s.TrapTimeout == 10*time.Minute }},
		{"trapduration 1h", func(s *config.Service) bool { return s.TrapDuration == time.Hour }},
		{"redistribute file.alert -d /tmp x", func(s *config.Service) bool {
			return s.Redistribute == "file.alert -d /tmp x"
		}},
		{"unack_summary maybe", func(s *config.Service) bool { return s.UnackSummary }},
		{"unack_summary on", func(s *config.Service) bool { return !s.UnackSummary }},
		{"unack_summary 1", func(s *config.Service) bool { return s.UnackSummary }},
		{"monitor_timeout 45s", func(s *config.Service) bool { return s.MonitorTimeout == 45*time.Second }},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := parseOK(t, svcHeader+"        "+tc.line+"\n")
			if s := svc(c); !tc.check(s) {
				t.Errorf("%q: service = %+v", tc.line, s)
			}
		})
	}
}

func TestServiceDefaultsFollowGlobals(t *testing.T) {
	c := parseOK(t, "hostgroup g h\n\nwatch g\n    service a\n        interval 1m\n\n"+
		"dep_behavior = m\ndep_memory = 5m\nunack_summary = yes\n\nwatch g2\n    service b\n        interval 1m\n")
	a, b := c.Watch("g").Service("a"), c.Watch("g2").Service("b")
	if a.DepBehavior != config.DepAlert || a.DepMemory != 0 || a.UnackSummary {
		t.Errorf("service a = %+v", a)
	}
	if b.DepBehavior != config.DepMonitor || b.DepMemory != 5*time.Minute || !b.UnackSummary {
		t.Errorf("service b = %+v", b)
	}
}

func TestDepend(t *testing.T) {
	c := parseOK(t, "hostgroup g h\n\nwatch g\n    service ping\n        interval 1m\n    service s\n"+
		"        depend SELF:ping && (g:ping || !g:ping)\n        alertdepend g:ping\n        monitordepend g:ping\n"+
		"        hostdepend g:ping g:s\n")
	s := svc(c)
	if s.Depend == nil || s.Depend.String() != "g:ping && (g:ping || !g:ping)" {
		t.Fatalf("depend = %v", s.Depend)
	}
	if s.AlertDepend == nil || s.MonitorDepend == nil || s.HostDepend == nil || len(s.HostDepend.Refs()) != 2 {
		t.Errorf("service = %+v", s)
	}
}

func TestDependJuxtapositionWarns(t *testing.T) {
	c := parseOK(t, "hostgroup g h\n\nwatch g\n    service ping\n        interval 1m\n    service s\n        depend g:ping g:ping\n")
	if svc(c).Depend == nil || !hasWarning(c, "mon.cf:7: warning: depend:") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestDependHostMonitorIsAList(t *testing.T) {
	// With dep_behavior hm only the tokens matter, even if it comes later.
	c := parseOK(t, "hostgroup g h\n\nwatch g\n    service ping\n        interval 1m\n    service s\n        depend g:ping, g:ping\n        dep_behavior hm\n")
	if d := svc(c).Depend; d == nil || len(d.Refs()) != 2 {
		t.Errorf("depend = %v", d)
	}
}

func TestDependOnUnknownServiceWarns(t *testing.T) {
	c := parseOK(t, svcHeader+"        depend nowhere:ping\n")
	if !hasWarning(c, "depends on nowhere:ping, which is not defined") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestSchedule(t *testing.T) {
	c := parseOK(t, svcHeader+"        schedule */5 * * * *\n")
	if s := svc(c).Schedule; s == nil || s.String() != "*/5 * * * *" {
		t.Errorf("schedule = %v", s)
	}
}

func TestPeriods(t *testing.T) {
	c := parseOK(t, svcHeader+"        interval 1m\n"+
		"        period wd {Mon-Fri} hr {7am-10pm}\n"+
		"            alert mail.alert root\n"+
		"        period workhours: wd {Mon-Fri}\n"+
		"            alert mail.alert ops\n"+
		"        period\n"+
		"            alert file.alert x\n"+
		"        period NOALERTEVERY : wd {Sat-Sun}\n")
	ps := svc(c).Periods
	if len(ps) != 4 {
		t.Fatalf("periods = %d", len(ps))
	}
	for i, want := range []struct{ key, label, spec string }{
		{"wd {Mon-Fri} hr {7am-10pm}", "", "wd {Mon-Fri} hr {7am-10pm}"},
		{"workhours", "workhours", "wd {Mon-Fri}"},
		{"", "", ""},
		{"NOALERTEVERY", "NOALERTEVERY", "wd {Sat-Sun}"},
	} {
		if p := ps[i]; p.Key != want.key || p.Label != want.label || p.Spec.String() != want.spec {
			t.Errorf("period %d = %q %q %q, want %+v", i, p.Key, p.Label, p.Spec.String(), want)
		}
	}
	if ps[1].Pos.Line != 8 {
		t.Errorf("period pos = %v", ps[1].Pos)
	}
}

func TestPeriodKeywords(t *testing.T) {
	for _, tc := range []struct {
		line  string
		check func(p *config.Period) bool
	}{
		{"alert mail.alert -S \"a b\" root", func(p *config.Period) bool {
			a := p.Alerts[0]
			return a.Exit == nil && a.Name == "mail.alert" && reflect.DeepEqual(a.Args, []string{"-S", "a b", "root"}) &&
				a.RawArgs == `-S "a b" root` && a.Pos.Line == 7
		}},
		{"alert exit=1-2 mail.alert ops", func(p *config.Period) bool {
			a := p.Alerts[0]
			return *a.Exit == config.ExitRange{Lo: 1, Hi: 2} && a.Name == "mail.alert" && reflect.DeepEqual(a.Args, []string{"ops"})
		}},
		{"alert EXIT=3 x.alert", func(p *config.Period) bool {
			return *p.Alerts[0].Exit == config.ExitRange{Lo: 3, Hi: 3} && p.Alerts[0].Args == nil
		}},
		{"upalert mail.alert root", func(p *config.Period) bool { return p.UpAlerts[0].Name == "mail.alert" }},
		{"startupalert s.alert", func(p *config.Period) bool { return p.StartupAlerts[0].Name == "s.alert" }},
		{"ackalert a.alert", func(p *config.Period) bool { return p.AckAlerts[0].Name == "a.alert" }},
		{"disablealert d.alert", func(p *config.Period) bool { return p.DisableAlerts[0].Name == "d.alert" }},
		{"alertevery 15m", func(p *config.Period) bool {
			return p.AlertEvery == 15*time.Minute && p.AlertEveryMode == config.EverySummary
		}},
		{"alertevery 1h strict", func(p *config.Period) bool {
			return p.AlertEvery == time.Hour && p.AlertEveryMode == config.EveryStrict
		}},
		{"alertevery 1h OBSERVE_DETAIL", func(p *config.Period) bool { return p.AlertEveryMode == config.EveryObserveDetail }},
		{"alertevery 1h ignore_summary", func(p *config.Period) bool { return p.AlertEveryMode == config.EveryIgnoreSummary }},
		{"alertevery 1h summary", func(p *config.Period) bool {
			return p.AlertEvery == time.Hour && p.AlertEveryMode == config.EverySummary
		}},
		{"alertafter 3", func(p *config.Period) bool { return p.AlertAfterCount == 3 && p.AlertAfterTime == 0 }},
		{"alertafter 10m", func(p *config.Period) bool { return p.AlertAfterCount == 0 && p.AlertAfterTime == 10*time.Minute }},
		{"alertafter 2 30m", func(p *config.Period) bool { return p.AlertAfterCount == 2 && p.AlertAfterTime == 30*time.Minute }},
		{"upalertafter 5m", func(p *config.Period) bool { return p.UpAlertAfter == 5*time.Minute }},
		{"numalerts 10", func(p *config.Period) bool { return p.NumAlerts == 10 }},
		{"no_comp_alerts", func(p *config.Period) bool { return p.NoCompAlerts }},
		{"alerts_dont_count", func(p *config.Period) bool { return p.AlertsDontCount }},
		{"alert_per_host yes", func(p *config.Period) bool { return p.AlertPerHost && !p.AlertOnPeriodStart }},
		{"alert_per_host no", func(p *config.Period) bool { return !p.AlertPerHost }},
		{"alert_on_period_start yes", func(p *config.Period) bool { return p.AlertOnPeriodStart }},
		{"alertexitrange 2-5", func(p *config.Period) bool { return *p.AlertExitRange == config.ExitRange{Lo: 2, Hi: 5} }},
		{"alertexitrange 7", func(p *config.Period) bool { return *p.AlertExitRange == config.ExitRange{Lo: 7, Hi: 7} }},
		{"MON_X=1", func(p *config.Period) bool { return true }},
	} {
		t.Run(tc.line, func(t *testing.T) {
			c := parseOK(t, svcHeader+"        interval 10m\n        period wd {Sun-Sat}\n            "+tc.line+"\n")
			if p := svc(c).Periods[0]; !tc.check(p) {
				t.Errorf("%q: period = %+v", tc.line, p)
			}
		})
	}
}

func TestEnvInsidePeriodBelongsToService(t *testing.T) {
	c := parseOK(t, svcHeader+"        period\n            alert a.alert\n            MON_X=1\n")
	if !reflect.DeepEqual(svc(c).Env, []config.EnvVar{{Name: "MON_X", Value: "1"}}) {
		t.Errorf("env = %+v", svc(c).Env)
	}
}

func TestServiceInsidePeriodStartsService(t *testing.T) {
	c := parseOK(t, svcHeader+"        period\n            alert a.alert\n    service t\n        interval 1m\n")
	if w := c.Watch("g"); len(w.Services) != 2 || w.Service("t").Interval != time.Minute {
		t.Errorf("services = %+v", w.Services)
	}
}
