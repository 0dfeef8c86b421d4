package monitors

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ftp.monitor: wait for the 220 greeting, send quit, expect 221. gomon
// adds an optional login (-u USER -P PASS).

const ftpUsage = "ftp.monitor [-p port] [-t secs] [-u user -P pass] host [host...]"

type ftpMonitor struct {
	port       string
	timeout    time.Duration
	user, pass string // -u, -P: log in before quitting
}

func newFTP(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("p:t:u:P:", args)
	if err != nil {
		return nil, err
	}
	m := &ftpMonitor{user: opts['u'], pass: opts['P']}
	if (m.user == "") != (m.pass == "") {
		return nil, errors.New("-u and -P go together")
	}
	if m.port, err = portOpt(opts, 'p', "21"); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 30*time.Second); err != nil {
		return nil, err
	}
	return withHostArgs(m, rest), nil
}

func (m *ftpMonitor) Check(ctx context.Context, req Request) Result {
	return checkConversations(ctx, req, m.timeout, m.check)
}

// check talks to one host. The transcript is kept in the script's form:
// "    < " for lines received, "    > " for lines sent.
func (m *ftpMonitor) check(ctx context.Context, host string) conversation {
	c := conversation{Host: host}
	var detail strings.Builder
	fail := func(msg string, err error) conversation { return c.failed(detail.String(), msg, err) }
	conn, err := dialTCP(ctx, host, m.port)
	if err != nil {
		if isNotFound(err) {
			return fail("gethostbyname failure", err)
		}
		return fail("connect: "+errText(err), err)
	}
	defer conn.Close()
	s := newSession(conn)

	// The greeting: any lines up to "220 ". The script calls a server
	// that never sends one "Connection refused".
	for {
		line, err := s.readLine()
		if err != nil {
			return fail("Connection refused", err)
		}
		detail.WriteString("    < " + line)
		if strings.HasPrefix(line, "220 ") {
			break
		}
	}
	// reply sends cmd (shown as shown) and returns the final reply line.
	reply := func(cmd, shown string) (string, error) {
		if err := s.send(cmd); err != nil {
			return "", err
		}
		detail.WriteString("    > " + shown + "\n")
		for {
			line, err := s.readLine()
			if err != nil {
				return "", err
			}
			detail.WriteString("    < " + line)
			if !isContinuation(line) {
				return line, nil
			}
		}
	}
	if m.user != "" {
		line, err := reply("USER "+m.user, "USER "+m.user)
		if err == nil && strings.HasPrefix(line, "331") {
			line, err = reply("PASS "+m.pass, "PASS ********")
		}
		if err != nil && !isTimeout(err) {
			return fail("login failed: "+errText(err), err)
		}
		if !strings.HasPrefix(line, "230") {
			return fail("login failed", err)
		}
	}
	line, err := reply("quit", "quit")
	switch {
	case err != nil && isTimeout(err):
		return fail("timeout", err)
	case err == nil && !strings.HasPrefix(line, "221 "):
		return fail("FTP server error after quit", nil)
	}
	// A server that hangs up without a 221 passes, as with the script.
	c.OK = true
	c.Detail = detail.String()
	return c
}

// isContinuation reports whether a reply line is a "NNN-" line of a
// multi-line reply.
func isContinuation(line string) bool {
	return len(line) >= 4 && line[3] == '-' &&
		strings.IndexFunc(line[:3], func(r rune) bool { return r < '0' || r > '9' }) < 0
}

func init() {
	Register(&Builtin{Name: "ftp", Aliases: []string{"ftp.monitor"}, Usage: ftpUsage, New: newFTP})
}
