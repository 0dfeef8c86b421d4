// Package server speaks mon's client protocol over TCP and receives mon
// traps over UDP (protocol.md), in front of a scheduler.Scheduler.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/snmptrap"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/scheduler"
)

// Access is the auth.cf policy: which user may run which command, and
// which sender may deliver traps.
type Access interface {
	// Allowed reports whether user (authenticated or not) may run cmd,
	// and if not, why ("denied" or "not authenticated").
	Allowed(user string, authenticated bool, cmd string) (ok bool, why string)
	// CheckTrap returns an error, in mon's words, if a trap is rejected.
	CheckTrap(senderIP, user, pass string) error
}

// Authenticator checks `login` credentials.
type Authenticator interface {
	Login(user, pass, peerIP string) bool
}

// Cluster is a node's membership in a gomon cluster (internal/cluster).
type Cluster interface {
	// StatusLines are the data lines of `list cluster`.
	StatusLines() []string
	// Owner names the node that runs a shard-scope service.
	Owner(group, service string) (node string, ok bool)
	// ForwardTrap sends a trap datagram, as received, to the node that
	// runs its service.
	ForwardTrap(group, service string, pkt []byte) error
	// Replicate hands an operator command carried out here, by user, to
	// the other nodes before the reply goes out; it gives up after a
	// bounded time when the cluster cannot be reached (an error: the
	// command holds on this node only).
	Replicate(line, user string) error
}

// Options configure a Server.
type Options struct {
	Logger      *slog.Logger
	ClientAllow []string      // mon's clientallow patterns; empty = any IPv4 client
	CLTimeout   time.Duration // idle timeout; 0 = none
	MaxClients  int           // concurrent connections; default 256
	MaxLine     int           // longest request line; default protocol.DefaultMaxLine
	Debug       bool          // enables `dump`, as mon -d does
	// Term is called after replying to `term`; the daemon exits 0.
	Term func()
	// Remote, when set, propagates operator commands to peer servers
	// (mon's monremote, see RemoteCommand): it receives the words of the
	// action.
	Remote func(args ...string)
	// ReloadAuth re-reads auth.cf (`reload auth`); on error the old
	// policy stays.
	ReloadAuth func() error
	// CheckConfig parses the configuration file without applying it
	// (`test config`); the error text is sent to the client.
	CheckConfig func() error
	// Cluster, when set, is this node's cluster membership: `list
	// cluster` shows it, and the operator commands that change state are
	// handed to it for the other nodes to replay.
	Cluster Cluster
	// LoginBackoff is how long a source that failed to log in ten
	// times in a row is refused further logins; it doubles with every
	// further failure, up to a minute. 0 means one second.
	LoginBackoff time.Duration
}

// Server serves one scheduler.
type Server struct {
	sched *scheduler.Scheduler
	opts  Options
	log   *slog.Logger
	allow []*regexp.Regexp

	mu    sync.RWMutex
	acc   Access
	login Authenticator

	conns  *connTable // open client connections, at most MaxClients
	logins *loginThrottle
	// busy bounds how many requests are being handled (and their replies
	// started on the wire, see write) at once, to one fewer than the CPUs
	// Go uses: however hard clients push, one CPU stays free for the
	// scheduler's timers and monitor runs.
	busy chan struct{}

	opstatus opstatusCache

	snmpStats atomic.Pointer[func() snmptrap.Stats] // the SNMP trap receiver's, when it runs
}

// New returns a server for sched using the given auth policy and login
// methods.
func New(sched *scheduler.Scheduler, acc Access, login Authenticator, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxClients <= 0 {
		opts.MaxClients = 256
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = protocol.DefaultMaxLine
	}
	srv := &Server{sched: sched, opts: opts, log: opts.Logger, acc: acc, login: login,
		conns:  &connTable{max: opts.MaxClients, open: map[*clientConn]struct{}{}},
		logins: newLoginThrottle(opts.LoginBackoff),
		busy:   make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))}
	for _, p := range opts.ClientAllow {
		re, err := clientPattern(p)
		if err != nil {
			return nil, fmt.Errorf("clientallow %q: %w", p, err)
		}
		srv.allow = append(srv.allow, re)
	}
	return srv, nil
}

// SetSNMPTrapStats makes `list snmptraps` show the SNMP trap receiver's
// counters (nil: no receiver).
func (srv *Server) SetSNMPTrapStats(f func() snmptrap.Stats) {
	if f != nil {
		srv.snmpStats.Store(&f)
	}
}

// SetAuth replaces the auth policy (reload auth).
func (srv *Server) SetAuth(acc Access, login Authenticator) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.acc, srv.login = acc, login
}

func (srv *Server) access() (Access, Authenticator) {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.acc, srv.login
}

// CheckClientAllow reports the first clientallow pattern that does not
// compile, so that a configuration check refuses it as the start would.
func CheckClientAllow(patterns []string) error {
	for _, p := range patterns {
		if _, err := clientPattern(p); err != nil {
			return fmt.Errorf("clientallow %q: %w", p, err)
		}
	}
	return nil
}

// clientPattern turns a clientallow pattern into an anchored regexp:
// every '.' not preceded by '[' or '\' is a literal dot (protocol §1.2).
func clientPattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '.' && (i == 0 || (p[i-1] != '[' && p[i-1] != '\\')) {
			b.WriteString(`\.`)
			continue
		}
		b.WriteByte(p[i])
	}
	return regexp.Compile("^(?:" + b.String() + ")$")
}

func (srv *Server) allowed(ip string) bool {
	if len(srv.allow) == 0 {
		return net.ParseIP(ip).To4() != nil || ip == "::1"
	}
	for _, re := range srv.allow {
		if re.MatchString(ip) {
			return true
		}
	}
	return false
}

// Serve accepts client connections on ln until ctx is done.
func (srv *Server) Serve(ctx context.Context, ln net.Listener) error {
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			retry, err := socketError(ctx, err)
			if retry {
				continue
			}
			return err
		}
		ip, _, _ := net.SplitHostPort(c.RemoteAddr().String())
		if !srv.allowed(ip) {
			srv.log.Warn("closing unwanted client: "+ip, syslog.Key, "notice")
			c.Close()
			continue
		}
		cc := &clientConn{Conn: c}
		evicted, ok := srv.conns.add(cc)
		if evicted != nil {
			srv.log.Info("too many clients: closing the longest idle connection", "client", evicted.RemoteAddr().String(), "max", srv.opts.MaxClients)
			evicted.Close()
		}
		if !ok {
			srv.log.Warn("too many clients, all busy: closing connection", "client", c.RemoteAddr().String(), "max", srv.opts.MaxClients)
			c.Close()
			continue
		}
		go func() {
			defer srv.conns.remove(cc)
			srv.handleConn(ctx, cc, ip)
		}()
	}
}

// socketError decides what an Accept or ReadFrom error means: a timeout
// is retried; once ctx is done the loop ends cleanly; anything else ends
// it with the error.
func socketError(ctx context.Context, err error) (retry bool, _ error) {
	if ctx.Err() != nil {
		return false, nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, nil
	}
	return false, err
}

// session is one client connection's identity and view.
type session struct {
	ip     string
	user   string
	authed bool
	view   string
	// replay is set for a command another cluster node received and
	// authorized: it runs without an auth check and is not replicated.
	replay bool
}

func (srv *Server) handleConn(ctx context.Context, c *clientConn, ip string) {
	defer c.Close()
	addr := c.RemoteAddr().String()
	srv.chatter("client connected", "client connection from "+addr, "client", addr)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	sess := &session{ip: ip}
	lr := protocol.NewLineReader(c, srv.opts.MaxLine)
	var buf []byte // reused for framing replies
	for {
		if t := srv.opts.CLTimeout; t > 0 {
			c.SetReadDeadline(time.Now().Add(t))
		}
		line, err := lr.ReadLine()
		tooLong := errors.Is(err, protocol.ErrLineTooLong)
		if err != nil && !tooLong {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				srv.chatter("client timed out", fmt.Sprintf("closing client %s: timeout after %gs", addr, srv.opts.CLTimeout.Seconds()),
					"client", addr, "timeout", srv.opts.CLTimeout)
			}
			return
		}
		srv.conns.setBusy(c, true)
		srv.busy <- struct{}{}
		var r reply
		if tooLong {
			r = reply{final: fmt.Sprintf("520 request line longer than %d bytes", srv.opts.MaxLine)}
		} else {
			r = srv.handle(sess, line)
		}
		if r.silent {
			<-srv.busy
			srv.conns.setBusy(c, false)
			continue
		}
		var sent bool
		buf, sent = srv.write(c, buf, r)
		srv.conns.setBusy(c, false)
		if r.after != nil {
			r.after()
		}
		if !sent || r.close {
			return
		}
	}
}

// chatter logs per-connection news: debug in gomon's log, and mon's
// classic line at info in syslog, as mon writes it there.
func (srv *Server) chatter(msg, classic string, attrs ...any) {
	srv.log.Log(context.Background(), syslog.LevelChatter, msg, append(attrs, syslog.Key, "info", syslog.Classic, classic)...)
}

// write sends one reply with a single Write, framing it in buf unless it
// comes framed already, and releases the caller's busy slot. It returns
// buf for reuse and whether the reply was sent.
//
// The write itself (copying the reply into the socket, which on loopback
// also does the receiver's work) is most of a request's CPU, so it counts
// against the slots too. A client that does not take the reply within
// slotWrite gets the rest outside the slot, and is dropped if it does not
// read for 30 s, so no client can hold the server.
func (srv *Server) write(c *clientConn, buf []byte, r reply) ([]byte, bool) {
	wire := r.wire
	if wire == nil {
		buf = protocol.AppendReply(buf[:0], r.data, r.final)
		wire = buf
	}
	c.SetWriteDeadline(time.Now().Add(slotWrite))
	n, err := c.Write(wire)
	<-srv.busy
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A client that does not read its reply is as good as idle: it
		// may give its place to a new one.
		srv.conns.setBusy(c, false)
		c.SetWriteDeadline(time.Now().Add(30 * time.Second))
		_, err = c.Write(wire[n:])
	}
	if cap(buf) > maxKeptBuffer {
		buf = nil // a rare big reply is not kept for the connection's life
	}
	return buf, err == nil
}

// slotWrite is how long a reply may take to write while holding a busy
// slot.
const slotWrite = 10 * time.Millisecond

// maxKeptBuffer bounds the framing buffer a connection keeps between
// replies.
const maxKeptBuffer = 64 << 10
