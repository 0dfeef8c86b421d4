package monitors

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// This file holds what the network built-ins share: running one check
// per host concurrently, dialling with the host's deadline, and the
// option and error conventions of the bundled Perl scripts.

// maxParallel bounds the host checks of one run in flight at once, so a
// huge host group cannot exhaust file descriptors.
const maxParallel = 256

// checkHosts runs check for every host concurrently, each under its own
// deadline of perHost (and ctx), and returns the results in host order.
func checkHosts[T any](ctx context.Context, hosts []string, perHost time.Duration, check func(ctx context.Context, host string) T) []T {
	results := make([]T, len(hosts))
	if len(hosts) == 1 {
		// The common case at scale (one host per service): the run's
		// own goroutine checks it, without a second one and its stack.
		hctx, cancel := context.WithTimeout(ctx, perHost)
		defer cancel()
		results[0] = check(hctx, hosts[0])
		return results
	}
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, host := range hosts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			hctx, cancel := context.WithTimeout(ctx, perHost)
			defer cancel()
			results[i] = check(hctx, host)
		}()
	}
	wg.Wait()
	return results
}

// withHostArgs treats the positional arguments left after the flags as
// hosts, placed before the ones mon appends: that is what they are to the
// script, and how the drop-in form passes its hosts.
func withHostArgs(m Monitor, extra []string) Monitor {
	if len(extra) == 0 {
		return m
	}
	return MonitorFunc(func(ctx context.Context, req Request) Result {
		req.Hosts = append(append([]string{}, extra...), req.Hosts...)
		return m.Check(ctx, req)
	})
}

// checkAll checks every host under the run's timeout and returns the
// verdicts with mon's exit code and the run's duration.
func checkAll(ctx context.Context, req Request, perHost time.Duration, check func(context.Context, string) HostResult) Result {
	start := time.Now()
	hosts := checkRun(ctx, req, perHost, check)
	return Result{Hosts: hosts, Exit: exitFor(hosts), Duration: time.Since(start)}
}

// checkRun is checkHosts for the hosts of a run, all within its timeout.
func checkRun[T any](ctx context.Context, req Request, perHost time.Duration, check func(ctx context.Context, host string) T) []T {
	if len(req.Hosts) == 1 {
		// One host's deadline can be the earlier of the two: a context
		// and its timer fewer per run, most runs at scale.
		if req.Timeout > 0 {
			perHost = min(perHost, req.Timeout)
		}
		return checkHosts(ctx, req.Hosts, perHost, check)
	}
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	return checkHosts(ctx, req.Hosts, perHost, check)
}

// failureReport is the output most scripts print when hosts fail: the
// failing hosts on the summary line, then head, then one line per failing
// host: HOST SEP DETAIL.
func failureReport(hosts []HostResult, head, sep string) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(failedHosts(hosts), " ") + "\n" + head)
	for _, h := range hosts {
		if !h.OK {
			b.WriteString(h.Host + sep + h.Detail + "\n")
		}
	}
	return []byte(b.String())
}

// withRunTimeout bounds the whole run by req.Timeout, when one is set.
func withRunTimeout(ctx context.Context, req Request) (context.Context, context.CancelFunc) {
	if req.Timeout > 0 {
		return context.WithTimeout(ctx, req.Timeout)
	}
	return context.WithCancel(ctx)
}

// dialTCP connects to host:port and ties the connection to ctx: every
// later read and write ends at ctx's deadline, or at once when ctx is
// cancelled.
func dialTCP(ctx context.Context, host, port string) (net.Conn, error) {
	conn, err := connectTCP(ctx, host, port)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return conn, nil
}

// connectTCP connects to host:port within ctx, for a check that only
// connects; dialTCP for one that talks.
func connectTCP(ctx context.Context, host, port string) (net.Conn, error) {
	// No keep-alive: a check's connection lives for one exchange, and
	// setting it up costs four setsockopt calls per check.
	d := net.Dialer{KeepAlive: -1}
	return d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
}

// isTimeout reports whether err comes from a deadline running out.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// isNotFound reports whether err is a failed name lookup.
func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

// errText renders err the way Perl's $! does ("Connection refused"),
// falling back to Go's text when there is no errno.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return de.Err
	}
	return err.Error()
}

// secondsOpt parses a -t value in seconds (fractions allowed). Like the
// scripts' `$opt_t || DEFAULT`, an absent or zero value means def.
func secondsOpt(opts map[byte]string, flag byte, def time.Duration) (time.Duration, error) {
	v, ok := opts[flag]
	if !ok {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, fmt.Errorf("-%c %q: not a number of seconds", flag, v)
	}
	if f == 0 {
		return def, nil
	}
	return time.Duration(f * float64(time.Second)), nil
}

// portOpt parses a -p value: a number or a service name from
// /etc/services, as the scripts accept. Absent or "0" means def.
func portOpt(opts map[byte]string, flag byte, def string) (string, error) {
	v, ok := opts[flag]
	if !ok || v == "0" {
		return def, nil
	}
	n, err := net.LookupPort("tcp", v)
	if err != nil || n == 0 {
		return "", fmt.Errorf("-%c %q: not a port", flag, v)
	}
	return strconv.Itoa(n), nil
}

// secondsText prints a duration as the whole or fractional seconds the
// user gave ("30", "0.5").
func secondsText(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// session is a line-oriented conversation with a server (FTP, SMTP,
// IMAP, POP3). Its reads and writes are bounded by the deadline dialTCP
// set on the connection.
type session struct {
	conn net.Conn
	r    *bufio.Reader
}

func newSession(conn net.Conn) *session {
	return &session{conn: conn, r: bufio.NewReader(conn)}
}

// maxLine cuts overlong lines, so a server cannot make us buffer
// without bound.
const maxLine = 64 << 10

// readLine returns the next line with its line end, as Perl's <S> does
// (a last line without one is returned too). At EOF it returns "" and
// io.EOF.
func (s *session) readLine() (string, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		switch {
		case err == bufio.ErrBufferFull && len(line) < maxLine:
			continue
		case len(line) > 0:
			return string(line), nil
		default:
			return "", err
		}
	}
}

// send writes one command line, terminated by CRLF.
func (s *session) send(line string) error {
	_, err := io.WriteString(s.conn, line+"\r\n")
	return err
}

// startTLS switches the session to TLS after a STARTTLS-style command
// was accepted.
func (s *session) startTLS(ctx context.Context, conf *tls.Config) error {
	tc := tls.Client(s.conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	s.conn, s.r = tc, bufio.NewReader(tc)
	return nil
}
