package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gomon/gomon/internal/await"
)

// portPool hands out ports on which both a TCP listener and a UDP socket
// can be bound on 127.0.0.1 (the daemon uses the same number for client
// connections and traps).  It searches the range the golden transcripts
// were recorded with, outside the kernel's ephemeral range so that client
// connections cannot take a port before the daemon binds it, and never
// hands out a port twice while it is in use by this process.
type portPool struct {
	mu       sync.Mutex
	min, max int
	used     map[int]bool
}

func newPortPool() *portPool {
	return &portPool{min: envInt("PEER_PORT_MIN", 25830), max: envInt("PEER_PORT_MAX", 25899), used: map[int]bool{}}
}

func (p *portPool) get() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.max - p.min + 1
	if n <= 0 {
		return 0, fmt.Errorf("empty port range %d..%d", p.min, p.max)
	}
	start := rand.IntN(n)
	for i := range n {
		port := p.min + (start+i)%n
		if p.used[port] || !portFree(port) {
			continue
		}
		p.used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free port in %d..%d", p.min, p.max)
}

func (p *portPool) put(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, port)
}

func portFree(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// prepareWork builds a fresh work directory the way run-scenario.sh does:
// the common monitors, alerts and auth file, with the scenario directory
// copied on top.
func prepareWork(data, sdir string) (string, error) {
	tmp := os.Getenv("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	work, err := mktemp(tmp)
	if err != nil {
		return "", err
	}
	if work, err = filepath.EvalSymlinks(work); err != nil {
		return "", err
	}
	for _, d := range []string{"mon.d", "alert.d", "state", "log", "runs", "flags", "seq", "pids"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			return work, err
		}
	}
	common := filepath.Join(data, "common")
	for _, c := range [][2]string{
		{filepath.Join(common, "mon.d"), filepath.Join(work, "mon.d")},
		{filepath.Join(common, "alert.d"), filepath.Join(work, "alert.d")},
		{sdir, work},
	} {
		if err := copyTree(c[0], c[1]); err != nil {
			return work, err
		}
	}
	if _, err := os.Stat(filepath.Join(work, "auth.cf")); err != nil {
		if err := copyFile(filepath.Join(common, "auth.cf"), filepath.Join(work, "auth.cf")); err != nil {
			return work, err
		}
	}
	for _, d := range []string{"mon.d", "alert.d"} {
		ents, _ := os.ReadDir(filepath.Join(work, d))
		for _, e := range ents {
			p := filepath.Join(work, d, e.Name())
			if st, err := os.Stat(p); err == nil {
				os.Chmod(p, st.Mode().Perm()|0o111)
			}
		}
	}
	return work, nil
}

// mktemp creates DIR/monpeer.XXXXXX like mktemp(1): six letters and
// digits, so the path cannot contain a 10-digit number that the
// normalization would take for a time stamp.
func mktemp(dir string) (string, error) {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for range 100 {
		b := make([]byte, 6)
		for i := range b {
			b[i] = chars[rand.IntN(len(chars))]
		}
		p := filepath.Join(dir, "monpeer."+string(b))
		err := os.Mkdir(p, 0o700)
		if err == nil {
			return p, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("cannot create a work directory in %s", dir)
}

// copyTree copies src into dst like cp -pR: modes and modification times
// are kept, symbolic links are copied as links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			os.Remove(target)
			return os.Symlink(link, target)
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		default:
			return copyFile(p, target)
		}
	})
}

func copyFile(src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	os.Remove(dst)
	if err := os.WriteFile(dst, data, st.Mode().Perm()); err != nil {
		return err
	}
	if err := os.Chmod(dst, st.Mode().Perm()); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}

// daemon is a started server process, reaped as soon as it exits.
type daemon struct {
	proc   *os.Process
	done   chan struct{}
	status int // exit status as a shell reports it, valid after done
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// daemonEnv is the test's environment without MON_*, MONHOST and MONPORT,
// so nothing leaks into the daemon's monitors and alerts.
func daemonEnv(work string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MON_") || k == "MONHOST" || k == "MONPORT" || k == "PWD" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "PWD="+work)
}

// startServer starts the daemon as run-server.sh does and waits until its
// port answers.  It prints "server started", or the exit status and all
// the daemon printed.
func (r *runner) startServer(extra []string) []string {
	res := r.launch(extra)
	if res == "started" {
		r.serverUp = true
		return []string{"server started"}
	}
	r.serverUp = false
	var o []string
	if st, ok := strings.CutPrefix(res, "exited "); ok {
		// mon's status on a config error is whatever errno was when it
		// died; PEER_LOOSE_EXIT=1 reduces it to "nonzero"
		if os.Getenv("PEER_LOOSE_EXIT") != "" && os.Getenv("PEER_LOOSE_EXIT") != "0" && st != "0" {
			st = "nonzero"
		}
		o = append(o, "server exited with status "+st)
	} else {
		o = append(o, "server did not come up ("+res+")")
	}
	for _, f := range []string{"server.out", "server.err"} {
		d, _ := os.ReadFile(filepath.Join(r.work, f))
		for _, l := range perlSplit(string(d), "\n") {
			o = append(o, f+": "+l)
		}
	}
	return o
}

// launch returns "started", "exited STATUS" or "timeout".
func (r *runner) launch(extra []string) string {
	w := r.work
	cfg := r.config
	if cfg == "" {
		cfg = "mon.cf"
	}
	if !filepath.IsAbs(cfg) {
		cfg = w + "/" + cfg
	}
	for _, d := range []string{"state", "log", "alert.d", "mon.d"} {
		os.MkdirAll(filepath.Join(w, d), 0o755)
	}
	port := strconv.Itoa(r.port)
	pidFile := w + "/mon.pid"
	// A daemon that was killed leaves its pid file behind; the new one's
	// is the sign that it listens.
	os.Remove(pidFile)
	args := append(append([]string(nil), r.serverCmd[1:]...),
		"-c", cfg, "-p", port, "-t", port,
		"-b", w, "-B", w, "-D", w+"/state", "-L", w+"/log", "-P", pidFile,
		"-a", w+"/alert.d:/usr/lib/mon/alert.d", "-s", w+"/mon.d:/usr/lib/mon/mon.d",
		"-A", w+"/auth.cf")
	args = append(args, extra...)

	stdout, err1 := os.Create(filepath.Join(w, "server.out"))
	stderr, err2 := os.Create(filepath.Join(w, "server.err"))
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("exited 1 (%v %v)", err1, err2)
	}
	defer stdout.Close()
	defer stderr.Close()
	cmd := exec.Command(r.serverCmd[0], args...)
	cmd.Dir = w
	cmd.Env = daemonEnv(w)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		// what the shell would do with a command it cannot run
		fmt.Fprintf(stderr, "%s: %v\n", r.serverCmd[0], err)
		return "exited 127"
	}
	d := &daemon{proc: cmd.Process, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		d.status = shellStatus(cmd.ProcessState)
		close(d.done)
	}()
	r.srv = d
	os.WriteFile(filepath.Join(w, "server.pid"), []byte(strconv.Itoa(d.proc.Pid)+"\n"), 0o644)

	// mon and gomon both write the pid file once their sockets listen;
	// the wait ends early if the daemon exits instead.
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(envInt("PEER_START_TIMEOUT", 15))*time.Second)
	defer cancel()
	go func() {
		select {
		case <-d.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := await.File(ctx, pidFile, func(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) })
	if d.exited() {
		r.srv = nil
		os.Remove(filepath.Join(w, "server.pid"))
		return "exited " + strconv.Itoa(d.status)
	}
	if err == nil {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second); err == nil {
			c.Close()
			return "started"
		}
	}
	d.proc.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(time.Second):
	}
	d.proc.Signal(syscall.SIGKILL)
	return "timeout"
}

func shellStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// stopServer closes every connection and stops the daemon: SIGTERM, then
// SIGKILL after 5 s.
func (r *runner) stopServer() []string {
	r.closeAll()
	res := r.stopDaemon()
	r.serverUp = false
	return []string{"server " + res}
}

func (r *runner) stopDaemon() string {
	d := r.srv
	if d == nil {
		return "not running"
	}
	r.srv = nil
	os.Remove(filepath.Join(r.work, "server.pid"))
	if d.exited() {
		return "not running"
	}
	d.proc.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return "stopped"
	case <-time.After(5 * time.Second):
	}
	d.proc.Signal(syscall.SIGKILL)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
	return "killed"
}

func (r *runner) serverAlive() bool {
	if !r.serverUp {
		return false
	}
	return r.srv == nil || !r.srv.exited()
}

// killLeftovers terminates hang.monitor sleeps that are still around,
// and returns their pids.
func (r *runner) killLeftovers() (killed []int) {
	pids, _ := filepath.Glob(filepath.Join(r.work, "pids", "*.pid"))
	for _, pf := range pids {
		d, err := os.ReadFile(pf)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSuffix(string(d), "\n"))
		if err != nil {
			continue
		}
		if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(cmdline), "sleep") {
			if syscall.Kill(pid, syscall.SIGTERM) == nil {
				killed = append(killed, pid)
			}
		}
	}
	return killed
}

// killWorkProcesses terminates processes whose command line names the work
// directory: children forked by the daemon keep its command line, and the
// original leaves such processes behind when an alert cannot be executed.
// It returns their pids.
func killWorkProcesses(work string) (killed []int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), work+"/") && syscall.Kill(pid, syscall.SIGTERM) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}
