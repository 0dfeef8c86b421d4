package conformance

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// conn is one client connection of a scenario, with the bytes received but
// not consumed yet.
type conn struct {
	sock *net.TCPConn
	buf  string
	eof  bool
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// conn returns the named connection, opening it on first use; nil if the
// server cannot be reached.
func (r *runner) conn(name string) *conn {
	if c := r.conns[name]; c != nil {
		return c
	}
	s, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)), 5*time.Second)
	if err != nil {
		return nil
	}
	c := &conn{sock: s.(*net.TCPConn)}
	r.conns[name] = c
	return c
}

func (r *runner) closeConn(name string) {
	if c := r.conns[name]; c != nil {
		c.sock.Close()
		delete(r.conns, name)
	}
}

func (r *runner) closeAll() {
	for name := range r.conns {
		r.closeConn(name)
	}
}

// fill reads what arrives within timeout seconds: 0 on timeout, 1 if data
// arrived, -1 on end of file (or a read error).
func (c *conn) fill(timeout float64) int {
	b := make([]byte, 65536)
	var n int
	var err error
	if timeout <= 0 {
		n, err = c.readNow(b)
	} else {
		c.sock.SetReadDeadline(time.Now().Add(seconds(timeout)))
		n, err = c.sock.Read(b)
	}
	if n > 0 {
		c.buf += string(b[:n])
		return 1
	}
	if errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, syscall.EAGAIN) {
		return 0
	}
	c.eof = true
	return -1
}

// readNow is a zero-timeout poll: one non-blocking read of what the kernel
// already holds.  A deadline in the past would make Go report a timeout
// without looking at the socket at all.
func (c *conn) readNow(b []byte) (int, error) {
	c.sock.SetReadDeadline(time.Time{})
	raw, err := c.sock.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), b)
			if rerr != syscall.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	if n < 0 {
		n = 0
	}
	if n == 0 && rerr == nil {
		rerr = errEOF
	}
	return n, rerr
}

var errEOF = errors.New("EOF")

// line returns the next complete line (a trailing CR shown as <CR>), or
// ok=false on timeout or end of file.
func (c *conn) line(timeout float64) (string, bool) {
	deadline := time.Now().Add(seconds(timeout))
	for !strings.Contains(c.buf, "\n") {
		if c.eof {
			return "", false
		}
		left := time.Until(deadline).Seconds()
		if left <= 0 {
			return "", false
		}
		c.fill(left)
	}
	l, rest, _ := strings.Cut(c.buf, "\n")
	c.buf = rest
	if strings.HasSuffix(l, "\r") {
		l = strings.TrimSuffix(l, "\r") + "<CR>"
	}
	return l, true
}

// drain collects whatever arrives unasked within wait seconds.
func (r *runner) drain(name string, wait float64) []string {
	c := r.conns[name]
	if c == nil {
		return nil
	}
	var out []string
	deadline := time.Now().Add(seconds(wait))
	for {
		for strings.Contains(c.buf, "\n") {
			l, rest, _ := strings.Cut(c.buf, "\n")
			c.buf = rest
			out = append(out, "(unsolicited) "+l)
		}
		if c.eof {
			break
		}
		if c.fill(max(time.Until(deadline).Seconds(), 0)) == 0 {
			break
		}
	}
	if c.eof {
		if c.buf != "" {
			out = append(out, "(unsolicited) "+c.buf)
		}
		out = append(out, "(connection closed by server)")
		r.closeConn(name)
	}
	return out
}

// rawCmd sends one command line and returns the reply up to its status
// line, untidied; what the server sent unasked before goes to pre.
func (r *runner) rawCmd(name, cmd string, timeout float64, pre *[]string) []string {
	p := r.drain(name, 0)
	if pre != nil {
		*pre = append(*pre, p...)
	}
	c := r.conn(name)
	if c == nil {
		return []string{"(could not connect)"}
	}
	c.sock.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.sock.Write([]byte(cmd + "\n")); err != nil {
		r.closeConn(name)
		return []string{"(write failed)"}
	}
	var lines []string
	for {
		l, ok := c.line(timeout)
		if !ok {
			if c.eof {
				lines = append(lines, "(connection closed by server)")
				r.closeConn(name)
			} else {
				lines = append(lines, "(no complete response within "+formatNum(timeout)+"s)")
			}
			break
		}
		lines = append(lines, l)
		if statusRE.MatchString(l) {
			break
		}
	}
	return lines
}

func (r *runner) sendCmd(name, cmd string) []string {
	var pre []string
	lines := r.rawCmd(name, cmd, 10, &pre)
	var extra []string
	if r.conns[name] != nil {
		extra = r.drain(name, 0.15)
	}
	out := append(pre, r.tidyResponse(cmd, lines)...)
	return append(out, extra...)
}

// sendRaw writes bytes as they are and prints whatever comes back: up to
// 3 s for the first data, then until 0.5 s of silence.
func (r *runner) sendRaw(name, text string) []string {
	pre := r.drain(name, 0)
	c := r.conn(name)
	if c == nil {
		return append(pre, "(could not connect)")
	}
	c.sock.SetWriteDeadline(time.Now().Add(30 * time.Second))
	c.sock.Write([]byte(text))
	deadline := time.Now().Add(3 * time.Second)
	got := false
	for time.Now().Before(deadline) {
		wait := 0.5
		if !got {
			wait = time.Until(deadline).Seconds()
		}
		n := c.fill(wait)
		if n < 0 || (n == 0 && got) {
			break
		}
		if n > 0 {
			got = true
		}
	}
	var lines []string
	for strings.Contains(c.buf, "\n") {
		l, rest, _ := strings.Cut(c.buf, "\n")
		c.buf = rest
		if strings.HasSuffix(l, "\r") {
			l = strings.TrimSuffix(l, "\r") + "<CR>"
		}
		lines = append(lines, l)
	}
	// tidy each response with the command line it answers
	var cmds []string
	for _, x := range perlSplitFunc(text, func(b byte) bool { return b == '\r' || b == '\n' }) {
		if x != "" {
			cmds = append(cmds, x)
		}
	}
	var out, cur []string
	for _, l := range lines {
		cur = append(cur, l)
		if statusRE.MatchString(l) {
			cmd := ""
			if len(cmds) > 0 {
				cmd, cmds = cmds[0], cmds[1:]
			}
			out = append(out, r.tidyResponse(cmd, cur)...)
			cur = nil
		}
	}
	out = append(out, cur...)
	if c.buf != "" {
		out = append(out, "(partial line) "+c.buf)
	}
	c.buf = ""
	if c.eof {
		out = append(out, "(connection closed by server)")
		r.closeConn(name)
	}
	return append(pre, out...)
}

// perlSplitFunc splits at runs of separator bytes like Perl's split
// /[...]+/: leading empty field kept, trailing ones dropped.
func perlSplitFunc(s string, sep func(byte) bool) []string {
	var f []string
	start := 0
	for i := 0; i < len(s); {
		if !sep(s[i]) {
			i++
			continue
		}
		f = append(f, s[start:i])
		for i < len(s) && sep(s[i]) {
			i++
		}
		start = i
	}
	f = append(f, s[start:])
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

// formatNum prints a number the way Perl interpolates it.
func formatNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
