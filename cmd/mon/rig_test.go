package main

// A rig that runs the real mon binary: built once per test binary,
// started with a configuration in a private directory, observed through
// its output, its status endpoint (/api/status) and the files its
// monitors and alerts write.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
)

var (
	rigBuildOnce sync.Once
	rigBin       string
	rigBuildErr  error
)

// monBinary builds the mon binary once per test binary. It goes to a
// fixed path per user and checkout (replaced atomically), so that runs do
// not pile up copies in the temp dir and two checkouts tested at once do
// not run each other's build.
func monBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the mon binary")
	}
	rigBuildOnce.Do(func() {
		cwd, _ := os.Getwd()
		sum := sha256.Sum256([]byte(cwd))
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("gomon-test-bin-%d-%x", os.Getuid(), sum[:6]))
		if rigBuildErr = os.MkdirAll(dir, 0o755); rigBuildErr != nil {
			return
		}
		tmp := filepath.Join(dir, fmt.Sprintf("mon.%d", os.Getpid()))
		out, err := exec.Command("go", "build", "-o", tmp, ".").CombinedOutput()
		if err != nil {
			rigBuildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		rigBin = filepath.Join(dir, "mon")
		rigBuildErr = os.Rename(tmp, rigBin)
	})
	if rigBuildErr != nil {
		t.Fatal(rigBuildErr)
	}
	return rigBin
}

// rigAuth lets anyone run the commands the tests use.
const rigAuth = `command section
list: all
disable: all
enable: all
term: all
reset: all

trap section
127.0.0.1 * *
`

// monDir is a private base directory: mon.d, alert.d, state, log, an
// auth.cf that allows the commands tests use, and the files tests write.
type monDir struct {
	t    *testing.T
	dir  string
	port int // client and trap port
	http int // status_listen port
}

func newMonDir(t *testing.T) *monDir {
	t.Helper()
	d := &monDir{t: t, dir: t.TempDir(), port: testnet.Port(t), http: testnet.Port(t)}
	for _, sub := range []string{"mon.d", "alert.d", "state", "log", "out"} {
		if err := os.Mkdir(d.path(sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d.write("auth.cf", rigAuth, 0o644)
	return d
}

func (d *monDir) path(name string) string { return filepath.Join(d.dir, name) }

func (d *monDir) write(name, content string, mode os.FileMode) {
	d.t.Helper()
	if err := os.WriteFile(d.path(name), []byte(content), mode); err != nil {
		d.t.Fatal(err)
	}
}

// script writes an executable shell script; DIR in body is the base dir.
func (d *monDir) script(name, body string) {
	d.write(name, "#!/bin/sh\n"+strings.ReplaceAll(body, "DIR", d.dir)+"\n", 0o755)
}

// config writes mon.cf: the rig's globals, then body with DIR replaced.
func (d *monDir) config(body string) string {
	head := fmt.Sprintf(`basedir = %[1]s
cfbasedir = %[1]s
mondir = mon.d
alertdir = alert.d
statedir = state
logdir = log
authfile = auth.cf
pidfile = %[1]s/mon.pid
serverbind = 127.0.0.1
trapbind = 127.0.0.1
serverport = %[2]d
trapport = %[2]d
status_listen = 127.0.0.1:%[3]d
`, d.dir, d.port, d.http)
	d.write("mon.cf", head+strings.ReplaceAll(body, "DIR", d.dir), 0o644)
	return d.path("mon.cf")
}

// monProc is a running mon.
type monProc struct {
	t    *testing.T
	d    *monDir
	cmd  *exec.Cmd
	out  *await.Output
	done chan struct{} // closed when the process has exited and been reaped
}

// start runs mon in d's directory with args and waits until its client
// port answers.
func (d *monDir) start(env []string, args ...string) *monProc {
	d.t.Helper()
	return d.startCmd(exec.Command(monBinary(d.t), args...), env)
}

func (d *monDir) startCmd(cmd *exec.Cmd, env []string) *monProc {
	d.t.Helper()
	p := &monProc{t: d.t, d: d, cmd: cmd, out: &await.Output{}, done: make(chan struct{})}
	cmd.Dir = d.dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	d.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if d.t.Failed() {
			d.t.Logf("mon output:\n%s", p.out.String())
		}
	})
	p.waitFor("mon server started")
	return p
}

// waitFor waits until mon's output contains s.
func (p *monProc) waitFor(s string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := p.out.Contains(ctx, s); err != nil {
		select {
		case <-p.done:
			p.t.Fatalf("mon exited early:\n%s", p.out.String())
		default:
		}
		p.t.Fatalf("%v; mon said:\n%s", err, p.out.String())
	}
}

func (p *monProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for mon to exit and returns its exit status.
func (p *monProc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("mon did not exit:\n%s", p.out.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// command sends one protocol command and returns the reply up to and
// including its final status line.
func (p *monProc) command(line string) string {
	p.t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.d.port), 10*time.Second)
	if err != nil {
		p.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "%s\n", line)
	var reply strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		reply.Write(buf[:n])
		s := reply.String()
		if i := strings.LastIndex(strings.TrimSuffix(s, "\n"), "\n"); strings.HasSuffix(s, "\n") &&
			len(s) > i+4 && (s[i+1] == '2' || s[i+1] == '5') && s[i+4] == ' ' {
			return s
		}
		if err != nil {
			return s
		}
	}
}

// apiService is a service in /api/status.
type apiService struct {
	Group, Service, Status, Summary string
	Disabled                        bool
	LastFailure                     int64 `json:"last_failure"`
}

// services reads /api/status.
func (p *monProc) services() map[string]apiService {
	p.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/status", p.d.http))
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rep struct{ Services []apiService }
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		p.t.Fatal(err)
	}
	out := map[string]apiService{}
	for _, s := range rep.Services {
		out[s.Group+"/"+s.Service] = s
	}
	return out
}

// waitStatus waits until service gs has the given status.
func (p *monProc) waitStatus(gs, status string) apiService {
	p.t.Helper()
	var s apiService
	waitUntil(p.t, 30*time.Second, gs+" "+status, func() bool {
		s = p.services()[gs]
		return s.Status == status
	})
	return s
}

// waitUntil polls cond, for what has no event to wait on: mon shows a
// service's status only when asked, and the kernel does not announce
// that a process was reaped. Files, output and exits have their own
// waits (waitFile, monProc.waitFor, waitExit).
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(limit, cond) {
		t.Fatalf("timed out after %v waiting for %s", limit, what)
	}
}

// poll calls cond every 50 ms until it returns true (and poll true) or
// limit has passed (false).
func poll(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		// Sleep: see waitUntil; what is polled has no event.
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// waitFile waits up to 30 s until the file at path exists and ok (nil:
// anything) accepts its content, and returns the content.
func waitFile(t *testing.T, path string, ok func([]byte) bool) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := await.File(ctx, path, ok)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitExit waits up to 30 s until process pid has exited (a zombie has).
func waitExit(t *testing.T, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := await.Exit(ctx, pid); err != nil {
		t.Fatal(err)
	}
}

// procState returns the state letter of a process (R, S, Z…), or "" when
// it does not exist.
func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// pid (comm) S ppid …: comm may contain spaces, so cut at the last ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// zombieChildren lists the zombie children of pid.
func zombieChildren(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndex(s, ")")+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
