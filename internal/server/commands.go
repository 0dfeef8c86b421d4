package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// reply is the answer to one request line.
type reply struct {
	data   []string
	final  string
	close  bool   // close the connection after the reply
	silent bool   // send nothing (mon's dump)
	after  func() // run after the reply was written (term)
	// replicate, when set, is the line the other cluster nodes replay
	// instead of the request (a relative time made absolute).
	replicate string
	wire      []byte // data and final framed, when the reply comes rendered (cached)
}

func ok(final string, data ...string) reply   { return reply{data: data, final: final} }
func fail(final string, data ...string) reply { return reply{data: data, final: final} }

const unknownCommand = "520 command could not be executed, unknown command"

// ungated commands need no auth.cf entry.
var ungated = map[string]bool{
	"quit": true, "protid": true, "login": true, "version": true,
	"checkauth": true,
}

// grantedAlsoBy names, for commands mon let anyone run but gomon checks
// against auth.cf, the auth.cf command that grants them too: the view
// commands only shape what `list` shows, so an auth.cf written for mon
// (which has no setview line) keeps working for whoever may list.
func grantedAlsoBy(cmd string) (string, bool) {
	switch cmd {
	case "setview", "getview":
		return "list", true
	}
	return "", false
}

// replicated are the commands that change state, which a cluster node
// hands to the others: an operator may talk to any node.
var replicated = map[string]bool{
	"disable": true, "enable": true, "ack": true, "reset": true, "set": true,
	"stop": true, "start": true, "savestate": true, "clear": true,
}

// replicates reports whether a command line goes to the other cluster
// nodes: the commands that change state, and `test monitor` (which only
// the service's owner can carry out).
func replicates(cmd, args string) bool {
	if cmd == "test" {
		return strings.HasPrefix(strings.TrimSpace(args), "monitor ")
	}
	return replicated[cmd]
}

// Replay runs an operator command that another cluster node received and
// authorized for user.
func (srv *Server) Replay(line, user string) {
	r := srv.handle(&session{ip: "cluster", user: user, authed: true, replay: true}, line)
	if !strings.HasPrefix(r.final, "2") {
		srv.log.Warn("replayed cluster command failed here", "command", line, "user", user, "reply", r.final)
	}
}

// operatorActions are the commands that act on the daemon: each is
// logged as one "operator action" record. The others (list, get, …) only
// look, and are debug.
var operatorActions = map[string]bool{
	"disable": true, "enable": true, "ack": true, "reset": true, "set": true,
	"stop": true, "start": true, "savestate": true, "loadstate": true, "clear": true,
	"test": true, "reload": true, "term": true,
}

// handle executes one request line for a session; in a cluster, a
// successful command that changes state goes to the other nodes too.
func (srv *Server) handle(sess *session, line string) reply {
	r := srv.execute(sess, line)
	srv.logCommand(sess, line, r)
	if srv.opts.Cluster != nil && !sess.replay && strings.HasPrefix(r.final, "220") {
		if cmd, args, _ := protocol.ParseRequest(line); replicates(cmd, args) {
			if r.replicate != "" {
				line = r.replicate
			}
			if err := srv.opts.Cluster.Replicate(line, sess.user); err != nil {
				srv.log.Warn("command carried out on this node only: the other cluster nodes did not get it", "command", line, "err", err)
			}
		}
	}
	return r
}

// execute executes one request line for a session.
func (srv *Server) execute(sess *session, line string) reply {
	cmd, args, valid := protocol.ParseRequest(line)
	if !valid {
		return fail("520 invalid command")
	}
	acc, _ := srv.access()
	if !ungated[cmd] && !sess.replay {
		allowed, why := acc.Allowed(sess.user, sess.authed, cmd)
		if alt, ok := grantedAlsoBy(cmd); ok && !allowed {
			allowed, why = acc.Allowed(sess.user, sess.authed, alt)
		}
		if !allowed {
			srv.log.Error(fmt.Sprintf("user '%s' tried '%s', %s", sess.user, cmd, why))
			return fail(unknownCommand)
		}
	}
	switch cmd {
	case "quit":
		return reply{final: "220 quitting", close: true}
	case "protid":
		// mon compares the argument string numerically (`$args != 9745`):
		// trailing words do not count, a fraction does.
		n, _ := strconv.ParseFloat(strings.Fields(args + " 0")[0], 64)
		if n == protocol.ProtocolVersion {
			return ok("220 protocol match")
		}
		return fail("520 protocol mismatch")
	case "version":
		return ok("220 version completed", "version "+strconv.Itoa(protocol.ProtocolVersion))
	case "login":
		return srv.cmdLogin(sess, args)
	case "checkauth":
		if allowed, _ := acc.Allowed(sess.user, sess.authed, strings.TrimSpace(args)); allowed {
			return ok("220 command authorized")
		}
		return fail("520 command could not be executed")
	case "setview":
		return srv.cmdSetview(sess, args)
	case "getview":
		if sess.view != "" {
			return ok("220 getview completed", "view "+sess.view+" selected")
		}
		return ok("220 getview completed", "no view selected -- all groups will be displayed")
	case "dump":
		// mon's dump (debug mode only) writes its state to stderr and
		// sends no reply at all; gomon replies (Q-PRO-12).
		if !srv.opts.Debug {
			return fail(unknownCommand)
		}
		for _, st := range srv.sched.StatusAll() {
			fmt.Fprintln(os.Stderr, protocol.Record(opstatus(st)))
		}
		return ok("220 dump completed")
	case "servertime":
		now := time.Now()
		return ok("220 servertime completed", fmt.Sprintf("%d %s", now.Unix(), now.Format("Mon Jan _2 15:04:05 2006")))
	case "stop":
		srv.sched.Stop()
		return ok("220 stop completed")
	case "start":
		srv.sched.Start()
		return ok("220 start completed")
	case "reset":
		return srv.cmdReset(args)
	case "reload":
		return srv.cmdReload(args)
	case "term":
		srv.log.Info("terminating by user command")
		return reply{final: "220 terminating server", close: true, after: srv.opts.Term}
	case "clear":
		return srv.cmdClear(args)
	case "loadstate":
		srv.sched.LoadState(strings.Fields(args)...)
		return ok("220 loadstate completed")
	case "savestate":
		words := strings.Fields(args)
		if len(words) == 0 {
			return fail("520 savestate error, arguments required")
		}
		srv.sched.SaveState(words...)
		return ok("220 savestate completed")
	case "test":
		return srv.cmdTest(args)
	case "list":
		return srv.cmdList(sess, args)
	case "disable":
		return srv.cmdDisable(sess, args)
	case "enable":
		return srv.cmdEnable(args)
	case "ack":
		return srv.cmdAck(sess, args)
	case "set":
		return srv.cmdSet(args)
	case "get":
		return srv.cmdGet(args)
	}
	return fail("520 invalid command")
}

// logCommand logs one request line after it ran, as a single record: an
// operator action at info, with who, from where, what it names and the
// reply; any other command at debug. Both carry mon's syslog line,
// `client command "LINE"`. A login is not logged (its password).
func (srv *Server) logCommand(sess *session, line string, r reply) {
	cmd, args, valid := protocol.ParseRequest(line)
	if !valid || cmd == "login" {
		return
	}
	level, msg := syslog.LevelChatter, "client command"
	if operatorActions[cmd] {
		level, msg = slog.LevelInfo, "operator action"
	}
	ctx := context.Background()
	if !srv.log.Enabled(ctx, level) {
		return
	}
	code, _, _ := strings.Cut(r.final, " ")
	attrs := append([]any{"user", sess.user, "client", sess.ip, "command", line}, targetAttrs(cmd, args)...)
	srv.log.Log(ctx, level, msg, append(attrs, "result", code, "reply", r.final,
		syslog.Key, "info", syslog.Classic, `client command "`+line+`"`)...)
}

// targetAttrs returns what a command line names, as log attributes:
// group, service, hosts.
func targetAttrs(cmd, args string) []any {
	f := strings.Fields(args)
	groupService := func(i int) []any { // the names at f[i] and f[i+1]
		var a []any
		if i < len(f) {
			a = append(a, "group", f[i])
		}
		if i+1 < len(f) {
			a = append(a, "service", f[i+1])
		}
		return a
	}
	switch cmd {
	case "disable", "enable":
		switch {
		case len(f) < 2:
		case f[0] == "watch":
			return []any{"group", f[1]}
		case f[0] == "service":
			return groupService(1)
		case f[0] == "host":
			i := 1
			for i < len(f) && !holdWords[f[i]] {
				i++
			}
			return []any{"hosts", f[1:i]}
		}
	case "ack":
		return groupService(0)
	case "set":
		if len(f) > 0 && f[0] != "maxkeep" {
			return groupService(0)
		}
	case "test", "clear": // test monitor G S, test alert G S …, clear timers G S
		return groupService(1)
	}
	return nil
}

func (srv *Server) cmdLogin(sess *session, args string) reply {
	user, pass, _ := strings.Cut(args, " ")
	_, login := srv.access()
	now := time.Now()
	if srv.logins.locked(sess.ip, now) {
		// Refused without checking: the same reply, so a guesser learns
		// nothing, and no crypt work is done.
		return fail("530 login unsuccessful")
	}
	// A failed login keeps an earlier successful one (Q-AUTH-1, kept).
	if user != "" && login != nil && login.Login(user, pass, sess.ip) {
		srv.logins.result(sess.ip, true, now)
		sess.user, sess.authed = user, true // the login method has logged it
		return ok("220 login accepted")
	}
	if d := srv.logins.result(sess.ip, false, now); d > 0 {
		srv.log.Warn("repeated failed logins: refusing logins from this client for a while", "client", sess.ip, "for", d)
	}
	return fail("530 login unsuccessful")
}

func (srv *Server) cmdSetview(sess *session, args string) reply {
	words := strings.Fields(args)
	switch len(words) {
	case 0:
		sess.view = ""
		return ok("220 setview completed", "no view selected -- all groups will be displayed")
	case 1:
		if srv.view(words[0]) == nil {
			return fail("504 unknown view " + words[0])
		}
		sess.view = words[0]
		return ok("220 setview completed", "selecting view "+words[0])
	}
	return fail("500 Unknown setview command")
}

// view returns the members of a configured view, or nil.
func (srv *Server) view(name string) []string {
	for _, v := range srv.sched.Config().Views {
		if v.Name == name {
			return append([]string{}, v.Members...)
		}
	}
	return nil
}

// inView reports whether a service is shown under the session's view.
func (srv *Server) inView(sess *session, group, service string) bool {
	if sess.view == "" {
		return true
	}
	for _, m := range srv.view(sess.view) {
		if m == group || m == group+":"+service {
			return true
		}
	}
	return false
}

func (srv *Server) cmdReset(args string) reply {
	// Words are matched as substrings: `stopped` case-insensitively,
	// `keepstate` case-sensitively; others are ignored (as in mon).
	// `force` (gomon) applies a configuration without services.
	o := scheduler.ResetOptions{
		Stopped:   strings.Contains(strings.ToLower(args), "stopped"),
		KeepState: strings.Contains(args, "keepstate"),
		Force:     slices.Contains(strings.Fields(args), "force"),
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("PID %d@%s", os.Getpid(), host)
	defer srv.slow()()
	switch err := srv.sched.Reset(o); {
	case errors.Is(err, scheduler.ErrNoServices):
		return fail("520 reset " + id + " refused: the new configuration has no services (reset force applies it)")
	case err != nil:
		return fail("520 reset " + id + " failed, error in config file")
	}
	return ok("220 reset " + id)
}

func (srv *Server) cmdReload(args string) reply {
	words := strings.Fields(args)
	if len(words) > 0 && words[0] != "auth" {
		return fail("520 unknown reload command")
	}
	if len(words) > 0 && srv.opts.ReloadAuth != nil && srv.opts.ReloadAuth() != nil {
		// Unlike mon, a failed reload keeps the old tables (Q-AUTH-8).
		return fail("520 reload failed, keeping the previous auth.cf")
	}
	return ok("220 reload completed")
}

func (srv *Server) cmdClear(args string) reply {
	words := strings.Fields(args)
	if len(words) < 1 || !strings.EqualFold(words[0], "timers") {
		return fail("520 unknown clear command")
	}
	if len(words) < 3 {
		return fail("520 unknown clear command") // mon's pattern needs both names
	}
	if srv.sched.ClearTimers(words[1], words[2]) != nil {
		return fail("520 unknown group")
	}
	return ok("220 clear timers completed")
}

func (srv *Server) cmdTest(args string) reply {
	what, rest, _ := strings.Cut(args, " ")
	switch what {
	case "monitor":
		// Missing names count as empty, as in mon ("G  not defined").
		f := padFields(strings.Fields(rest), 2)
		if err := srv.sched.TestMonitor(f[0], f[1]); err != nil {
			return ok("220 test monitor completed", f[0]+" "+f[1]+" not defined")
		}
		srv.remote("test", f[0], f[1])
		return ok("220 test monitor completed")
	case "alert", "upalert", "startupalert", "ackalert", "disablealert":
		f := padFields(strings.SplitN(strings.TrimLeft(rest, " "), " ", 4), 4)
		retval, _ := strconv.Atoi(f[2])
		typ := map[string]decide.AlertType{"alert": decide.TestAlert, "upalert": decide.UpAlert,
			"startupalert": decide.StartupAlert, "ackalert": decide.AckAlert, "disablealert": decide.DisableAlert}[what]
		switch err := srv.sched.TestAlert(typ, f[0], f[1], retval, f[3]); err {
		case nil:
			return ok("220 test alert completed") // for every kind, as mon answers
		case scheduler.ErrUnknownPeriod:
			return fail("520 period not defined")
		default:
			return fail("520 " + f[0] + " " + f[1] + " not defined")
		}
	case "config":
		if srv.opts.CheckConfig == nil {
			return fail("520 test error")
		}
		release := srv.slow()
		err := srv.opts.CheckConfig()
		release()
		if err != nil {
			return fail("520 test config completed, errors found in config file", err.Error())
		}
		return ok("220 test config completed OK, no errors found")
	}
	return fail("520 test error")
}

// padFields returns f with at least n elements, the missing ones empty:
// mon splits its arguments into variables that are then undefined, which
// its messages print as empty strings.
func padFields(f []string, n int) []string {
	for len(f) < n {
		f = append(f, "")
	}
	return f
}

func (srv *Server) cmdDisable(sess *session, args string) reply {
	what, rest, _ := strings.Cut(args, " ")
	f := strings.Fields(rest)
	// names is how many words name the target: the gomon extension
	// (downtime.go) follows them.
	names := map[string]int{"watch": 1, "service": 2}[what]
	if what == "host" {
		for names < len(f) && !holdWords[f[names]] {
			names++
		}
	}
	var (
		h   scheduler.Hold
		ext bool
	)
	if names < len(f) {
		var err error
		if h, ext, err = parseHold(f[names:], srv.sched.Now()); err != nil {
			return fail("520 disable error, " + err.Error())
		}
		if what == "host" {
			f = f[:names]
		}
	}
	var r reply
	switch what {
	case "watch":
		f = padFields(f, 1)
		if srv.sched.DisableWatchFor(f[0], who(sess), h) != nil {
			return fail(`520 disable error, unknown watch "` + f[0] + `"`)
		}
		srv.remote("disable", "watch", f[0])
		r = ok("220 disable watch completed")
		r.replicate = "disable watch " + f[0]
	case "service":
		f = padFields(f, 2)
		w := sess.user // mon passes the user to the disable alerts as it is
		if ext {
			w = who(sess)
		}
		if srv.sched.DisableServiceFor(f[0], f[1], w, h) != nil {
			return fail("520 disable error, unknown service")
		}
		srv.remote("disable", "service", f[0], f[1])
		r = ok("220 disable service completed")
		r.replicate = "disable service " + f[0] + " " + f[1]
	case "host":
		if missing := srv.sched.DisableHostsFor(f, who(sess), h); len(missing) > 0 {
			return fail("520 disable host failed, host(s) " + strings.Join(missing, " ") + " do not exist")
		}
		srv.remoteHosts("disable", f)
		r = ok("220 disable host completed")
		r.replicate = "disable host " + strings.Join(f, " ")
	default:
		return fail("520 command could not be executed")
	}
	if !ext {
		r.replicate = "" // mon's command: the others replay it as it came
	} else {
		r.replicate += holdSuffix(h)
	}
	return r
}

func (srv *Server) cmdEnable(args string) reply {
	what, rest, _ := strings.Cut(args, " ")
	f := strings.Fields(rest)
	switch what {
	case "watch":
		f = padFields(f, 1)
		if srv.sched.EnableWatch(f[0]) != nil {
			return fail("520 enable error, unknown watch")
		}
		srv.remote("enable", "watch", f[0])
		return ok("220 enable watch completed")
	case "service":
		f = padFields(f, 2)
		if srv.sched.EnableService(f[0], f[1]) != nil {
			return fail("520 enable error, unknown group")
		}
		srv.remote("enable", "service", f[0], f[1])
		return ok("220 enable completed")
	case "host":
		srv.sched.EnableHosts(f)
		srv.remoteHosts("enable", f)
		return ok("220 enable completed")
	}
	return fail("520 command could not be executed")
}

func (srv *Server) cmdAck(sess *session, args string) reply {
	f := strings.SplitN(args, " ", 3)
	for len(f) < 2 {
		f = append(f, "")
	}
	comment := ""
	if len(f) == 3 {
		if r, handled := srv.cmdAckFor(sess, f[0], f[1], f[2]); handled {
			return r
		}
		comment = protocol.FirstWord(f[2])
	}
	// Unlike mon, an unknown group or service gets a single 520 reply
	// (mon sends a second final line that desynchronises clients, Q-PRO-9).
	switch srv.sched.Ack(f[0], f[1], sess.user, comment) {
	case nil:
		return ok("220 ack completed")
	case scheduler.ErrUnknownGroup:
		return fail("520 unknown group")
	case scheduler.ErrUnknownService:
		return fail("520 unknown service")
	default:
		return fail("520 service is in a non-failure state")
	}
}

func (srv *Server) cmdSet(args string) reply {
	f := strings.SplitN(args, " ", 4)
	// mon matches /^maxkeep\s+(\d+)/; anything else names a service, so
	// `set maxkeep x` is "520 maxkeep,x not defined".
	if len(f) >= 2 && f[0] == "maxkeep" {
		if d := leadingDigits(f[1]); d != "" {
			if n, err := strconv.Atoi(d); err == nil {
				srv.sched.SetMaxKeep(n)
			}
			return ok("220 set completed")
		}
	}
	if len(f) < 3 {
		f = append(f, "")
		return fail("520 " + f[0] + "," + f[1] + " not defined")
	}
	group, service, key := f[0], f[1], f[2]
	value := ""
	if len(f) == 4 {
		value = protocol.FirstWord(f[3])
	}
	if _, err := srv.sched.StatusOf(group, service); err != nil {
		return fail("520 " + group + "," + service + " not defined")
	}
	if key == "opstatus" {
		// mon accepts only the bare name; a quoted one (as Mon::Client
		// sends) is accepted too (Q-PRO-10), and the code is stored.
		code, known := decide.ParseStatus(value)
		if !known {
			return fail("520 undefined opstatus")
		}
		srv.sched.SetOpStatus(group, service, code)
		return ok("220 set completed")
	}
	srv.sched.Set(group, service, key, value)
	return ok("220 set completed", fmt.Sprintf("%s %s %s='%s'", group, service, key, value))
}

func (srv *Server) cmdGet(args string) reply {
	f := strings.Fields(args)
	if len(f) == 1 && f[0] == "maxkeep" {
		return ok("220 set completed", fmt.Sprintf("maxkeep = %d", srv.sched.MaxKeep()))
	}
	f = padFields(f, 3)
	v, err := srv.sched.Get(f[0], f[1], f[2])
	if err != nil {
		return fail("520 " + f[0] + "," + f[1] + " not defined")
	}
	return ok("220 get completed", fmt.Sprintf("%s %s %s='%s'", f[0], f[1], f[2], protocol.Escape(v)))
}

// remote propagates an operator action to peer servers (monremote).
// remoteHosts tells monremote about a disable/enable host command as mon
// does: one call per host, each after one per watch of a group that has
// only that host.
func (srv *Server) remoteHosts(verb string, hosts []string) {
	if srv.opts.Remote == nil {
		return
	}
	for _, h := range hosts {
		for _, g := range srv.sched.SingletonGroups(h) {
			srv.remote(verb, "watch", g)
		}
		srv.remote(verb, "host", h)
	}
}

func (srv *Server) remote(args ...string) {
	if srv.opts.Remote != nil {
		srv.opts.Remote(args...)
	}
}

// slow gives up the request's busy slot while a command reads the
// configuration (m4 may take up to a minute), so other clients are
// served meanwhile; the returned function takes a slot back before the
// reply is written.
func (srv *Server) slow() (reacquire func()) {
	<-srv.busy
	return func() { srv.busy <- struct{}{} }
}

// leadingDigits returns the run of ASCII digits s starts with.
func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
