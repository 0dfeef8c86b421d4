// Package servertest runs a real gomon client server for tests, the way
// net/http/httptest runs an HTTP server: a scheduler built from a mon.cf
// text, the real auth.cf tables and login methods (scheduler/auth), real
// monitor and alert scripts in a temporary directory, a TCP listener and
// a UDP trap socket on 127.0.0.1 with kernel-chosen ports.
package servertest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/auth"
	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/scheduler"
)

// OpenAuth is an auth.cf that allows every command to everyone and
// accepts traps from anyone (the conformance harness's default).
const OpenAuth = `command section
ack: all
clear: all
disable: all
enable: all
get: all
list: all
loadstate: all
reload: all
reset: all
savestate: all
servertime: all
set: all
start: all
stop: all
term: all
test: all

trap section
* * *
`

// Config describes the server to start.
type Config struct {
	// MonCF is the mon.cf text after the directory settings (basedir,
	// cfbasedir, mondir, alertdir, statedir, logdir, authfile, which
	// point into the temporary directory). "DIR" is replaced by that
	// directory. Remember mon's rule: a hostgroup line must be followed
	// by a blank line before the next watch.
	MonCF string
	// AuthCF is the auth.cf text; empty means OpenAuth.
	AuthCF string
	// Files are extra files, by path relative to the directory (e.g. a
	// userfile).
	Files map[string]string
	// Scripts are shell script bodies by file name: *.alert go into
	// alert.d, everything else into mon.d. "#!/bin/sh" is prepended.
	Scripts map[string]string
	// Server are the server options; Logger defaults to a discarding one
	// (set it to see the server's log), ReloadAuth to re-reading
	// auth.cf as the daemon does.
	Server server.Options
	// Scheduler are the scheduler options (Logger as above).
	Scheduler scheduler.Options
}

// Rig is a running server.
type Rig struct {
	Dir      string // the temporary directory
	Addr     string // TCP client address, 127.0.0.1:PORT
	TrapAddr string // UDP trap address, 127.0.0.1:PORT
	Sched    *scheduler.Scheduler
	Server   *server.Server
	Config   *config.Config

	events *await.Signal // notified after every scheduler event
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, c Config) *Rig {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range c.Scripts {
		sub := "mon.d"
		if strings.HasSuffix(name, ".alert") {
			sub = "alert.d"
		}
		if err := os.WriteFile(filepath.Join(dir, sub, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if c.AuthCF == "" {
		c.AuthCF = OpenAuth
	}
	files := map[string]string{"auth.cf": c.AuthCF}
	for name, body := range c.Files {
		files[name] = body
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(body, "DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	head := fmt.Sprintf("basedir = %[1]s\ncfbasedir = %[1]s\nmondir = %[1]s/mon.d\nalertdir = %[1]s/alert.d\n"+
		"statedir = %[1]s/state\nlogdir = %[1]s/log\nauthfile = %[1]s/auth.cf\n", dir)
	src := []byte(head + strings.ReplaceAll(c.MonCF, "DIR", dir))
	cfgPath := filepath.Join(dir, "mon.cf")
	if err := os.WriteFile(cfgPath, src, 0o644); err != nil {
		t.Fatal(err)
	}
	load := func() (*config.Config, error) {
		cfg, err := configfile.Parse(cfgPath, src, configfile.LoadOptions{Cwd: dir})
		if err != nil {
			return nil, err
		}
		configfile.Resolve(cfg, dir)
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		t.Fatalf("mon.cf: %v", err)
	}
	discard := slog.New(slog.DiscardHandler)
	if c.Scheduler.Logger == nil {
		c.Scheduler.Logger = discard
	}
	if c.Server.Logger == nil {
		c.Server.Logger = discard
	}
	loadAuth := func() (server.Access, server.Authenticator, error) {
		tab, err := auth.Load(cfg.Globals.AuthFile)
		if err != nil {
			return nil, nil, err
		}
		login, err := auth.NewAuthenticator(cfg.Globals.AuthType, cfg.Globals.UserFile, c.Server.Logger)
		if err != nil {
			return nil, nil, err
		}
		return tab, login, nil
	}
	acc, login, err := loadAuth()
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	if c.Scheduler.Reload == nil {
		c.Scheduler.Reload = load
	}
	events := &await.Signal{}
	observe := c.Scheduler.Events
	c.Scheduler.Events = func(e scheduler.Event) {
		if observe != nil {
			observe(e)
		}
		events.Notify()
	}
	sched := scheduler.New(cfg, c.Scheduler)

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var srv *server.Server
	if c.Server.ReloadAuth == nil {
		c.Server.ReloadAuth = func() error {
			acc, login, err := loadAuth()
			if err != nil {
				return err
			}
			srv.SetAuth(acc, login)
			return nil
		}
	}
	if c.Server.CheckConfig == nil {
		c.Server.CheckConfig = func() error { _, err := load(); return err }
	}
	if len(c.Server.ClientAllow) == 0 {
		c.Server.ClientAllow = strings.Fields(strings.Join(cfg.Globals.ClientAllow, " "))
	}
	srv, err = server.New(sched, acc, login, c.Server)
	if err != nil {
		t.Fatalf("server: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); sched.Run(ctx) }()
	go func() { defer wg.Done(); srv.Serve(ctx, ln) }()
	go func() { defer wg.Done(); srv.ServeTraps(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return &Rig{Dir: dir, Addr: ln.Addr().String(), TrapAddr: pc.LocalAddr().String(),
		Sched: sched, Server: srv, Config: cfg, events: events}
}

// Await waits until cond holds, checking it at once and after every
// scheduler event (a monitor's end, a trap, an alert, a load: what
// changes a service's state from outside the test's own calls), and
// fails the test after Timeout. cond must not be called back from the
// scheduler: it runs in the test's goroutine.
func (r *Rig) Await(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := r.events.Until(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// Port is the TCP port as a string (for client command lines).
func (r *Rig) Port() string { _, p, _ := net.SplitHostPort(r.Addr); return p }

// TrapPort is the UDP trap port as a string.
func (r *Rig) TrapPort() string { _, p, _ := net.SplitHostPort(r.TrapAddr); return p }

// Timeout bounds every read and write of a Conn.
const Timeout = 20 * time.Second

// Conn is a raw client connection.
type Conn struct {
	t    testing.TB
	Conn net.Conn
	R    *bufio.Reader
}

// Dial connects to the rig's client port.
func (r *Rig) Dial(t testing.TB) *Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp4", r.Addr, Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &Conn{t: t, Conn: c, R: bufio.NewReader(c)}
}

// Close closes the connection.
func (c *Conn) Close() error { return c.Conn.Close() }

// Send writes raw bytes.
func (c *Conn) Send(s string) {
	c.t.Helper()
	c.Conn.SetWriteDeadline(time.Now().Add(Timeout))
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

// Reply reads one reply: all lines up to and including the final
// "DDD " line, each without its LF.
func (c *Conn) Reply() []string {
	c.t.Helper()
	c.Conn.SetReadDeadline(time.Now().Add(Timeout))
	var lines []string
	for {
		l, err := c.R.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply (so far %q): %v", lines, err)
		}
		l = strings.TrimSuffix(l, "\n")
		lines = append(lines, l)
		if len(l) >= 4 && l[3] == ' ' && isDigits(l[:3]) {
			return lines
		}
	}
}

// Do sends one command line and returns its reply lines.
func (c *Conn) Do(line string) []string {
	c.t.Helper()
	c.Send(line + "\n")
	return c.Reply()
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
