package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/period"
)

// maxAlertRetries bounds alert_retries: a day of hourly retries.
const maxAlertRetries = 28

// DefaultMonitorTimeout bounds a monitor run when the configuration sets
// no monitor_timeout (gomon; mon has no bound, and a hung monitor leaves
// its service untested for ever). It is Nagios' service_check_timeout;
// `monitor_timeout = 0` restores mon's unbounded runs.
const DefaultMonitorTimeout = 60 * time.Second

// Defaults returns mon's built-in global settings (config.md §1.2). Some
// depend on which directories exist on this machine, as in mon.
func Defaults() config.Globals {
	return config.Globals{
		AlertDir:       []string{"/usr/local/lib/mon/alert.d", "alert.d"},
		MonDir:         []string{"/usr/local/lib/mon/mon.d", "mon.d"},
		BaseDir:        "/usr/lib/mon",
		CfBaseDir:      "/etc/mon",
		LogDir:         firstDir([]string{"/var/log/mon"}, "log.d"),
		StateDir:       firstDir([]string{"/var/state/mon", "/var/lib/mon"}, "state.d"),
		HistLength:     100,
		ServerPort:     servicePort("tcp"),
		TrapPort:       servicePort("udp"),
		ClientAllow:    []string{`\d+.\d+.\d+.\d+`},
		PidFile:        defaultPidFile(),
		AuthFile:       "auth.cf",
		AuthType:       []string{"getpwnam"},
		PamService:     "passwd",
		UserFile:       "monusers.cf",
		CLTimeout:      30 * time.Second,
		MonErrFile:     "/dev/null",
		DtLogFile:      "downtime.log",
		DepRecurLimit:  10,
		SyslogFacility: "daemon",
		MonitorTimeout: DefaultMonitorTimeout,
		AlertRetries:   3,
		Cluster:        config.Cluster{Lease: DefaultClusterLease, Prefix: "/gomon/"},
	}
}

// DefaultClusterLease is how long a cluster node's membership outlives
// its last keep-alive: the time within which a dead node's services move
// and a cut-off node stops paging (docs/cluster.md).
const DefaultClusterLease = 5 * time.Second

// minClusterLease is etcd's own floor for a lease (about 1.5 election
// timeouts); a shorter one would be silently extended.
const minClusterLease = 2 * time.Second

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func firstDir(candidates []string, fallback string) string {
	for _, d := range candidates {
		if isDir(d) {
			return d
		}
	}
	return fallback
}

func defaultPidFile() string {
	switch {
	case isDir("/run/mon"):
		return "/run/mon/mon.pid"
	case isDir("/run"):
		return "/run/mon.pid"
	}
	return "/etc/mon.pid"
}

// servicePort looks up "mon" in the services database, as mon does.
func servicePort(network string) int {
	if p, err := net.LookupPort(network, "mon"); err == nil {
		return p
	}
	return 2583
}

// serviceDefaults are the globals that services copy when their `service`
// line is read, so their position in the file matters (config.md §6).
type serviceDefaults struct {
	depBehavior  config.DepBehavior
	depMemory    time.Duration
	unackSummary bool
}

// splitPath splits a mondir/alertdir value at ':' (blanks around it
// ignored) and drops a trailing '/' of each element.
func splitPath(v string) []string {
	var dirs []string
	for _, d := range strings.Split(v, ":") {
		d = trimSpace(d)
		if d == "" {
			continue // Perl's split drops these at the end; an empty dir is meaningless anywhere
		}
		if len(d) > 1 {
			d = strings.TrimSuffix(d, "/")
		}
		dirs = append(dirs, d)
	}
	return dirs
}

var (
	leadingIntRE = regexp.MustCompile(`^[0-9]+`)
	depBehaviors = map[string]config.DepBehavior{"a": config.DepAlert, "m": config.DepMonitor, "hm": config.DepHostMonitor}
)

// parseInt validates an integer global. mon does not validate these and
// Perl turns text into 0 (Q-CFG-12); gomon rejects values that do not start
// with digits, and accepts a number followed by blanks and other text (a
// would-be trailing comment) with a warning, as Perl would use the number.
func parseInt(name, v string) (n int, warn string, prob *problem) {
	digits := leadingIntRE.FindString(v)
	rest := v[len(digits):]
	if digits == "" || (rest != "" && !isSpace(rest[0])) {
		return 0, "", errf("bad value '%s' for %s (syntax: %s = integer)", v, name, name).
			withHint("expected a non-negative decimal integer")
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0, "", errf("bad value '%s' for %s (syntax: %s = integer)", v, name, name).
			withHint("number out of range")
	}
	if rest != "" {
		warn = "text after the number of " + name + " is ignored (mon.cf has no trailing comments): '" + trimSpace(rest) + "'"
	}
	return n, warn, nil
}

// unackSummary implements mon's value test for unack_summary (Q-CFG-7):
// any y → true, else any n → false, else exactly 0 or 1.
func unackSummary(v string) (bool, *problem) {
	switch {
	case strings.ContainsAny(v, "yY"):
		return true, nil
	case strings.ContainsAny(v, "nN"):
		return false, nil
	case v == "0" || v == "1":
		return v == "1", nil
	}
	return false, &problem{
		msg:    "invalid unack_summary value '" + v + "' (syntax: unack_summary [0|1|y|yes|n|no])",
		noLine: true,
	}
}

var startupAlertsOnResetRE = regexp.MustCompile(`(?i)^1|yes|true|on$`)

// setGlobal applies one `name = value` line (config.md §6).
func (b *builder) setGlobal(pos config.Pos, name, v string) {
	g := &b.cfg.Globals
	intVar := map[string]*int{
		"histlength": &g.HistLength, "serverport": &g.ServerPort, "trapport": &g.TrapPort,
		"maxprocs": &g.MaxProcs, "dep_recur_limit": &g.DepRecurLimit, "maxclients": &g.MaxClients,
		"alert_retries": &g.AlertRetries,
	}
	if p, ok := intVar[name]; ok {
		n, warn, prob := parseInt(name, v)
		if prob == nil && (name == "serverport" || name == "trapport") && n > 65535 {
			prob = errf("bad value '%s' for %s (syntax: %s = integer)", v, name, name).withHint("a port is at most 65535")
		}
		if prob == nil && name == "alert_retries" && n > maxAlertRetries {
			prob = errf("bad value '%s' for alert_retries (syntax: alert_retries = integer)", v).withHint("at most %d; the retries are 15 s, 1 min, 4 min, 16 min, then hourly", maxAlertRetries)
		}
		if warn != "" {
			b.warn(pos, warn, "")
		}
		b.fail(pos, prob)
		if prob == nil {
			*p = n
		}
		return
	}

	timeVar := map[string]struct {
		dst *time.Duration
		msg string
	}{
		"randstart":       {&g.RandStart, "bad value '%s' for randstart option (syntax: randstart = timeval)"},
		"historictime":    {&g.HistoricTime, "bad value '%s' for historictime command (syntax: historictime = timeval)"},
		"cltimeout":       {&g.CLTimeout, "bad value '%s' for cltimeout command (syntax: cltimeout = secs)"},
		"dep_memory":      {&b.defaults.depMemory, "bad value '%s' for dep_memory option (syntax: dep_memory = timeval)"},
		"monitor_timeout": {&g.MonitorTimeout, "bad value '%s' for monitor_timeout option (syntax: monitor_timeout = timeval)"},
	}
	if t, ok := timeVar[name]; ok {
		if name == "monitor_timeout" && trimSpace(v) == "0" {
			*t.dst = 0 // mon's unbounded runs
			return
		}
		d, ok := parseTimeval(v)
		if !ok {
			b.fail(pos, errf(t.msg, v).withHint(timevalHint))
			return
		}
		*t.dst = d
		return
	}

	if strings.HasPrefix(name, "cluster_") {
		b.clusterPos = &pos
	}
	if snmpGlobals[name] {
		b.snmpGlobal(pos, name, v)
		return
	}
	switch name {
	case "alertdir":
		g.AlertDir = splitPath(v)
	case "mondir":
		g.MonDir = splitPath(v)
	case "basedir":
		g.BaseDir = v
	case "cfbasedir":
		g.CfBaseDir = v
	case "logdir":
		g.LogDir = v
	case "statedir":
		g.StateDir = v
	case "serverbind":
		g.ServerBind = v
	case "trapbind":
		g.TrapBind = v
	case "clientallow":
		g.ClientAllow = fields(v)
	case "pidfile":
		g.PidFile = v
	case "authfile":
		g.AuthFile = v
		b.authfilePos = &pos
	case "authtype":
		g.AuthType = fields(v)
		b.authtypePos = &pos
	case "pamservice":
		g.PamService = v
	case "userfile":
		g.UserFile = v
		b.userfilePos = &pos
	case "historicfile":
		g.HistoricFile = v
	case "monerrfile":
		g.MonErrFile = v
	case "dtlogfile":
		g.DtLogFile = v
	case "dtlogging":
		g.DtLogging = perlNumber(v) == 1 || v == "yes" || v == "true"
	case "dep_behavior":
		db, ok := depBehaviors[v]
		if !ok {
			b.fail(pos, errf("unknown dependency behavior '%s'", v).withHint("expected a, m or hm"))
			return
		}
		b.defaults.depBehavior = db
	case "unack_summary":
		u, prob := unackSummary(v)
		if prob != nil {
			b.fail(pos, prob)
			return
		}
		b.defaults.unackSummary = u
	case "syslog_facility":
		g.SyslogFacility = v
	case "startupalerts_on_reset":
		g.StartupAlertsOnReset = startupAlertsOnResetRE.MatchString(v)
	case "monremote":
		g.MonRemote = v
	case "exclude_period":
		spec, err := period.Parse(v)
		if err != nil {
			b.fail(pos, errf("malformed exclude_period '%s' (the specified time period is not valid as per Time::Period::inPeriod)", v).withHint("%v", err))
			return
		}
		g.ExcludePeriod = &spec
	case "cluster_etcd":
		g.Cluster.Etcd = nil
		for _, u := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || isSpace(byte(r)) }) {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				b.fail(pos, errf("bad etcd endpoint '%s' in cluster_etcd (syntax: cluster_etcd = URL[,URL...])", u).
					withHint("write each endpoint as http://HOST:PORT or https://HOST:PORT"))
				return
			}
			g.Cluster.Etcd = append(g.Cluster.Etcd, u)
		}
		if len(g.Cluster.Etcd) == 0 {
			b.fail(pos, errf("cluster_etcd names no endpoint (syntax: cluster_etcd = URL[,URL...])"))
		}
	case "cluster_node":
		if !nameRE.MatchString(v) {
			b.fail(pos, errf("invalid cluster_node '%s'", v).withHint("a node name uses only A-Z a-z 0-9 _ . -"))
			return
		}
		g.Cluster.Node = v
	case "cluster_lease":
		d, ok := parseTimeval(v)
		if !ok || d < minClusterLease {
			b.fail(pos, errf("bad value '%s' for cluster_lease (syntax: cluster_lease = timeval)", v).
				withHint("at least %v: etcd extends shorter leases; %s", minClusterLease, timevalHint))
			return
		}
		g.Cluster.Lease = d
	case "cluster_prefix":
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, " \t") {
			b.fail(pos, errf("bad value '%s' for cluster_prefix", v).withHint("a key prefix starts with / and has no blanks, e.g. /gomon/"))
			return
		}
		if !strings.HasSuffix(v, "/") {
			v += "/"
		}
		g.Cluster.Prefix = v
	case "cluster_advertise":
		if strings.ContainsAny(v, " \t/") || v == "" {
			b.fail(pos, errf("bad value '%s' for cluster_advertise", v).withHint("the host name or address other nodes reach this one at, e.g. 10.0.0.21"))
			return
		}
		g.Cluster.Advertise = v
	case "cluster_etcd_cacert":
		g.Cluster.CACert = v
	case "cluster_etcd_cert":
		g.Cluster.Cert = v
	case "cluster_etcd_key":
		g.Cluster.Key = v
	case "cluster_etcd_user":
		g.Cluster.User = v
	case "cluster_etcd_password_file":
		g.Cluster.PasswordFile = v
	case "status_listen":
		if v != "" && v != "off" {
			if _, _, err := net.SplitHostPort(v); err != nil {
				b.fail(pos, errf("bad value '%s' for status_listen (syntax: status_listen = [HOST]:PORT)", v).withHint("%v", err))
				return
			}
		}
		g.StatusListen = v
	default:
		p := errf("unknown variable '%s'", name)
		if s := suggest(name, globalKeywords); s != "" {
			p.withHint("did you mean '%s'?", s)
		}
		b.fail(pos, p)
	}
}

const timevalHint = "expected a number with a unit s, m, h or d, e.g. 30s, 5m, 1.5h"
