package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteHCL prints c in gomon's HCL format. Reading the output with
// ParseHCL gives the same model, positions and warnings aside. Globals
// equal to the built-in defaults are left out. Values that are not valid
// UTF-8 cannot be written (HCL strings are Unicode).
func WriteHCL(w io.Writer, c *config.Config) error {
	return writeHCL(w, c, nil)
}

// Convert prints the configuration file path (mon.cf, m4 or HCL) as HCL
// for `mon convert`: what the file says, neither the defaults nor the
// paths derived from basedir and the other globals (those are derived
// again when the output is read), with the file's comments kept next to
// the block they precede.
func Convert(w io.Writer, path string, opts LoadOptions) error {
	path, src, err := readSource(path, &opts)
	if err != nil {
		return err
	}
	var c *config.Config
	if strings.HasSuffix(path, ".hcl") {
		c, err = parseHCL(path, src, opts)
	} else {
		c, err = Parse(path, src, opts)
	}
	if err != nil {
		return err
	}
	return writeHCL(w, c, scanComments(src))
}

// comment is a comment line of the source.
type comment struct {
	line int
	text string
}

// fileComments are a file's comment lines; head are those before its
// first line of configuration (a file's header).
type fileComments struct {
	head, rest []comment
}

func scanComments(src []byte) *fileComments {
	fc := &fileComments{}
	content := false
	for i, l := range strings.Split(string(src), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//"):
			if content {
				fc.rest = append(fc.rest, comment{i + 1, t})
			} else {
				fc.head = append(fc.head, comment{i + 1, t})
			}
		case t != "":
			content = true
		}
	}
	return fc
}

// attach gives each block of b, in output order, the comments that come
// before its line and were not taken yet; it returns those left.
func (fc *fileComments) attach(b *hclBlock, rest []comment) []comment {
	for _, c := range b.blocks {
		for c.line > 0 && len(rest) > 0 && rest[0].line < c.line {
			c.comments = append(c.comments, rest[0].text)
			rest = rest[1:]
		}
		rest = fc.attach(c, rest)
	}
	return rest
}

func writeHCL(w io.Writer, c *config.Config, fc *fileComments) error {
	root := &hclBlock{}
	writeGlobals(root, &c.Globals)

	// Hostgroups and watches are interleaved so that the groups mon
	// creates for watches without a hostgroup come out at the same place.
	next := 0
	for _, g := range c.HostGroups {
		if wi := slices.IndexFunc(c.Watches, func(w *config.Watch) bool { return w.Name == g.Name && w.Implicit }); wi >= 0 {
			for ; next <= wi; next++ {
				writeWatch(root, c.Watches[next])
			}
			if len(g.Hosts) == 1 && g.Hosts[0] == g.Name {
				continue // the implicit group, recreated by the watch
			}
		}
		root.block("hostgroup", g.Name).at(g.Pos).list("hosts", g.Hosts, false)
	}
	for ; next < len(c.Watches); next++ {
		writeWatch(root, c.Watches[next])
	}
	for _, v := range c.Views {
		root.block("view", v.Name).at(v.Pos).list("members", v.Members, false)
	}
	for _, a := range c.Aliases {
		root.block("alias", a.Name).at(a.Pos).list("lines", a.Lines, true)
	}

	var sb strings.Builder
	var trailer []comment
	if fc != nil {
		for _, h := range fc.head {
			sb.WriteString(h.text + "\n")
		}
		if len(fc.head) > 0 {
			sb.WriteString("\n")
		}
		trailer = fc.attach(root, fc.rest)
	}
	if err := root.render(&sb, ""); err != nil {
		return err
	}
	if len(trailer) > 0 {
		sb.WriteString("\n")
	}
	for _, t := range trailer {
		sb.WriteString(t.text + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

func writeGlobals(b *hclBlock, g *config.Globals) {
	d := Defaults()
	str := func(name, v, def string) {
		if v != def {
			b.str(name, v)
		}
	}
	list := func(name string, v, def []string) {
		if !slices.Equal(v, def) {
			b.list(name, v, false)
		}
	}
	num := func(name string, v, def int) {
		if v != def {
			b.raw(name, strconv.Itoa(v))
		}
	}
	dur := func(name string, v, def time.Duration) {
		if v != def {
			b.str(name, formatTimeval(v))
		}
	}
	flag := func(name string, v, def bool) {
		if v != def {
			b.raw(name, strconv.FormatBool(v))
		}
	}
	list("alertdir", g.AlertDir, d.AlertDir)
	list("mondir", g.MonDir, d.MonDir)
	str("basedir", g.BaseDir, d.BaseDir)
	str("cfbasedir", g.CfBaseDir, d.CfBaseDir)
	str("logdir", g.LogDir, d.LogDir)
	str("statedir", g.StateDir, d.StateDir)
	num("histlength", g.HistLength, d.HistLength)
	num("serverport", g.ServerPort, d.ServerPort)
	num("trapport", g.TrapPort, d.TrapPort)
	str("serverbind", g.ServerBind, d.ServerBind)
	str("trapbind", g.TrapBind, d.TrapBind)
	list("clientallow", g.ClientAllow, d.ClientAllow)
	str("pidfile", g.PidFile, d.PidFile)
	dur("randstart", g.RandStart, d.RandStart)
	num("maxprocs", g.MaxProcs, d.MaxProcs)
	str("authfile", g.AuthFile, d.AuthFile)
	list("authtype", g.AuthType, d.AuthType)
	str("pamservice", g.PamService, d.PamService)
	str("userfile", g.UserFile, d.UserFile)
	str("historicfile", g.HistoricFile, d.HistoricFile)
	dur("historictime", g.HistoricTime, d.HistoricTime)
	dur("cltimeout", g.CLTimeout, d.CLTimeout)
	str("monerrfile", g.MonErrFile, d.MonErrFile)
	str("dtlogfile", g.DtLogFile, d.DtLogFile)
	flag("dtlogging", g.DtLogging, d.DtLogging)
	num("dep_recur_limit", g.DepRecurLimit, d.DepRecurLimit)
	str("syslog_facility", g.SyslogFacility, d.SyslogFacility)
	flag("startupalerts_on_reset", g.StartupAlertsOnReset, d.StartupAlertsOnReset)
	str("monremote", g.MonRemote, d.MonRemote)
	if g.ExcludePeriod != nil {
		b.str("exclude_period", g.ExcludePeriod.String())
	}
	if g.MonitorTimeout == 0 {
		b.str("monitor_timeout", "0") // unbounded, as in mon
	} else {
		dur("monitor_timeout", g.MonitorTimeout, d.MonitorTimeout)
	}
	num("maxclients", g.MaxClients, d.MaxClients)
	num("alert_retries", g.AlertRetries, d.AlertRetries)
	str("status_listen", g.StatusListen, d.StatusListen)
	if t := g.SNMPTrap; t.Listen != "" || len(t.Communities) > 0 || len(t.Users) > 0 || t.EngineID != "" {
		str("snmptrap_listen", t.Listen, "")
		list("snmptrap_community", t.Communities, nil)
		users := make([]string, len(t.Users))
		for i, u := range t.Users {
			users[i] = u.Text
		}
		if len(users) > 0 {
			b.list("snmptrap_user", users, true)
		}
		str("snmptrap_engineid", t.EngineID, "")
	}
	if c := g.Cluster; c.Enabled() {
		cb := b.block("cluster", "")
		cb.bare = true
		cb.list("etcd", c.Etcd, false)
		for _, a := range [][3]string{
			{"node", c.Node, ""}, {"prefix", c.Prefix, d.Cluster.Prefix}, {"advertise", c.Advertise, ""},
			{"etcd_cacert", c.CACert, ""}, {"etcd_cert", c.Cert, ""}, {"etcd_key", c.Key, ""},
			{"etcd_user", c.User, ""}, {"etcd_password_file", c.PasswordFile, ""},
		} {
			if a[1] != a[2] {
				cb.str(a[0], a[1])
			}
		}
		if c.Lease != d.Cluster.Lease {
			cb.str("lease", formatTimeval(c.Lease))
		}
	}
}

func writeWatch(root *hclBlock, w *config.Watch) {
	wb := root.block("watch", w.Name).at(w.Pos)
	for _, s := range w.Services {
		writeService(wb.block("service", s.Name).at(s.Pos), s)
	}
}

func writeService(b *hclBlock, s *config.Service) {
	str := func(name, v string) {
		if v != "" {
			b.str(name, v)
		}
	}
	dur := func(name string, v time.Duration) {
		if v != 0 {
			b.str(name, formatTimeval(v))
		}
	}
	if s.Schedule != nil {
		b.str("schedule", s.Schedule.String())
	}
	dur("interval", s.Interval)
	dur("failure_interval", s.FailureInterval)
	str("monitor", s.Monitor)
	if s.MonitorTimeout == config.Unbounded {
		b.str("monitor_timeout", "0")
	} else {
		dur("monitor_timeout", s.MonitorTimeout)
	}
	str("cluster_scope", string(s.ClusterScope))
	if s.KeepChildren {
		b.raw("keep_children", "true")
	}
	if s.HostVerdicts {
		b.raw("host_verdicts", "true")
	}
	if f := s.Flap; f != nil {
		b.str("flap_detection", fmt.Sprintf("%d %g %g", f.Window, f.Low, f.High))
	}
	if s.AllowEmptyGroup {
		b.raw("allow_empty_group", "true")
	}
	str("description", s.Description)
	if len(s.ExcludeHosts) > 0 {
		b.list("exclude_hosts", s.ExcludeHosts, false)
	}
	if s.ExcludePeriod != nil {
		b.str("exclude_period", s.ExcludePeriod.String())
	}
	if s.Depend != nil {
		b.str("depend", s.Depend.String())
	}
	if s.AlertDepend != nil {
		b.str("alertdepend", s.AlertDepend.String())
	}
	if s.MonitorDepend != nil {
		b.str("monitordepend", s.MonitorDepend.String())
	}
	if s.HostDepend != nil {
		b.str("hostdepend", s.HostDepend.String())
	}
	if s.DepBehavior != config.DepAlert {
		b.str("dep_behavior", string(s.DepBehavior))
	}
	dur("dep_memory", s.DepMemory)
	dur("randskew", s.RandSkew)
	dur("traptimeout", s.TrapTimeout)
	dur("trapduration", s.TrapDuration)
	str("redistribute", s.Redistribute)
	if s.UnackSummary {
		b.raw("unack_summary", "true")
	}
	if len(s.SNMPTraps) > 0 {
		lines := make([]string, len(s.SNMPTraps))
		for i, r := range s.SNMPTraps {
			lines[i] = r.Text
		}
		b.list("snmptrap", lines, true)
	}
	if len(s.Downtimes) > 0 {
		lines := make([]string, len(s.Downtimes))
		for i, d := range s.Downtimes {
			lines[i] = d.Text
		}
		b.list("downtime", lines, true)
	}
	if len(s.Env) > 0 {
		pairs := make([]string, len(s.Env))
		for i, e := range s.Env {
			pairs[i] = e.Name + " = " + hclQuote(e.Value)
		}
		b.raw("env", "{ "+strings.Join(pairs, ", ")+" }")
	}
	for _, p := range s.Periods {
		pb := b.block("period", p.Key).at(p.Pos)
		if p.Label != "" {
			pb.str("when", p.Spec.String())
		}
		writePeriod(pb, p)
	}
}

func writePeriod(b *hclBlock, p *config.Period) {
	alerts := func(name string, list []config.AlertLine) {
		if len(list) == 0 {
			return
		}
		lines := make([]string, len(list))
		for i, a := range list {
			lines[i] = a.String()
		}
		b.list(name, lines, true)
	}
	alerts("alert", p.Alerts)
	alerts("upalert", p.UpAlerts)
	alerts("startupalert", p.StartupAlerts)
	alerts("ackalert", p.AckAlerts)
	alerts("disablealert", p.DisableAlerts)
	if p.AlertEvery != 0 {
		v := formatTimeval(p.AlertEvery)
		if p.AlertEveryMode != config.EverySummary {
			v += " " + string(p.AlertEveryMode)
		}
		b.str("alertevery", v)
	}
	switch {
	case p.AlertAfterTime == 0 && p.AlertAfterCount != 0:
		b.raw("alertafter", strconv.Itoa(p.AlertAfterCount))
	case p.AlertAfterTime != 0:
		// alertafter accepts only whole hours, minutes or seconds.
		v := strconv.FormatInt(int64(p.AlertAfterTime/time.Second), 10) + "s"
		if p.AlertAfterTime%time.Hour == 0 {
			v = strconv.FormatInt(int64(p.AlertAfterTime/time.Hour), 10) + "h"
		} else if p.AlertAfterTime%time.Minute == 0 {
			v = strconv.FormatInt(int64(p.AlertAfterTime/time.Minute), 10) + "m"
		}
		if p.AlertAfterCount != 0 {
			v = strconv.Itoa(p.AlertAfterCount) + " " + v
		}
		b.str("alertafter", v)
	}
	if p.UpAlertAfter != 0 {
		b.str("upalertafter", formatTimeval(p.UpAlertAfter))
	}
	if p.NumAlerts != 0 {
		b.raw("numalerts", strconv.Itoa(p.NumAlerts))
	}
	if p.NoCompAlerts {
		b.raw("no_comp_alerts", "true")
	}
	if p.AlertsDontCount {
		b.raw("alerts_dont_count", "true")
	}
	if p.AlertExitRange != nil {
		b.str("alertexitrange", p.AlertExitRange.String())
	}
	if p.AlertPerHost {
		b.raw("alert_per_host", "true")
	}
	if p.AlertOnPeriodStart {
		b.raw("alert_on_period_start", "true")
	}
}

// hclBlock is a tiny HCL emitter: attributes (aligned on "=") followed
// by nested blocks, each separated by a blank line.
type hclBlock struct {
	typ, label string
	attrs      [][2]string // name, value text
	blocks     []*hclBlock
	badText    string // first value that is not valid UTF-8
	bare       bool   // a block without a label (cluster)
	line       int    // where the block is in the source (0: unknown)
	comments   []string
}

// at records where the block comes from, for the comments before it.
func (b *hclBlock) at(pos config.Pos) *hclBlock {
	b.line = pos.Line
	return b
}

func (b *hclBlock) block(typ, label string) *hclBlock {
	c := &hclBlock{typ: typ, label: label}
	b.checkText(label)
	b.blocks = append(b.blocks, c)
	return c
}

func (b *hclBlock) raw(name, value string) { b.attrs = append(b.attrs, [2]string{name, value}) }

func (b *hclBlock) str(name, value string) {
	b.checkText(value)
	b.raw(name, hclQuote(value))
}

// list writes a list of strings, one per line when multiline is set and
// there is more than one.
func (b *hclBlock) list(name string, items []string, multiline bool) {
	q := make([]string, len(items))
	for i, s := range items {
		b.checkText(s)
		q[i] = hclQuote(s)
	}
	if !multiline || len(items) < 2 {
		b.raw(name, "["+strings.Join(q, ", ")+"]")
		return
	}
	b.raw(name, "[\n  "+strings.Join(q, ",\n  ")+",\n]")
}

func (b *hclBlock) checkText(s string) {
	if b.badText == "" && !utf8.ValidString(s) {
		b.badText = s
	}
}

func (b *hclBlock) render(sb *strings.Builder, indent string) error {
	if b.badText != "" {
		return fmt.Errorf("cannot write %q in HCL: not valid UTF-8", b.badText)
	}
	width := 0
	for _, a := range b.attrs {
		width = max(width, len(a[0]))
	}
	for _, a := range b.attrs {
		value := strings.ReplaceAll(a[1], "\n", "\n"+indent)
		fmt.Fprintf(sb, "%s%-*s = %s\n", indent, width, a[0], value)
	}
	for i, c := range b.blocks {
		if i > 0 || len(b.attrs) > 0 {
			sb.WriteString("\n")
		}
		for _, t := range c.comments {
			sb.WriteString(indent + t + "\n")
		}
		if c.bare {
			fmt.Fprintf(sb, "%s%s {\n", indent, c.typ) // an unlabelled block (cluster)
		} else {
			fmt.Fprintf(sb, "%s%s %s {\n", indent, c.typ, hclQuote(c.label))
		}
		if err := c.render(sb, indent+"  "); err != nil {
			return err
		}
		sb.WriteString(indent + "}\n")
	}
	return nil
}

// hclQuote renders s as an HCL quoted string; "${" and "%{" are escaped so
// that no template sequence is interpreted.
func hclQuote(s string) string {
	var sb strings.Builder
	sb.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '"':
			sb.WriteString(`\"`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&sb, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			sb.WriteRune(r)
			sb.WriteRune(r)
		default:
			sb.WriteRune(r)
		}
	}
	sb.WriteByte('"')
	return sb.String()
}
