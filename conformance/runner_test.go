package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/shellwords"
)

// runner interprets the steps of one scenario against a daemon and builds
// the normalized transcript.  It is a port of the reference harness
// (runner.pl); every printed text, ordering rule and timing constant
// matches it, because the golden transcripts were recorded with it.
type runner struct {
	name      string   // scenario name
	sdir      string   // scenario directory
	work      string   // work directory the daemon runs in
	port      int      // TCP client port = UDP trap port
	serverCmd []string // daemon command and its leading arguments

	config      string // config file for the next start
	serverUp    bool
	srv         *daemon // non-nil while run-server.sh would keep server.pid
	conns       map[string]*conn
	alertMark   int
	lastPids    []monitorProc // from the last "list pids"
	waitTimeout float64
	out         bytes.Buffer
	norm        normalizer
}

type monitorProc struct{ group, service, pid string }

type step struct {
	comment    bool
	line       string
	here       string
	hasHeredoc bool
}

func newRunner(name, sdir, work string, port int, serverCmd []string) *runner {
	// runner.pl waits 30 s. 20 s is far more than any wait needs, and a
	// wait that times out by design (upalertafter under gomon) then ends
	// before the daemon's 30 s idle timeout could close the connection it
	// uses, which would make the transcript depend on a race.
	wt := 20.0
	if v, err := strconv.ParseFloat(os.Getenv("PEER_WAIT_TIMEOUT"), 64); err == nil && v != 0 {
		wt = v
	}
	return &runner{
		name: name, sdir: sdir, work: work, port: port, serverCmd: serverCmd,
		config: "mon.cf", conns: map[string]*conn{}, waitTimeout: wt,
		norm: normalizer{work: work, port: strconv.Itoa(port)},
	}
}

var heredocRE = regexp.MustCompile(`[ \t\n\v\f\r]*<<([A-Za-z0-9_]+)[ \t\n\v\f\r]*$`)

func readSteps(path string) ([]step, error) {
	d, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(d), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var steps []step
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		trimmed := strings.TrimLeft(l, " \t\n\v\f\r")
		if strings.HasPrefix(trimmed, "#") {
			steps = append(steps, step{comment: true, line: l})
			continue
		}
		if trimmed == "" {
			continue
		}
		st := step{}
		if m := heredocRE.FindStringSubmatchIndex(l); m != nil {
			tag := l[m[2]:m[3]]
			l = l[:m[0]]
			var h strings.Builder
			for i++; i < len(lines) && lines[i] != tag; i++ {
				h.WriteString(lines[i] + "\n")
			}
			st.here, st.hasHeredoc = h.String(), true
		}
		st.line = strings.TrimLeft(l, " \t\n\v\f\r")
		steps = append(steps, st)
	}
	return steps, nil
}

// run interprets the scenario and returns the transcript.
func (r *runner) run() (string, error) {
	steps, err := readSteps(filepath.Join(r.sdir, "steps"))
	if err != nil {
		return "", fmt.Errorf("no steps file in %s: %w", r.sdir, err)
	}
	fmt.Fprintf(&r.out, "### scenario %s\n", r.name)
	for _, st := range steps {
		if st.comment {
			r.out.WriteString(st.line + "\n")
			continue
		}
		r.out.WriteString("> " + r.norm.norm(st.line) + "\n")
		if st.hasHeredoc {
			// show the input given to the step (file content, moncmd stdin)
			for _, l := range perlSplit(st.here, "\n") {
				r.out.WriteString("  << " + r.norm.norm(l) + "\n")
			}
		}
		o, err := r.step(st)
		if err != nil {
			r.out.WriteString("HARNESS ERROR: " + err.Error())
			break
		}
		for _, l := range o {
			r.out.WriteString(r.norm.norm(l) + "\n")
		}
	}
	r.closeAll()
	if r.srv != nil {
		r.stopServer()
	}
	r.killLeftovers()
	r.out.WriteString("### end\n")
	return r.out.String(), nil
}

// harnessError is a step failure; the message ends in a newline like a
// Perl die message.
func harnessError(format string, a ...any) error { return fmt.Errorf(format+"\n", a...) }

var connVerbRE = regexp.MustCompile(`^([A-Za-z0-9_]+)@([A-Za-z0-9_]+)$`)

func (r *runner) step(st step) ([]string, error) {
	verb, rest := splitVerb(st.line)
	conn := "main"
	if m := connVerbRE.FindStringSubmatch(verb); m != nil {
		verb, conn = m[1], m[2]
	}
	switch verb {
	case "send":
		return r.sendCmd(conn, rest), nil
	case "sendraw":
		return r.sendRaw(conn, unescapeRaw(rest)), nil
	case "close":
		r.closeConn(conn)
		return nil, nil
	case "connected":
		// reports whether the server still holds the connection open
		o := r.drain(conn, 0.3)
		state := "closed"
		if r.conns[conn] != nil {
			state = "open"
		}
		return append(o, "connection "+conn+" "+state), nil
	case "start":
		return r.startServer(shellSplit(rest)), nil
	case "stop_server":
		return r.stopServer(), nil
	case "restart":
		o := r.stopServer()
		return append(o, r.startServer(shellSplit(rest))...), nil
	case "config":
		r.config = rest
		return nil, nil
	case "moncmd":
		return r.moncmd(rest, st.here), nil
	case "trap":
		return r.trap(rest), nil
	case "sleep":
		// Sleep: the step is the scenario's own pause, replayed as the
		// reference harness did; its timing is part of the transcript.
		time.Sleep(seconds(perlNum(rest)))
		return nil, nil
	case "echo":
		return []string{rest}, nil
	case "flag":
		os.Mkdir(filepath.Join(r.work, "flags"), 0o777)
		return nil, r.spit(filepath.Join(r.work, "flags", rest), "", false)
	case "unflag":
		os.Remove(filepath.Join(r.work, "flags", rest))
		return nil, nil
	case "seq":
		os.Mkdir(filepath.Join(r.work, "seq"), 0o777)
		return nil, r.spit(filepath.Join(r.work, "seq", rest), st.here, false)
	case "write", "append":
		return nil, r.spit(r.path(rest), st.here, verb == "append")
	case "copy":
		w := shellSplit(rest)
		for len(w) < 2 {
			w = append(w, "")
		}
		d, _ := os.ReadFile(r.path(w[0]))
		return nil, r.spit(r.path(w[1]), string(d), false)
	case "remove":
		os.Remove(r.path(rest))
		return nil, nil
	case "chmod":
		w := append(perlFields(rest), "", "")
		mode, _ := strconv.ParseUint(leadingOctal(w[0]), 8, 32)
		syscall.Chmod(r.path(w[1]), uint32(mode))
		return nil, nil
	case "file", "file_sorted":
		d, err := os.ReadFile(r.path(rest))
		if err != nil {
			return []string{"(no such file)"}, nil
		}
		l := perlSplit(string(d), "\n")
		if verb == "file_sorted" {
			sort.Strings(l)
		}
		if len(l) == 0 {
			return []string{"(empty)"}, nil
		}
		return l, nil
	case "stderr_grep":
		re, err := regexp.Compile(rest)
		if err != nil {
			return nil, harnessError("bad regular expression %q: %v", rest, err)
		}
		d, _ := os.ReadFile(filepath.Join(r.work, "server.err"))
		var o []string
		for _, l := range perlSplit(string(d), "\n") {
			if re.MatchString(l) {
				o = append(o, l)
			}
		}
		if len(o) == 0 {
			return []string{"(no match)"}, nil
		}
		return o, nil
	case "wait_runs":
		w := append(perlFields(rest), "", "")
		key, n := w[0], w[1]
		t := r.waitTimeout
		if w[2] != "" {
			t = perlNum(w[2])
		}
		target := perlNum(n)
		if inc, ok := strings.CutPrefix(n, "+"); ok && isDigits(inc) && !strings.HasSuffix(inc, "\n") {
			target = float64(r.runsOf(key)) + perlNum(inc)
		}
		if r.pollUntil(t, func() bool { return float64(r.runsOf(key)) >= target }) {
			return []string{"ok"}, nil
		}
		return []string{fmt.Sprintf("TIMEOUT waiting for %s to reach %s runs", key, n)}, nil
	case "runs":
		// prints only the truth value: counts are timing dependent
		w := perlFields(rest)
		key := ""
		if len(w) > 0 {
			key = w[0]
		}
		n := r.runsOf(key)
		if len(w) < 2 {
			return []string{fmt.Sprintf("runs %s = %d", key, n)}, nil
		}
		op, want := w[1], ""
		if len(w) > 2 {
			want = w[2]
		}
		x, v := float64(n), perlNum(want)
		var ok bool
		switch op {
		case "==":
			ok = x == v
		case "<=":
			ok = x <= v
		case ">=":
			ok = x >= v
		case "<":
			ok = x < v
		case ">":
			ok = x > v
		default:
			return nil, harnessError("bad op %s", op)
		}
		res := "true"
		if !ok {
			res = fmt.Sprintf("false (runs=%d)", n)
		}
		return []string{fmt.Sprintf("runs %s %s %s: %s", key, op, want, res)}, nil
	case "runs_stable":
		// true if no monitor run started meanwhile
		w := append(perlFields(rest), "", "")
		key, secs := w[0], w[1]
		before := r.runsOf(key)
		// Sleep: the step asks whether nothing ran for this long; only
		// the time passing can answer it.
		time.Sleep(seconds(perlNum(secs)))
		after := r.runsOf(key)
		res := "true"
		if before != after {
			res = fmt.Sprintf("false (+%d)", after-before)
		}
		return []string{fmt.Sprintf("runs %s unchanged for %ss: %s", key, secs, res)}, nil
	case "lastrun":
		d, err := os.ReadFile(filepath.Join(r.work, "runs", rest+".last"))
		if err != nil {
			return []string{"(monitor " + rest + " never ran)"}, nil
		}
		var o []string
		for _, l := range perlSplit(string(d), "\n") {
			if !strings.HasPrefix(l, "RUN ") {
				o = append(o, l)
			}
		}
		return o, nil
	case "wait_idle":
		t := r.waitTimeout
		if rest != "" && rest != "0" {
			t = perlNum(rest)
		}
		if r.pollUntil(t, func() bool { n, ok := r.runningMonitors(); return ok && n == 0 }) {
			return []string{"ok"}, nil
		}
		return []string{"TIMEOUT waiting for running monitors to finish"}, nil
	case "wait_opstatus":
		w := perlFields(rest)
		for len(w) < 2 {
			w = append(w, "")
		}
		g, s := w[0], w[1]
		t := r.waitTimeout
		var conds []string
		for _, c := range w[2:] {
			if v, ok := strings.CutPrefix(c, "timeout="); ok && isDigits(v) && !strings.HasSuffix(v, "\n") {
				t = perlNum(v)
				continue
			}
			conds = append(conds, c)
		}
		ok := r.pollUntil(t, func() bool {
			f, ok := r.opstatusFields(g, s)
			if !ok {
				return false
			}
			for _, c := range conds {
				k, v, _ := strings.Cut(c, "=")
				if got, ok := f[k]; !ok || got != v {
					return false
				}
			}
			return true
		})
		if ok {
			return []string{"ok"}, nil
		}
		return []string{fmt.Sprintf("TIMEOUT waiting for %s/%s %s", g, s, strings.Join(conds, " "))}, nil
	case "wait_alerts":
		w := perlFields(rest)
		if len(w) == 0 {
			w = []string{""}
		}
		f, ts, err := parseAlertFilter(w[1:])
		if err != nil {
			return nil, err
		}
		t := r.waitTimeout
		if ts != "" {
			t = perlNum(ts)
		}
		n := perlNum(w[0])
		if r.pollUntil(t, func() bool {
			return float64(len(f.apply(r.alertsAfterMark()))) >= n
		}) {
			return []string{"ok"}, nil
		}
		return []string{fmt.Sprintf("TIMEOUT waiting for %s alert(s) %s", w[0], strings.Join(w[1:], " "))}, nil
	case "alerts", "alerts_count":
		f, _, err := parseAlertFilter(perlFields(rest))
		if err != nil {
			return nil, err
		}
		recs := f.apply(r.alertsAfterMark())
		if verb == "alerts_count" {
			return []string{fmt.Sprintf("alerts: %d", len(recs))}, nil
		}
		var o []string
		for i, rec := range sortAlerts(recs) {
			o = append(o, formatAlert(i+1, rec)...)
		}
		if len(o) == 0 {
			return []string{"(no alerts)"}, nil
		}
		return o, nil
	case "alerts_mark":
		r.alertMark = len(r.alertRecords())
		return nil, nil
	case "pids_check":
		var o []string
		for _, p := range r.lastPids {
			state := "gone"
			if pid, err := strconv.Atoi(p.pid); err == nil && processExists(pid) {
				state = "alive"
			}
			o = append(o, fmt.Sprintf("%s %s: %s", p.group, p.service, state))
		}
		if len(o) == 0 {
			return []string{"(no monitor pids recorded)"}, nil
		}
		return o, nil
	case "proc":
		d, err := os.ReadFile(filepath.Join(r.work, "pids", rest+".pid"))
		if err != nil {
			return []string{rest + ": no pid recorded"}, nil
		}
		state := "gone"
		if pid, err := strconv.Atoi(strings.TrimSuffix(string(d), "\n")); err == nil && processExists(pid) {
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && !zombieRE.Match(stat) {
				state = "alive"
			}
		}
		return []string{rest + ": " + state}, nil
	default:
		return nil, harnessError("unknown step '%s'", verb)
	}
}

var zombieRE = regexp.MustCompile(`^[0-9]+ [^ \t\n\v\f\r]+ Z`)

// splitVerb is Perl's split /\s+/, $line, 2 on a line without leading
// blanks.
func splitVerb(line string) (verb, rest string) {
	i := strings.IndexFunc(line, func(c rune) bool { return c < 0x80 && isSpace(byte(c)) })
	if i < 0 {
		return line, ""
	}
	j := i
	for j < len(line) && isSpace(line[j]) {
		j++
	}
	return line[:i], line[j:]
}

// shellSplit is Text::ParseWords::shellwords, which returns nothing for a
// line with an unbalanced quote.
func shellSplit(s string) []string {
	w, err := shellwords.Split(s)
	if err != nil {
		return nil
	}
	return w
}

var rawEscRE = regexp.MustCompile(`\\(r|n|t|\\|x[0-9a-fA-F]{2})`)

// unescapeRaw decodes the \r \n \t \\ \xHH escapes of sendraw.
func unescapeRaw(s string) string {
	return rawEscRE.ReplaceAllStringFunc(s, func(m string) string {
		switch m[1] {
		case 'r':
			return "\r"
		case 'n':
			return "\n"
		case 't':
			return "\t"
		case '\\':
			return "\\"
		}
		v, _ := strconv.ParseUint(m[2:], 16, 8)
		return string([]byte{byte(v)})
	})
}

func leadingOctal(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '7' {
		i++
	}
	if i == 0 {
		return "0"
	}
	return s[:i]
}

func processExists(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// path resolves a step's file name relative to the work directory.
func (r *runner) path(p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return r.work + "/" + p
}

func (r *runner) spit(path, data string, appendTo bool) error {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendTo {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o666)
	if err != nil {
		return harnessError("cannot write %s: %s", path, strerror(err))
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		return harnessError("cannot write %s: %s", path, strerror(err))
	}
	return nil
}

// strerror renders an error like Perl's $! (C library wording).
func strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

func (r *runner) runsOf(key string) int {
	d, err := os.ReadFile(filepath.Join(r.work, "runs", key))
	if err != nil {
		return 0
	}
	s := strings.TrimSuffix(string(d), "\n")
	if !isDigits(s) {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSuffix(s, "\n"))
	return n
}

func (r *runner) alertsAfterMark() []alertRecord {
	recs := r.alertRecords()
	return recs[min(r.alertMark, len(recs)):]
}

// opstatusFields polls "list opstatus G,S" on the harness's own connection.
func (r *runner) opstatusFields(g, s string) (map[string]string, bool) {
	for _, l := range r.rawCmd("__poll", "list opstatus "+g+","+s, 5, nil) {
		if !strings.HasPrefix(l, "group=") {
			continue
		}
		f := map[string]string{}
		for _, kv := range perlSplit(l, " ") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		return f, true
	}
	return nil, false
}

// runningMonitors counts the monitors in "list pids".
func (r *runner) runningMonitors() (int, bool) {
	l := r.rawCmd("__poll", "list pids", 5, nil)
	if len(l) == 0 || !strings.HasPrefix(l[len(l)-1], "220") {
		return 0, false
	}
	n := 0
	for _, x := range l {
		if !strings.HasPrefix(x, "server ") && !statusPrefixRE.MatchString(x) {
			n++
		}
	}
	return n, true
}

var statusPrefixRE = regexp.MustCompile(`^[0-9]{3}`)

// pollUntil checks cond every 0.2 s until it holds or timeout seconds
// passed.  A server that is not running makes no progress: it looks once
// more, 0.5 s later, and gives up.
func (r *runner) pollUntil(timeout float64, cond func() bool) bool {
	deadline := time.Now().Add(seconds(timeout))
	pause := 200 * time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		if !r.serverAlive() {
			deadline, pause = time.Now(), 500*time.Millisecond
		}
		// Sleep: the conditions are the daemon's answers to `list pids`
		// and `list opstatus` (mon or gomon, which push nothing) and files
		// its monitors write; the reference harness polls them at this
		// pace, and the transcripts were recorded with it.
		time.Sleep(pause)
	}
	return true
}

// moncmd runs the stock client against the daemon; its output is split
// into replies and tidied like the harness's own.
func (r *runner) moncmd(argstr, stdin string) []string {
	a := shellSplit(argstr)
	// the command words follow the options moncmd understands
	var cmdWords []string
	file, haveFile := "", false
	for i := 0; i < len(a); i++ {
		if len(a[i]) == 2 && a[i][0] == '-' && strings.IndexByte("flsp", a[i][1]) >= 0 {
			if a[i][1] == 'f' && i+1 < len(a) {
				file, haveFile = a[i+1], true
			}
			i++
			continue
		}
		if moncmdFlagsRE.MatchString(a[i]) {
			continue
		}
		cmdWords = a[i:]
		break
	}
	var cmds []string
	if len(cmdWords) > 0 {
		cmds = []string{strings.Join(cmdWords, " ")}
	} else {
		src := stdin
		if haveFile {
			d, _ := os.ReadFile(r.path(file))
			src = string(d)
		}
		for _, l := range perlSplit(src, "\n") {
			if strings.TrimLeft(l, " \t\n\v\f\r") == "" || credentialRE.MatchString(l) {
				continue
			}
			cmds = append(cmds, l)
		}
	}
	in := filepath.Join(r.work, ".moncmd.in")
	os.WriteFile(in, []byte(stdin), 0o666)
	f, err := os.Open(in)
	if err != nil {
		return []string{"(cannot run moncmd: " + err.Error() + ")"}
	}
	defer f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/moncmd", append([]string{"-s", "127.0.0.1", "-p", strconv.Itoa(r.port)}, a...)...)
	cmd.Dir = r.work
	cmd.Stdin = f
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MONHOST=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	rc := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			rc = max(ee.ExitCode(), 0)
		} else {
			rc = 127
		}
	}
	outl := perlLines(outb.String())
	var o, cur []string
	ci := 0
	for _, l := range outl {
		cur = append(cur, l)
		if moncmdStatusRE.MatchString(l) {
			c := ""
			if ci < len(cmds) {
				c = cmds[ci]
			}
			o = append(o, r.tidyResponse(c, cur)...)
			cur = nil
			ci++
		}
	}
	o = append(o, cur...)
	if rc != 0 {
		o = append(o, fmt.Sprintf("(moncmd exit status %d)", rc))
	}
	return o
}

var (
	moncmdFlagsRE  = regexp.MustCompile(`^-[ahrd]+$`)
	credentialRE   = regexp.MustCompile(`(?i)^(user|pass)=`)
	moncmdStatusRE = regexp.MustCompile(`^[0-9]{3}[ \t\n\v\f\r]`)
)

// perlLines splits output into lines like Perl's <$fh> plus chomp: the
// last line may lack its newline.
func perlLines(s string) []string {
	if s == "" {
		return nil
	}
	l := strings.Split(s, "\n")
	if l[len(l)-1] == "" {
		l = l[:len(l)-1]
	}
	return l
}

var trapEscRE = regexp.MustCompile(`\\(n|t|\\)`)

// trapScript sends one trap with the stock Mon::Client, exactly as the
// reference harness does in-process.  Arguments: port, then key/value
// pairs.
const trapScript = `
my ($port, @kv) = @ARGV;
my %v;
while (@kv) { my $k = shift @kv; $v{$k} = shift @kv; }
my $ok = eval {
    require Mon::Client;
    my $c = Mon::Client->new(host => '127.0.0.1', port => $port,
                             username => $v{user} // '',
                             (defined $v{pass} ? (password => $v{pass}) : ()));
    my $r = $c->send_trap(
        group    => $v{group} // '',
        service  => $v{service} // '',
        retval   => $v{retval} // 0,
        opstatus => $v{opstatus} // (($v{retval} // 0) ? 'fail' : 'ok'),
        summary  => $v{summary} // '',
        detail   => $v{detail} // '',
    );
    die(($c->error // 'unknown error') . "\n") unless $r;
    1;
};
print $ok ? "trap sent" : "trap not sent: $@";
`

func (r *runner) trap(argstr string) []string {
	args := []string{"-e", trapScript, strconv.Itoa(r.port)}
	for _, w := range shellSplit(argstr) {
		k, v, _ := strings.Cut(w, "=")
		// \n, \t and \\ escapes (single-quote the value to keep them)
		v = trapEscRE.ReplaceAllStringFunc(v, func(m string) string {
			return map[string]string{`\n`: "\n", `\t`: "\t", `\\`: `\`}[m]
		})
		args = append(args, k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "perl", args...)
	cmd.Dir = r.work
	out, err := cmd.Output()
	if err != nil && len(out) == 0 {
		return []string{"trap not sent: " + err.Error() + "\n"}
	}
	return []string{string(out)}
}

func TestReadSteps(t *testing.T) {
	p := filepath.Join(t.TempDir(), "steps")
	text := "# comment\n\n  send list watch \nseq k <<END\n1 fail\n\nEND\nsendraw@p a\\r\\n\\x41\n"
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	steps, err := readSteps(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 4 || !steps[0].comment || steps[1].line != "send list watch " ||
		steps[2].line != "seq k" || steps[2].here != "1 fail\n\n" || !steps[2].hasHeredoc {
		t.Fatalf("steps = %+v", steps)
	}
	verb, rest := splitVerb(steps[3].line)
	if verb != "sendraw@p" || unescapeRaw(rest) != "a\r\nA" {
		t.Errorf("splitVerb = %q %q", verb, rest)
	}
	if got := perlSplitFunc("\nversion\r\nlist\n\n", func(b byte) bool { return b == '\r' || b == '\n' }); strings.Join(got, "|") != "|version|list" {
		t.Errorf("perlSplitFunc = %q", got)
	}
}
