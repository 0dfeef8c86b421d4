package monitors

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// tcp.monitor: a plain TCP connect per host. gomon adds an optional
// exchange: -s sends a string after connecting, -e requires the reply to
// match a regular expression.

const tcpUsage = "tcp.monitor [-p port] [-t secs] [-s send] [-e expect-regex] host [host...]"

// tcpMaxReply bounds what is read while waiting for -e to match.
const tcpMaxReply = 64 << 10

type tcpMonitor struct {
	port    string
	timeout time.Duration
	send    string         // written after connecting, "" = nothing
	expect  *regexp.Regexp // nil = connecting is enough
}

func newTCP(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("p:t:s:e:", args)
	if err != nil {
		return nil, err
	}
	m := &tcpMonitor{send: unescape(opts['s'])}
	// Q-MON-3: the script's default port is telnet's; kept for drop-in use.
	if m.port, err = portOpt(opts, 'p', "23"); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 10*time.Second); err != nil {
		return nil, err
	}
	if e, ok := opts['e']; ok {
		if m.expect, err = regexp.Compile(e); err != nil {
			return nil, fmt.Errorf("-e: %w", err)
		}
	}
	return withHostArgs(m, rest), nil
}

func (m *tcpMonitor) Check(ctx context.Context, req Request) Result {
	res := checkAll(ctx, req, m.timeout, m.check)
	if res.Exit != 0 {
		res.Output = failureReport(res.Hosts, "\n", " ")
	}
	return res
}

// check returns the verdict for one host; Detail holds the text the
// script prints after the host name.
func (m *tcpMonitor) check(ctx context.Context, host string) HostResult {
	start := time.Now()
	fail := func(detail string) HostResult { return HostResult{Host: host, Detail: detail} }
	dial := dialTCP
	if m.send == "" && m.expect == nil {
		dial = connectTCP // nothing is read or written
	}
	conn, err := dial(ctx, host, m.port)
	switch {
	case err != nil && isTimeout(err):
		return fail("timeout")
	case err != nil && isNotFound(err):
		return fail("could not inet_aton")
	case err != nil:
		return fail("could not connect: " + errText(err))
	}
	defer conn.Close()
	rtt := time.Since(start)
	if m.send != "" {
		if _, err := io.WriteString(conn, m.send); err != nil {
			return fail("could not send: " + errText(err))
		}
	}
	if m.expect != nil {
		reply, err := readUntilMatch(conn, m.expect)
		if err != nil {
			if isTimeout(err) {
				return fail(fmt.Sprintf("timeout waiting for /%s/, got %q", m.expect, reply))
			}
			return fail(fmt.Sprintf("no match for /%s/ in %q: %s", m.expect, reply, errText(err)))
		}
		rtt = time.Since(start)
	}
	return HostResult{Host: host, OK: true, Detail: "connected", RTT: rtt}
}

// readUntilMatch reads until re matches what has arrived, the peer
// closes, the deadline passes or tcpMaxReply bytes have been read.
func readUntilMatch(r io.Reader, re *regexp.Regexp) ([]byte, error) {
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < tcpMaxReply {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if re.Match(got) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
	}
	return got, fmt.Errorf("no match in the first %d bytes", tcpMaxReply)
}

// unescape turns the \r, \n, \t and \\ escapes of a send string into the
// bytes they name, so protocol lines can be written in mon.cf.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s // most lines have no -s; building the replacer is not free
	}
	return strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\\`, `\`).Replace(s)
}

func init() {
	Register(&Builtin{Name: "tcp", Aliases: []string{"tcp.monitor"}, Usage: tcpUsage, New: newTCP})
}

func (*tcpMonitor) shareable() {}
func (*tcpMonitor) hostsOnly() {}
