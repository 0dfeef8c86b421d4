package configfile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/gomon/gomon/internal/config"
)

// ws is Perl's \s on byte strings (Go's \s lacks the vertical tab).
const ws = `[\t\n\v\f\r ]`

var (
	globalRE    = regexp.MustCompile(`^([A-Za-z0-9_]+)` + ws + `*=` + ws + `*(.*)$`)
	hostgroupRE = regexp.MustCompile(`^hostgroup` + ws + `+([A-Za-z0-9_.-]+)` + ws + `*(.*)$`)
	aliasRE     = regexp.MustCompile(`^alias` + ws + `+([A-Za-z0-9_.-]+)` + ws + `*$`)
	viewRE      = regexp.MustCompile(`^view` + ws + `+([A-Za-z0-9_.-]+)` + ws + `+(.*)$`)
	watchRE     = regexp.MustCompile(`^watch` + ws + `+([A-Za-z0-9_.-]+)` + ws + `*(.*)$`)
)

// Keyword sets, used for hints when a keyword is in the wrong place.
var (
	serviceKeywords = wordSet("interval failure_interval monitor allow_empty_group description exclude_hosts " +
		"exclude_period depend alertdepend monitordepend hostdepend dep_behavior dep_memory randskew " +
		"traptimeout trapduration redistribute unack_summary schedule monitor_timeout keep_children cluster_scope " +
		"host_verdicts flap_detection snmptrap downtime")
	periodKeywords = wordSet("alert upalert startupalert ackalert disablealert alertevery alertafter " +
		"upalertafter numalerts no_comp_alerts alerts_dont_count alertexitrange alert_per_host alert_on_period_start")
	blockKeywords = wordSet("watch service period view alias")
	// globalKeywords are the names setGlobal knows (a test keeps them in
	// step), for "did you mean".
	globalKeywords = wordSet("alert_retries alertdir authfile authtype basedir cfbasedir clientallow cltimeout " +
		"cluster_advertise cluster_etcd cluster_etcd_cacert cluster_etcd_cert cluster_etcd_key cluster_etcd_password_file " +
		"cluster_etcd_user cluster_lease cluster_node cluster_prefix dep_behavior dep_memory dep_recur_limit " +
		"dtlogfile dtlogging exclude_period histlength historicfile historictime logdir maxclients maxprocs " +
		"mondir monerrfile monitor_timeout monremote pamservice pidfile randstart serverbind serverport " +
		"startupalerts_on_reset statedir status_listen syslog_facility trapbind trapport unack_summary userfile")
)

// suggest returns the word of the sets closest to word, if one is near
// enough to be a typo of it (at most a third of its letters off).
func suggest(word string, sets ...map[string]bool) string {
	best, bestDist := "", len(word)/3+1
	for _, set := range sets {
		for w := range set {
			if d := levenshtein.Distance(word, w, nil); d < bestDist || (d == bestDist && best != "" && w < best) {
				best, bestDist = w, d
			}
		}
	}
	return best
}

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Parse reads a mon.cf file's contents. name is used in positions and as
// Config.Source. Paths are not resolved (see Load and Resolve). When
// opts.Cwd is set, an `authfile`/`userfile` given in the file must be
// readable (Q-CFG-2).
func Parse(name string, src []byte, opts LoadOptions) (*config.Config, error) {
	p := &monParser{b: newBuilder(name, opts), name: name}
	lines, danglingAt := lexLines(src)
	for _, l := range lines {
		p.line(l)
	}
	if danglingAt > 0 {
		p.b.warn(config.Pos{File: name, Line: danglingAt}, "the file ends with a continued line; its text is ignored", "remove the trailing backslash")
	}
	return p.b.finish()
}

// monParser classifies logical lines in the order of config.md §5.
type monParser struct {
	b    *builder
	name string

	watchEnd     int    // line of the blank line that ended the last watch
	watchEndName string // that watch's name
}

// matchBlock is re.FindStringSubmatch(t) for a regexp that starts with
// the literal kw: most lines of a large file do not, and the prefix test
// spares the regexp (which was a fifth of the parse).
func matchBlock(t, kw string, re *regexp.Regexp) []string {
	if !strings.HasPrefix(t, kw) {
		return nil
	}
	return re.FindStringSubmatch(t)
}

func (p *monParser) line(l logicalLine) {
	b := p.b
	pos := config.Pos{File: p.name, Line: l.line}
	t := l.text

	// 1. Global settings, anywhere outside a watch (also inside
	// hostgroup, view and alias blocks, which they do not end).
	if b.watch == nil {
		if m := globalRE.FindStringSubmatch(t); m != nil {
			b.setGlobal(pos, m[1], m[2])
			return
		}
	}
	// 2. A blank line ends every block.
	if t == "" {
		if b.watch != nil {
			p.watchEnd, p.watchEndName = l.line, b.watch.Name
		}
		b.endBlock()
		return
	}
	// 3./4. hostgroup, which swallows every following line (Q-CFG-5).
	if m := matchBlock(t, "hostgroup", hostgroupRE); m != nil {
		b.hostgroup(pos, m[1], fields(m[2]))
		return
	}
	if b.group != nil {
		if w := firstWord(t); blockKeywords[w] {
			b.warn(pos, fmt.Sprintf("line taken as hosts of hostgroup %s: '%s'", b.group.Name, t),
				"a hostgroup ends only at a blank line; add one before this line")
		}
		b.addHosts(fields(t))
		return
	}
	// 5./6. alias.
	if m := matchBlock(t, "alias", aliasRE); m != nil {
		b.startAlias(pos, m[1])
		return
	}
	if b.alias != nil {
		b.aliasLine(t)
		return
	}
	// 7./8. view.
	if m := matchBlock(t, "view", viewRE); m != nil {
		b.startView(pos, m[1], fields(m[2]))
		return
	}
	if b.view != nil {
		if w := firstWord(t); blockKeywords[w] && w != "alias" {
			b.warn(pos, fmt.Sprintf("line taken as members of view %s: '%s'", b.view.Name, t),
				"a view ends only at a blank line; add one before this line")
		}
		b.addMembers(fields(t))
		return
	}
	// 9./10. watch and its contents.
	if m := matchBlock(t, "watch", watchRE); m != nil {
		b.startWatch(pos, m[1])
		if m[2] != "" {
			b.warn(pos, fmt.Sprintf("text after the watch name is ignored: '%s'", m[2]), "")
		}
		return
	}
	if b.watch != nil {
		p.watchLine(pos, t)
		return
	}
	// 11. Anything else is ignored, as mon does (Q-CFG-6), but reported.
	hint := "expected a global (name = value), hostgroup, view, alias or watch"
	if w := firstWord(t); p.watchEnd > 0 && (serviceKeywords[w] || periodKeywords[w] || w == "service" || w == "period") {
		hint = fmt.Sprintf("the blank line at line %d ended watch %s; blank lines are not allowed inside a watch", p.watchEnd, p.watchEndName)
	}
	b.warn(pos, fmt.Sprintf("line ignored: '%s'", t), hint)
}

// matchEnv matches `^([A-Z_][A-Z0-9_]*)=(.*)$` by hand (a test holds it
// to the regexp): the lines of a watch are
// most of a large configuration, and the regexp was a third of its parse.
func matchEnv(t string) (name, value string, ok bool) {
	i := 0
	for i < len(t) && (t[i] >= 'A' && t[i] <= 'Z' || t[i] == '_' || i > 0 && t[i] >= '0' && t[i] <= '9') {
		i++
	}
	if i == 0 || i == len(t) || t[i] != '=' || strings.IndexByte(t[i+1:], '\n') >= 0 {
		return "", "", false
	}
	return t[:i], t[i+1:], true
}

// matchKeyword matches `^([A-Za-z0-9_]+)` + ws + `*(.*)$` (see matchEnv).
func matchKeyword(t string) (kw, arg string, ok bool) {
	i := 0
	for i < len(t) && isWordByte(t[i]) {
		i++
	}
	j := i
	for j < len(t) && strings.IndexByte("\t\n\v\f\r ", t[j]) >= 0 {
		j++
	}
	if i == 0 || strings.IndexByte(t[j:], '\n') >= 0 {
		return "", "", false
	}
	return t[:i], t[j:], true
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// watchLine handles one line inside a watch block (config.md §8).
func (p *monParser) watchLine(pos config.Pos, t string) {
	b := p.b
	if name, value, ok := matchEnv(t); ok {
		b.env(pos, name, value)
		return
	}
	kw, arg, ok := matchKeyword(t)
	if !ok {
		b.fail(pos, errf("unknown syntax [%s]", t))
		return
	}
	switch {
	case kw == "service":
		b.startService(pos, arg)
	case b.service == nil:
		b.fail(pos, errf("need to specify service in watch record").withHint("a watch starts with a service line"))
	case kw == "period":
		label, spec := splitPeriodLabel(arg)
		b.startPeriod(pos, label, spec)
	case b.period != nil:
		if !b.periodKeyword(pos, kw, arg) {
			b.fail(pos, unknownSyntax(t, kw, true))
		}
	default:
		if !b.serviceKeyword(pos, kw, arg) {
			b.fail(pos, unknownSyntax(t, kw, false))
		}
	}
}

func unknownSyntax(line, kw string, inPeriod bool) *problem {
	p := errf("unknown syntax [%s]", line)
	switch {
	case inPeriod && serviceKeywords[kw]:
		p.withHint("service keyword '%s' is not allowed after the first period of a service", kw)
	case !inPeriod && periodKeywords[kw]:
		p.withHint("'%s' belongs in a period section", kw)
	case serviceKeywords[strings.ToLower(kw)] || periodKeywords[strings.ToLower(kw)]:
		p.withHint("keywords are case-sensitive")
	case inPeriod:
		if s := suggest(kw, periodKeywords, wordSet("period service")); s != "" {
			p.withHint("did you mean '%s'?", s)
		}
	default:
		if s := suggest(kw, serviceKeywords, periodKeywords, wordSet("period service")); s != "" {
			p.withHint("did you mean '%s'?", s)
		}
	}
	return p
}
