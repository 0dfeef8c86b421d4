package faults

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/testnet"
)

// rig is one daemon's private directory, laid out as mon's -b, -D, -L,
// -a and -s options expect, with the suite's scripts in it.
type rig struct {
	s    *suite
	dir  string
	port int    // client and trap port
	http int    // status_listen port
	body string // mon.cf after the globals, as last written by config
}

// Scripts every rig has. DIR is the rig's directory, TAG the run's tag.
var rigScripts = map[string]string{
	"mon.d/ok.monitor":   "echo ok; exit 0",
	"mon.d/fail.monitor": `echo "failed $*"; exit 1`,
	// The healthy monitor records when it started: bash has the clock
	// as a builtin, so a stamp costs no extra process.
	"mon.d/stamp.monitor":   "#!/bin/bash\nprintf '%s %s\\n' \"$1\" \"$EPOCHREALTIME\" >> DIR/stamps.log\necho ok",
	"alert.d/sink.alert":    "cat > /dev/null; exit 0",
	"alert.d/failing.alert": "cat > /dev/null; exit 1",
}

// rigAuth lets anyone run what the checks need, but not term, so no
// junk can end a daemon.
const rigAuth = `command section
list: all
servertime: all
reset: all
start: all
stop: all
savestate: all
loadstate: all
disable: all
enable: all
get: all
set: all
test: all
ack: all
clear: all

trap section
127.0.0.1 * *
`

func (s *suite) newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{s: s, dir: t.TempDir(), port: testnet.Port(t), http: testnet.Port(t)}
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		if err := os.Mkdir(r.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range rigScripts {
		r.script(t, name, body)
	}
	r.write(t, "auth.cf", rigAuth)
	r.write(t, "users", "")
	return r
}

func (r *rig) path(name string) string { return filepath.Join(r.dir, name) }

func (r *rig) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(r.path(name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// script writes an executable; a body without #! runs under /bin/sh.
func (r *rig) script(t *testing.T, name, body string) {
	t.Helper()
	if !strings.HasPrefix(body, "#!") {
		body = "#!/bin/sh\n" + body
	}
	body = strings.NewReplacer("DIR", r.dir, "TAG", r.s.tag).Replace(body) + "\n"
	if err := os.WriteFile(r.path(name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// globals is the head of a rig's mon.cf: the status page, and logins
// checked against the rig's own user file (empty unless a check writes
// one), so that no login reads the system's password files.
func (r *rig) globals() string {
	return fmt.Sprintf("status_listen = 127.0.0.1:%d\nauthtype = userfile\nuserfile = %s\n\n", r.http, r.path("users"))
}

// config writes mon.cf: the globals, then body.
func (r *rig) config(t *testing.T, body string) string {
	t.Helper()
	r.body = body
	r.write(t, "mon.cf", r.globals()+body)
	return r.path("mon.cf")
}

// args is mon's command line for config file cf in this rig: every path
// and port is given, so a configuration (Debian's, or a mutated one)
// cannot point the daemon outside the rig.
func (r *rig) args(cf string) []string {
	return []string{"-c", cf, "-p", strconv.Itoa(r.port), "-t", strconv.Itoa(r.port),
		"-b", r.dir, "-B", r.dir, "-D", r.path("state"), "-L", r.path("log"),
		"-P", r.path("mon.pid"), "-A", r.path("auth.cf"), "-a", r.path("alert.d"), "-s", r.path("mon.d")}
}

// daemon is a running mon.
type daemon struct {
	r        *rig
	name     string
	cmd      *exec.Cmd
	errPath  string        // its stderr: the log
	done     chan struct{} // closed once it has been reaped
	stopping atomic.Bool   // we asked it to end (or killed it)
	started  time.Time
}

// start runs mon on config file cf (extra options after the rig's) and
// waits until it has started. A port taken by another program in the
// meantime is retried on fresh ports.
func (r *rig) start(t *testing.T, name, cf string, env []string, extra ...string) *daemon {
	t.Helper()
	for attempt := 0; ; attempt++ {
		d, err := r.tryStart(t, name, cf, env, extra...)
		if err == nil {
			return d
		}
		if !errors.Is(err, errBind) || attempt == 3 {
			t.Fatalf("%s: %v", name, err)
		}
		r.port, r.http = testnet.Port(t), testnet.Port(t)
		if r.body != "" && cf == r.path("mon.cf") {
			r.config(t, r.body) // its status_listen names the old port
		}
	}
}

// errBind is a start that failed only because a port was taken.
var errBind = errors.New("port taken")

func (r *rig) tryStart(t *testing.T, name, cf string, env []string, extra ...string) (*daemon, error) {
	t.Helper()
	d := &daemon{r: r, name: name, done: make(chan struct{}), errPath: r.path(name + ".err")}
	d.cmd = exec.Command(r.s.bin, append(r.args(cf), extra...)...)
	d.cmd.Dir = r.dir
	d.cmd.Env = append(cleanEnv(), env...)
	errFile, err := os.Create(d.errPath)
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stdout, d.cmd.Stderr = errFile, errFile
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		errFile.Close()
		t.Fatal(err)
	}
	errFile.Close()
	r.s.mu.Lock()
	r.s.daemons++
	r.s.mu.Unlock()
	go func() {
		d.cmd.Wait()
		close(d.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-d.done:
			log := d.log()
			d.scanPanics()
			if strings.Contains(log, "could not bind") {
				return nil, errBind
			}
			return nil, fmt.Errorf("exited during start-up (%v):\n%s", d.cmd.ProcessState, tail(log, 2000))
		case <-time.After(20 * time.Millisecond):
		}
		if strings.Contains(d.log(), `msg="mon server started"`) {
			t.Cleanup(func() { d.stop(t) })
			return d, nil
		}
		if time.Now().After(deadline) {
			d.kill()
			return nil, fmt.Errorf("not started after 30 s:\n%s", tail(d.log(), 2000))
		}
	}
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// log is what the daemon wrote to stderr so far.
func (d *daemon) log() string {
	b, _ := os.ReadFile(d.errPath)
	return string(b)
}

func (d *daemon) logSize() int64 {
	st, err := os.Stat(d.errPath)
	if err != nil {
		return 0
	}
	return st.Size()
}

// alive reports whether the daemon is still running.
func (d *daemon) alive() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// stop ends the daemon with SIGTERM (it must exit 1, mon's status for
// SIGTERM, within 15 s) and records a panic, an unexpected exit or
// unreaped children. It is safe to call more than once.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if d.stopping.Swap(true) {
		// Stopped another way (term, kill): it must be gone soon.
		select {
		case <-d.done:
		case <-time.After(15 * time.Second):
			d.r.s.noteExit(d.name + ": still running 15 s after it was told to end")
			d.cmd.Process.Kill()
			<-d.done
		}
		return
	}
	select {
	case <-d.done:
		d.r.s.noteExit(fmt.Sprintf("%s: %v", d.name, d.cmd.ProcessState))
		t.Errorf("%s exited on its own (%v):\n%s", d.name, d.cmd.ProcessState, tail(d.log(), 3000))
		d.scanPanics()
		return
	default:
	}
	if z := persistentZombies(d.pid()); len(z) > 0 {
		d.r.s.noteZombies(fmt.Sprintf("%s: %v", d.name, z))
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if code := d.cmd.ProcessState.ExitCode(); code != 1 {
			d.r.s.noteExit(fmt.Sprintf("%s: exit status %d after SIGTERM", d.name, code))
		}
	case <-time.After(15 * time.Second):
		d.r.s.noteExit(d.name + ": no exit 15 s after SIGTERM")
		d.cmd.Process.Kill()
		<-d.done
	}
	d.scanPanics()
}

// kill ends the daemon with SIGKILL, as a crash would.
func (d *daemon) kill() {
	d.stopping.Store(true)
	d.cmd.Process.Kill()
	<-d.done
	d.scanPanics()
}

// panicRE matches a Go panic or fatal runtime error and the goroutine
// traces that follow one, at the start of a line.
var panicRE = regexp.MustCompile(`(?m)^(panic: |fatal error: |goroutine \d+ \[)`)

// scanPanics records a panic trace in the daemon's stderr.
func (d *daemon) scanPanics() {
	log := d.log()
	if m := panicRE.FindStringIndex(log); m != nil {
		d.r.s.notePanic(fmt.Sprintf("%s: %q", d.name, firstLine(log[m[0]:])))
	}
}

// death describes how a daemon that is gone ended: its exit status and
// the first line of a panic, if any.
func (d *daemon) death() string {
	why := fmt.Sprint(d.cmd.ProcessState)
	log := d.log()
	if m := panicRE.FindStringIndex(log); m != nil {
		why += ", " + firstLine(log[m[0]:])
	}
	return why
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// cleanEnv is the test's environment without mon's own variables.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MON_") || strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, "GOTRACEBACK=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// checkConfig runs mon --check-config on cf in the rig, for at most 30 s.
func (r *rig) checkConfig(cf string) (code int, stderr string, err error) {
	return r.checkConfigWithin(cf, 30*time.Second)
}

func (r *rig) checkConfigWithin(cf string, limit time.Duration) (code int, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.s.bin, append([]string{"--check-config"}, r.args(cf)...)...)
	cmd.Dir = r.dir
	cmd.Env = cleanEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	r.s.mu.Lock()
	r.s.checks++
	r.s.mu.Unlock()
	if m := panicRE.FindStringIndex(out.String()); m != nil {
		r.s.notePanic(fmt.Sprintf("--check-config %s: %q", filepath.Base(cf), firstLine(out.String()[m[0]:])))
	}
	if ctx.Err() != nil {
		return -1, out.String(), fmt.Errorf("--check-config did not finish in %v", limit)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1, out.String(), err
	}
	return cmd.ProcessState.ExitCode(), out.String(), nil
}

// client is one connection to the daemon's client port.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func (d *daemon) dial() (*client, error) {
	c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", d.r.port), 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &client{c: c, r: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (c *client) close() { c.c.Close() }

// cmd sends one line and reads its reply.
func (c *client) cmd(line string) (data []string, final string, err error) {
	c.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c.c, line+"\n"); err != nil {
		return nil, "", err
	}
	return c.reply()
}

// reply reads data lines up to a final line: three digits and a blank
// or the line end, as moncmd recognizes it.
func (c *client) reply() (data []string, final string, err error) {
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return data, "", err
		}
		l = strings.TrimSuffix(l, "\n")
		if isFinal(l) {
			return data, l, nil
		}
		data = append(data, l)
	}
}

func isFinal(l string) bool {
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	return len(l) >= 3 && digit(l[0]) && digit(l[1]) && digit(l[2]) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

// command runs one command on a fresh connection.
func (d *daemon) command(line string) (data []string, final string, err error) {
	c, err := d.dial()
	if err != nil {
		return nil, "", err
	}
	defer c.close()
	return c.cmd(line)
}

// opstatus is `list opstatus` as group/service → key → value.
func (d *daemon) opstatus() (map[string]map[string]string, error) {
	data, final, err := d.command("list opstatus")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(final, "220") {
		return nil, fmt.Errorf("list opstatus: %q", final)
	}
	return parseOpstatus(data), nil
}

// parseOpstatus splits `list opstatus` records (blank-separated
// key=value pairs; values escaped, so without blanks).
func parseOpstatus(data []string) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, l := range data {
		rec := map[string]string{}
		for _, f := range strings.Fields(l) {
			k, v, _ := strings.Cut(f, "=")
			rec[k] = v
		}
		out[rec["group"]+"/"+rec["service"]] = rec
	}
	return out
}

// metrics fetches /metrics as series → value ("name{labels}" as written).
func (d *daemon) metrics() (map[string]float64, error) {
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", d.r.http))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err == nil {
			out[l[:i]] = v
		}
	}
	return out, sc.Err()
}

// sum adds the series of a metric family whose labels contain all of
// the given label pairs (`group="g"`).
func sum(m map[string]float64, name string, labels ...string) float64 {
	var total float64
	for k, v := range m {
		fam, rest, _ := strings.Cut(k, "{")
		if fam != name {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(rest, l)
		}
		if ok {
			total += v
		}
	}
	return total
}

// waitFor polls cond every 50 ms for up to limit.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
