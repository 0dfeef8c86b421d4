package server

import (
	"net"
	"sync"
	"time"
)

// clientConn is one client connection and whether a request of it is
// being handled.
type clientConn struct {
	net.Conn
	busy bool      // a request is being handled or answered
	idle time.Time // since when it has waited for a request
}

// connTable holds the open connections. When it is full, a new client
// takes the place of the connection that has been idle longest: idle or
// slow clients (a request line that never ends is idle too) cannot lock
// out an operator, however many of them there are. Only when every
// connection is in the middle of a request is a new one refused.
type connTable struct {
	mu   sync.Mutex
	max  int
	open map[*clientConn]struct{}
}

// add registers c. It returns a connection to close to make room, and
// whether c may be served.
func (t *connTable) add(c *clientConn) (evicted *clientConn, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.idle = time.Now()
	if len(t.open) >= t.max {
		for o := range t.open {
			if !o.busy && (evicted == nil || o.idle.Before(evicted.idle)) {
				evicted = o
			}
		}
		if evicted == nil {
			return nil, false
		}
		delete(t.open, evicted)
	}
	t.open[c] = struct{}{}
	return evicted, true
}

func (t *connTable) remove(c *clientConn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.open, c)
}

func (t *connTable) setBusy(c *clientConn, busy bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c.busy = busy
	if !busy {
		c.idle = time.Now()
	}
}

// loginThrottle refuses logins from a source that keeps failing: after
// ten failures in a row it is locked out for the backoff, doubled for
// every further failure up to a minute. A success clears it. Password
// guessing at wire speed (300 tries in half a second) becomes a few a
// minute, and the crypt work of each guess is not done while locked out.
type loginThrottle struct {
	base time.Duration
	mu   sync.Mutex
	src  map[string]*loginFailures
}

type loginFailures struct {
	n     int       // failures in a row
	until time.Time // refused until then
}

// maxLoginFailures is how many failures in a row a source has before the
// lockout starts.
const maxLoginFailures = 10

func newLoginThrottle(base time.Duration) *loginThrottle {
	if base <= 0 {
		base = time.Second
	}
	return &loginThrottle{base: base, src: map[string]*loginFailures{}}
}

// locked reports whether ip may not try now.
func (l *loginThrottle) locked(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.src[ip]
	return f != nil && now.Before(f.until)
}

// result records a login attempt's outcome; it returns the lockout that
// begins now (0 for none).
func (l *loginThrottle) result(ip string, ok bool, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		delete(l.src, ip)
		return 0
	}
	f := l.src[ip]
	if f == nil {
		if len(l.src) > 100000 {
			clear(l.src) // bounded memory under a spread-out attack
		}
		f = &loginFailures{}
		l.src[ip] = f
	}
	f.n++
	if f.n < maxLoginFailures {
		return 0
	}
	d := min(l.base<<min(f.n-maxLoginFailures, 16), time.Minute)
	f.until = now.Add(d)
	return d
}
