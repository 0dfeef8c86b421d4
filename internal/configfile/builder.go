package configfile

import (
	"time"

	"github.com/gomon/gomon/internal/config"

	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gomon/gomon/internal/depend"
	"github.com/gomon/gomon/internal/period"
	"github.com/gomon/gomon/internal/shellwords"
)

// builder assembles a Config from a sequence of semantic steps (a
// hostgroup, a service keyword, ...). Both readers drive it: the mon.cf
// parser after classifying lines, the HCL reader after walking blocks, so
// every validation rule exists once.
type builder struct {
	cfg      *config.Config
	opts     LoadOptions
	errs     []config.Diagnostic
	defaults serviceDefaults

	group *config.HostGroup // open hostgroup block
	view  *config.View      // open view block
	alias *config.Alias     // open alias block

	watch   *config.Watch   // open watch; detached (not in cfg) after an error
	service *config.Service // current service of the watch; detached after an error
	period  *config.Period  // current period of the service

	// spec is the current service's spec while it is read;
	// endService gives the service its own or a shared copy.
	spec  config.ServiceSpec
	specs specs

	pendingDepends []pendingDepend

	authfilePos, userfilePos, authtypePos *config.Pos
	clusterPos                            *config.Pos // the last cluster_* global, for the cross-checks

	// Indexes by name: a configuration may have a hundred thousand
	// groups, and a linear search per line made reading it quadratic.
	groups  map[string]*config.HostGroup
	watches map[string]*config.Watch
}

// pendingDepend is a dependency line kept until its service is complete,
// because a `dep_behavior hm` further down changes how `depend` is read.
type pendingDepend struct {
	svc     *config.Service
	keyword string
	text    string
	pos     config.Pos
}

func newBuilder(name string, opts LoadOptions) *builder {
	g := Defaults()
	if opts.Globals != nil {
		g = *opts.Globals
	}
	return &builder{
		cfg:      &config.Config{Source: name, Globals: g},
		opts:     opts,
		groups:   map[string]*config.HostGroup{},
		watches:  map[string]*config.Watch{},
		defaults: serviceDefaults{depBehavior: config.DepAlert},
	}
}

func (b *builder) fail(pos config.Pos, p *problem) {
	if p != nil {
		b.errs = append(b.errs, p.diagnostic(pos))
	}
}

// warn records a gomon warning (mon is silent in these cases).
func (b *builder) warn(pos config.Pos, msg, hint string) {
	b.cfg.Warnings = append(b.cfg.Warnings, config.Diagnostic{Pos: pos, Msg: "warning: " + msg, Hint: hint})
}

// monWarn records one of mon's own stderr warnings, text unchanged.
func (b *builder) monWarn(pos config.Pos, text string) {
	b.cfg.Warnings = append(b.cfg.Warnings, config.Diagnostic{Pos: pos, Msg: text, Legacy: text})
}

// endBlock is a blank line: every open block ends.
func (b *builder) endBlock() {
	b.endService()
	b.group, b.view, b.alias, b.watch = nil, nil, nil, nil
}

// --- hostgroup, view, alias (config.md §7) ---

func (b *builder) hostgroup(pos config.Pos, name string, hosts []string) {
	b.endBlock()
	g := b.groups[name]
	if g == nil {
		g = &config.HostGroup{Name: name}
		b.cfg.HostGroups = append(b.cfg.HostGroups, g)
		b.groups[name] = g
	} else {
		b.warn(pos, fmt.Sprintf("hostgroup %s redefined; the hosts defined at %s are replaced", name, g.Pos), "")
	}
	g.Pos = pos
	g.Hosts = nil
	b.group = g
	b.addHosts(hosts)
}

// addHosts adds hosts to the open hostgroup. A host that was disabled in
// the running daemon keeps its "*" mark across a re-read (config.md §7.1).
func (b *builder) addHosts(hosts []string) {
	for _, h := range hosts {
		if b.opts.HostDisabled != nil && b.opts.HostDisabled(b.group.Name, h) {
			h = "*" + h
		}
		b.group.Hosts = append(b.group.Hosts, h)
	}
}

func (b *builder) startView(pos config.Pos, name string, members []string) {
	b.endBlock()
	v := &config.View{Name: name, Pos: pos}
	replaced := false
	for i, old := range b.cfg.Views {
		if old.Name == name {
			b.cfg.Views[i], replaced = v, true
		}
	}
	if !replaced {
		b.cfg.Views = append(b.cfg.Views, v)
	}
	b.view = v
	b.addMembers(members)
}

// addMembers adds view members; mon keeps them in a set.
func (b *builder) addMembers(members []string) {
	for _, m := range members {
		if !contains(b.view.Members, m) {
			b.view.Members = append(b.view.Members, m)
		}
	}
}

func (b *builder) startAlias(pos config.Pos, name string) {
	b.endBlock()
	for _, a := range b.cfg.Aliases {
		if a.Name == name { // a repeated alias appends
			b.alias = a
			return
		}
	}
	b.alias = &config.Alias{Name: name, Pos: pos}
	b.cfg.Aliases = append(b.cfg.Aliases, b.alias)
}

func (b *builder) aliasLine(text string) {
	b.alias.Lines = append(b.alias.Lines, text)
}

// --- watch and service (config.md §8) ---

func (b *builder) startWatch(pos config.Pos, name string) {
	b.endBlock()
	w := &config.Watch{Name: name, Pos: pos}
	if b.groups[name] == nil {
		g := &config.HostGroup{Name: name, Hosts: []string{name}, Pos: pos}
		b.cfg.HostGroups = append(b.cfg.HostGroups, g)
		b.groups[name] = g
		w.Implicit = true
		b.monWarn(pos, "Warning: watch group "+name+" defined with no corresponding hostgroup.")
	}
	if b.watches[name] != nil {
		b.fail(pos, errf("watch '%s' already defined", name))
		b.watch = w // detached: its services are still checked
		return
	}
	b.cfg.Watches = append(b.cfg.Watches, w)
	b.watches[name] = w
	b.watch = w
}

// nameRE is the name syntax of watches and services.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

func (b *builder) startService(pos config.Pos, name string) {
	b.endService()
	b.spec = config.ServiceSpec{
		DepBehavior:  b.defaults.depBehavior,
		DepMemory:    b.defaults.depMemory,
		UnackSummary: b.defaults.unackSummary,
	}
	s := &config.Service{Name: b.specs.name(name), Pos: pos, ServiceSpec: &b.spec}
	b.service = s // detached unless valid
	switch {
	case !nameRE.MatchString(name):
		b.fail(pos, errf("invalid service tag '%s'", name).withHint("a service name uses only A-Z a-z 0-9 _ . -"))
	case b.watch.Service(name) != nil:
		b.fail(pos, errf("service %s already defined for watch group %s", name, b.watch.Name))
	default:
		b.watch.Services = append(b.watch.Services, s)
	}
}

// endService finishes the current service: dependency lines are parsed now
// that its dep_behavior is known, and the spec read is handed over.
func (b *builder) endService() {
	for _, d := range b.pendingDepends {
		b.parseDepend(d)
	}
	b.pendingDepends = nil
	if b.service != nil {
		b.service.ServiceSpec = b.specs.spec(&b.spec)
	}
	b.service, b.period = nil, nil
}

func (b *builder) parseDepend(d pendingDepend) {
	var e *depend.Expr
	// Only the tokens matter for hostdepend, and for depend when
	// dep_behavior is hm (scheduling §11).
	if d.keyword == "hostdepend" || (d.keyword == "depend" && d.svc.DepBehavior == config.DepHostMonitor) {
		e = depend.ParseList(d.text, b.watch.Name)
	} else {
		var err error
		e, err = depend.Parse(d.text, b.watch.Name)
		if err != nil {
			b.fail(d.pos, errf("invalid dependency expression '%s'", d.text).withHint("%v", err))
			return
		}
	}
	for _, w := range e.Warnings() {
		b.warn(d.pos, d.keyword+": "+w, "")
	}
	switch d.keyword {
	case "depend":
		d.svc.Depend = e
	case "alertdepend":
		d.svc.AlertDepend = e
	case "monitordepend":
		d.svc.MonitorDepend = e
	case "hostdepend":
		d.svc.HostDepend = e
	}
}

// env records a VAR=value line of the current service. A repeated name
// replaces the value (mon keeps them in a hash).
func (b *builder) env(pos config.Pos, name, value string) {
	if b.service == nil {
		b.fail(pos, errf("environment variable defined without a service"))
		return
	}
	for i := range b.service.Env {
		if b.service.Env[i].Name == name {
			b.service.Env[i].Value = value
			return
		}
	}
	b.service.Env = append(b.service.Env, config.EnvVar{Name: name, Value: value})
}

// MinInterval is the shortest interval and failure_interval accepted (a
// gomon limit: mon takes any positive value, down to a busy loop).
const MinInterval = 100 * time.Millisecond

// serviceTimevals are the service keywords taking a positive timeval.
var serviceTimevals = map[string]string{
	"interval":         "invalid time interval '%s' (syntax: interval = {positive number}{smhd})",
	"failure_interval": "invalid interval '%s' (syntax: failure_interval = {positive number}{smhd})",
	"traptimeout":      "invalid traptimeout interval '%s' (syntax: traptimeout = {positive number}{smhd})",
	"trapduration":     "invalid trapduration interval '%s' (syntax: trapduration = {positive number}{smhd})",
	"randskew":         "invalid randskew time interval '%s' (syntax: randskew = {positive number}{smhd})",
	"monitor_timeout":  "invalid monitor_timeout interval '%s' (syntax: monitor_timeout = {positive number}{smhd})",
}

// serviceKeyword applies one service keyword line (config.md §8.1) and
// reports whether kw is a service keyword at all.
func (b *builder) serviceKeyword(pos config.Pos, kw, arg string) bool {
	s := b.service
	if kw == "monitor_timeout" && trimSpace(arg) == "0" {
		s.MonitorTimeout = config.Unbounded // mon's behaviour: no bound
		return true
	}
	if msg, ok := serviceTimevals[kw]; ok {
		d, ok := parseTimeval(arg)
		if !ok || d == 0 {
			b.fail(pos, timevalError(msg, ok, arg).withHint("%s", timevalHint))
			return true
		}
		if (kw == "interval" || kw == "failure_interval") && d < MinInterval {
			b.fail(pos, errf("%s %s is below the minimum of %v", kw, arg, MinInterval).
				withHint("a monitor run every few milliseconds is a busy loop, not a check"))
			return true
		}
		switch kw {
		case "interval":
			s.Interval = d
		case "failure_interval":
			s.FailureInterval = d
		case "traptimeout":
			s.TrapTimeout = d
		case "trapduration":
			s.TrapDuration = d
		case "randskew":
			s.RandSkew = d
		case "monitor_timeout":
			s.MonitorTimeout = d
		}
		b.checkScheduleConflict(pos)
		return true
	}

	switch kw {
	case "monitor":
		if firstWord(arg) == "" {
			b.fail(pos, errf("missing monitor name [monitor %s]", arg).withHint("expected: monitor NAME [ARGS...]"))
			return true
		}
		s.Monitor = arg
	case "redistribute":
		if firstWord(arg) == "" {
			b.fail(pos, errf("missing alert name [redistribute %s]", arg).withHint("expected: redistribute ALERT [ARGS...]"))
			return true
		}
		s.Redistribute = arg
	case "allow_empty_group":
		s.AllowEmptyGroup = true
	case "keep_children":
		s.KeepChildren = true
	case "host_verdicts":
		s.HostVerdicts = b.switchValue(pos, kw, arg)
	case "flap_detection":
		f, prob := parseFlapDetection(arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		s.Flap = f
	case "cluster_scope":
		switch trimSpace(arg) {
		case "shard":
			s.ClusterScope = config.ScopeShard
		case "all":
			s.ClusterScope = config.ScopeAll
		default:
			b.fail(pos, errf("invalid cluster_scope '%s' (syntax: cluster_scope shard|all)", arg).
				withHint("shard: the service's owner alone runs it; all: every node of the cluster runs it"))
		}
	case "description":
		s.Description = arg
	case "exclude_hosts":
		s.ExcludeHosts = nil
		for _, h := range fields(arg) {
			if !contains(s.ExcludeHosts, h) {
				s.ExcludeHosts = append(s.ExcludeHosts, h)
			}
		}
	case "exclude_period":
		spec, err := period.Parse(arg)
		if err != nil {
			b.fail(pos, errf("malformed exclude_period '%s' (the specified time period is not valid as per Time::Period::inPeriod)", arg).withHint("%v", err))
			return true
		}
		s.ExcludePeriod = &spec
	case "depend", "alertdepend", "monitordepend", "hostdepend":
		b.pendingDepends = append(b.pendingDepends, pendingDepend{svc: s, keyword: kw, text: arg, pos: pos})
	case "dep_behavior":
		db, ok := depBehaviors[arg]
		if !ok {
			b.fail(pos, errf("unknown dependency behavior '%s' (syntax: dep_behavior = {m|a})", arg).withHint("expected a, m or hm"))
			return true
		}
		s.DepBehavior = db
	case "dep_memory":
		d, ok := parseTimeval(arg)
		if !ok || d == 0 {
			b.fail(pos, errf("bad value '%s' for dep_memory option (syntax: dep_memory = timeval)", arg).withHint("expected a positive timeval; %s", timevalHint))
			return true
		}
		s.DepMemory = d
	case "unack_summary":
		u, prob := unackSummary(arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		s.UnackSummary = u
	case "snmptrap":
		r, prob := parseSNMPTrapRule(pos, arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		s.SNMPTraps = append(s.SNMPTraps, r)
	case "downtime":
		d, prob := parseDowntime(pos, arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		s.Downtimes = append(s.Downtimes, d)
	case "schedule":
		sch, err := period.ParseSchedule(arg)
		if err != nil {
			b.fail(pos, errf("invalid schedule '%s' (syntax: schedule = CRON-EXPRESSION)", arg).withHint("%v", err))
			return true
		}
		s.Schedule = sch
		b.checkScheduleConflict(pos)
	default:
		return false
	}
	return true
}

// checkScheduleConflict rejects `schedule` together with `interval`: both
// decide when the monitor runs.
func (b *builder) checkScheduleConflict(pos config.Pos) {
	if b.service.Schedule != nil && b.service.Interval != 0 {
		b.fail(pos, errf("service %s has both interval and schedule", b.service.Name).withHint("use one of them"))
	}
}

// switchValue reads the argument of a gomon on/off keyword: nothing,
// yes, on, true or 1 is on; no, off, false or 0 is off.
func (b *builder) switchValue(pos config.Pos, kw, arg string) bool {
	switch strings.ToLower(trimSpace(arg)) {
	case "", "yes", "y", "on", "true", "1":
		return true
	case "no", "n", "off", "false", "0":
		return false
	}
	b.fail(pos, errf("invalid %s value '%s' (syntax: %s [yes|no])", kw, arg, kw))
	return false
}

// MaxFlapWindow bounds flap_detection's window: the state keeps that many
// results per service.
const MaxFlapWindow = 100

// parseFlapDetection reads "N LOW HIGH": a window of 3 to MaxFlapWindow
// results and the two percentages, LOW not above HIGH.
func parseFlapDetection(arg string) (*config.FlapDetection, *problem) {
	bad := func(why string) *problem {
		return errf("invalid flap_detection '%s' (syntax: flap_detection RESULTS LOW%% HIGH%%)", arg).withHint("%s", why)
	}
	f := fields(arg)
	if len(f) != 3 {
		return nil, bad("expected three numbers, e.g. flap_detection 20 25 50")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 3 || n > MaxFlapWindow {
		return nil, bad(fmt.Sprintf("the number of results is a whole number from 3 to %d", MaxFlapWindow))
	}
	low, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
	high, err2 := strconv.ParseFloat(strings.TrimSuffix(f[2], "%"), 64)
	if err1 != nil || err2 != nil || low < 0 || high > 100 || low > high {
		return nil, bad("LOW and HIGH are percentages, 0 <= LOW <= HIGH <= 100")
	}
	return &config.FlapDetection{Window: n, Low: low, High: high}, nil
}

// --- periods (config.md §9) ---

var periodLabelRE = regexp.MustCompile(`(?i)^([a-z_][a-z0-9_]*)[ \t\n\r\f\v]*:[ \t\n\r\f\v]*(.*)$`)

// splitPeriodLabel splits the argument of a `period` line into label and
// spec; label is "" when there is none.
func splitPeriodLabel(arg string) (label, spec string) {
	if m := periodLabelRE.FindStringSubmatch(arg); m != nil {
		return m[1], m[2]
	}
	return "", arg
}

// startPeriod begins a period of the current service. The key is the label,
// or the spec as written when there is no label.
func (b *builder) startPeriod(pos config.Pos, label, specText string) {
	s := b.service
	key := label
	if label == "" {
		key = specText
	}
	p := &config.Period{Key: key, Label: label, Pos: pos}
	b.period = p // detached unless valid
	for _, old := range s.Periods {
		if old.Key == key {
			b.fail(pos, errf("period '%s' already defined for watch group %s service %s", key, b.watch.Name, s.Name))
			return
		}
	}
	spec, err := period.Parse(specText)
	if err != nil {
		b.fail(pos, errf("malformed period '%s' (the specified time period is not valid as per Time::Period::inPeriod)", specText).withHint("%v", err))
		return
	}
	p.Spec = spec
	s.Periods = append(s.Periods, p)
}

var (
	exitRangeRE        = regexp.MustCompile(`^[ \t\n\r\f\v]*([0-9]+)(?:-([0-9]+))?[ \t\n\r\f\v]*$`)
	alertAfterTimeRE   = regexp.MustCompile(`^[0-9]+[hms]$`)
	alertAfterBothRE   = regexp.MustCompile(`([0-9]+)[ \t\n\r\f\v]+([0-9]+[hms])$`)
	numalertsRE        = regexp.MustCompile(`^[0-9]+$`)
	everyObserveRE     = regexp.MustCompile(`(?i)([^ \t\n\r\f\v]+)[ \t\n\r\f\v]+observe_detail[ \t\n\r\f\v]*$`)
	everyIgnoreRE      = regexp.MustCompile(`(?i)([^ \t\n\r\f\v]+)[ \t\n\r\f\v]+ignore_summary[ \t\n\r\f\v]*$`)
	everySummaryRE     = regexp.MustCompile(`(?i)([^ \t\n\r\f\v]+)[ \t\n\r\f\v]+summary`)
	everyStrictRE      = regexp.MustCompile(`(?i)([^ \t\n\r\f\v]+)[ \t\n\r\f\v]+strict[ \t\n\r\f\v]*$`)
	alertAfterSyntaxTV = "invalid time interval '%s' (syntax: alertafter = [{positive integer}] [{positive number}{smhd}])"
)

// parseExitRange reads "N" or "N-M". A number beyond any exit status
// (Perl would read a huge one as a float that every status is below) and
// a range whose end is below its start (that would match nothing) are
// problems, not ranges.
func parseExitRange(s string) (*config.ExitRange, *problem) {
	m := exitRangeRE.FindStringSubmatch(s)
	if m == nil {
		return nil, errf("invalid exit code range '%s'", s).withHint("expected N or N-M")
	}
	lo, err1 := strconv.Atoi(m[1])
	hi, err2 := lo, error(nil)
	if m[2] != "" {
		hi, err2 = strconv.Atoi(m[2])
	}
	switch {
	case err1 != nil || err2 != nil || hi > maxExitValue:
		return nil, errf("invalid exit code range '%s'", s).withHint("an exit value is at most %d", maxExitValue)
	case hi < lo:
		return nil, errf("invalid exit code range '%s'", s).withHint("the range %d-%d is empty; write the smaller value first", lo, hi)
	}
	return &config.ExitRange{Lo: lo, Hi: hi}, nil
}

// maxExitValue is the largest exit value a monitor reports: 255 from
// exit(2), and 128+N for a monitor killed by signal N (N < 128).
const maxExitValue = 255

// periodKeyword applies one period keyword line (config.md §9.2) and
// reports whether kw is a period keyword at all.
func (b *builder) periodKeyword(pos config.Pos, kw, arg string) bool {
	p := b.period
	switch kw {
	case "alert", "upalert", "startupalert", "ackalert", "disablealert":
		a, prob := parseAlertLine(arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		a.Pos = pos
		switch kw {
		case "alert":
			p.Alerts = append(p.Alerts, a)
		case "upalert":
			p.UpAlerts = append(p.UpAlerts, a)
		case "startupalert":
			p.StartupAlerts = append(p.StartupAlerts, a)
		case "ackalert":
			p.AckAlerts = append(p.AckAlerts, a)
		case "disablealert":
			p.DisableAlerts = append(p.DisableAlerts, a)
		}
	case "alertevery":
		b.alertEvery(pos, arg)
	case "alertafter":
		b.alertAfter(pos, arg)
	case "upalertafter":
		d, ok := parseTimeval(arg)
		if !ok || d == 0 {
			b.fail(pos, timevalError("invalid upalertafter specification '%s' (syntax: upalertafter = {positive number}{smhd})", ok, arg))
			return true
		}
		p.UpAlertAfter = d
	case "numalerts":
		n, err := strconv.Atoi(arg)
		if !numalertsRE.MatchString(arg) || err != nil {
			b.fail(pos, errf("-numeric arg '%s' (syntax: numalerts = {positive integer}", arg))
			return true
		}
		p.NumAlerts = n
	case "no_comp_alerts":
		p.NoCompAlerts = true
	case "alerts_dont_count":
		p.AlertsDontCount = true
	case "alert_per_host":
		p.AlertPerHost = b.switchValue(pos, kw, arg)
	case "alert_on_period_start":
		p.AlertOnPeriodStart = b.switchValue(pos, kw, arg)
	case "alertexitrange":
		r, prob := parseExitRange(arg)
		if prob != nil {
			b.fail(pos, prob)
			return true
		}
		p.AlertExitRange = r
	default:
		return false
	}
	return true
}

// alertEvery mirrors mon's sequence of modifier tests, including that the
// tests are not anchored at the start of the argument.
func (b *builder) alertEvery(pos config.Pos, arg string) {
	p := b.period
	mode := config.EverySummary
	val := arg
	for _, t := range []struct {
		re   *regexp.Regexp
		mode config.AlertEveryMode
	}{
		{everyObserveRE, config.EveryObserveDetail},
		{everyIgnoreRE, config.EveryIgnoreSummary},
		{everySummaryRE, config.EverySummary},
		{everyStrictRE, config.EveryStrict},
	} {
		if m := t.re.FindStringSubmatch(arg); m != nil {
			mode, val = t.mode, m[1]
			break
		}
	}
	d, ok := parseTimeval(val)
	if !ok || d == 0 {
		b.fail(pos, timevalError("invalid time interval '%s' (syntax: alertevery {positive number}{smhd} [ strict | observe_detail | ignore_summary ])", ok, val))
		return
	}
	p.AlertEvery, p.AlertEveryMode = d, mode
}

// alertAfter reads the three forms NUM, TIME and NUM TIME.
func (b *builder) alertAfter(pos config.Pos, arg string) {
	p := b.period
	if numalertsRE.MatchString(arg) {
		n, err := strconv.Atoi(arg)
		if err != nil {
			b.fail(pos, errf("invalid interval specification '%s'", arg).withHint("number out of range"))
			return
		}
		p.AlertAfterCount, p.AlertAfterTime = n, 0
		return
	}
	if alertAfterTimeRE.MatchString(arg) {
		d, ok := parseTimeval(arg)
		if !ok || d == 0 {
			b.fail(pos, errf(alertAfterSyntaxTV, arg))
			return
		}
		p.AlertAfterCount, p.AlertAfterTime = 0, d
		return
	}
	m := alertAfterBothRE.FindStringSubmatch(arg)
	n, err := 0, error(nil)
	if m != nil {
		n, err = strconv.Atoi(m[1])
	}
	if m == nil || err != nil {
		b.fail(pos, errf("invalid interval specification '%s'", arg).withHint("expected alertafter N, alertafter TIME or alertafter N TIME with TIME like 30m (units h, m, s)"))
		return
	}
	d, _ := parseTimeval(m[2])
	// (NUM-1) failures spaced by interval must fit into TIME, else the
	// rule can never fire. interval is what was read so far (0 if none).
	if float64(n-1)*b.service.Interval.Seconds() >= d.Seconds() {
		b.fail(pos, errf(" interval & alertafter not sensible. No alerts can be generated with those parameters"))
		return
	}
	if lead := trimSpace(strings.TrimSuffix(arg, m[0])); lead != "" {
		b.warn(pos, "alertafter: text before the count is ignored: '"+lead+"'", "")
	}
	p.AlertAfterCount, p.AlertAfterTime = n, d
}

var (
	exitWordRE   = regexp.MustCompile(`(?i)^exit=([0-9]+(?:-[0-9]+)?)$`)
	exitPrefixRE = regexp.MustCompile(`(?i)^exit[ \t\n\r\f\v]*=`)
)

// parseAlertLine reads "[exit=R] [local] NAME [ARGS...]" (config.md §9.3;
// "local" is gomon's, docs/cluster.md).
func parseAlertLine(arg string) (config.AlertLine, *problem) {
	var a config.AlertLine
	rest := arg
	if exitPrefixRE.MatchString(rest) {
		word, after := cutWord(rest)
		m := exitWordRE.FindStringSubmatch(word)
		if m == nil {
			// mon would take "exit" or "=" as the alert name (Q-CFG-10).
			return a, errf("invalid exit code range in alert line '%s'", arg).
				withHint("write exit=N or exit=N-M without blanks, then the alert name")
		}
		r, prob := parseExitRange(m[1])
		if prob != nil {
			return a, prob
		}
		a.Exit, rest = r, after
	}
	a.Name, a.RawArgs = cutWord(rest)
	if a.Name == "local" && a.RawArgs != "" {
		// "local" alone is a program of that name; script:local names
		// one followed by arguments.
		a.Local = true
		a.Name, a.RawArgs = cutWord(a.RawArgs)
	}
	if a.Name == "" {
		return a, errf("missing alert name in alert line '%s'", arg).withHint("expected [exit=R] ALERT [ARGS...]")
	}
	args, err := shellwords.Split(a.RawArgs)
	if err != nil {
		return a, errf("bad alert arguments '%s'", a.RawArgs).withHint("%v", err)
	}
	a.Args = args
	return a, nil
}

// cutWord splits off the first blank-separated word; rest has its leading
// blanks removed.
func cutWord(s string) (word, rest string) {
	s = trimLeft(s)
	i := 0
	for i < len(s) && !isSpace(s[i]) {
		i++
	}
	return s[:i], trimLeft(s[i:])
}

func firstWord(s string) string {
	w, _ := cutWord(s)
	return w
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// finish runs the checks that need the whole file and returns the result.
func (b *builder) finish() (*config.Config, error) {
	b.endBlock()
	c := b.cfg
	for _, g := range c.HostGroups {
		if b.watches[g.Name] == nil {
			b.monWarn(g.Pos, "Warning: hostgroup "+g.Name+" has no watch assigned to it!")
		}
	}
	b.checkDependRefs()
	b.checkCluster()
	b.checkAuthType()
	if b.opts.Cwd != "" {
		b.checkAuthFiles()
	}
	if len(b.errs) > 0 {
		sort.SliceStable(b.errs, func(i, j int) bool { return b.errs[i].Pos.Line < b.errs[j].Pos.Line })
		return nil, &Error{Diags: b.errs, Warnings: c.Warnings}
	}
	return c, nil
}

// checkCluster checks the cluster_* globals against each other.
func (b *builder) checkCluster() {
	c, pos := b.cfg.Globals.Cluster, b.clusterPos
	if pos == nil {
		return
	}
	if !c.Enabled() {
		b.warn(*pos, "cluster settings without cluster_etcd are ignored: gomon runs alone", "")
		return
	}
	if (c.Cert == "") != (c.Key == "") {
		b.fail(*pos, errf("cluster_etcd_cert and cluster_etcd_key go together").withHint("a client certificate needs its key, and a key its certificate"))
	}
	if (c.User == "") != (c.PasswordFile == "") {
		b.fail(*pos, errf("cluster_etcd_user and cluster_etcd_password_file go together").withHint("etcd's authentication takes a user name and its password"))
	}
}

// checkDependRefs warns about dependencies on services that do not exist:
// mon counts them as failing (config.md §10).
func (b *builder) checkDependRefs() {
	for _, w := range b.cfg.Watches {
		for _, s := range w.Services {
			for _, e := range []*depend.Expr{s.Depend, s.AlertDepend, s.MonitorDepend, s.HostDepend} {
				if e == nil {
					continue
				}
				for _, r := range e.Refs() {
					if ww := b.watches[r.Group]; ww == nil || ww.Service(r.Service) == nil {
						b.warn(s.Pos, fmt.Sprintf("service %s:%s depends on %s, which is not defined; it counts as failing", w.Name, s.Name, r), "")
					}
				}
			}
		}
	}
}
