package monitors

import (
	"context"
	"crypto/tls"
	"os"
	"strings"
	"time"
)

// smtp.monitor: greeting 220, HELO, 250, quit, 221. gomon adds -e (EHLO
// instead of HELO) and -S (STARTTLS, then EHLO again; the certificate is
// verified unless -k).

const smtpUsage = "smtp.monitor [-p port] [-t secs] [-e] [-S [-k]] host [host...]"

type smtpMonitor struct {
	port     string
	timeout  time.Duration
	ehlo     bool // -e
	startTLS bool // -S
	insecure bool // -k
	helo     string
}

func newSMTP(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("p:t:eSk", args)
	if err != nil {
		return nil, err
	}
	m := &smtpMonitor{ehlo: opts['e'] != "", startTLS: opts['S'] != "", insecure: opts['k'] != ""}
	if m.port, err = portOpt(opts, 'p', "25"); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 30*time.Second); err != nil {
		return nil, err
	}
	if m.helo, err = os.Hostname(); err != nil {
		m.helo = "localhost"
	}
	return withHostArgs(m, rest), nil
}

func (m *smtpMonitor) Check(ctx context.Context, req Request) Result {
	return checkConversations(ctx, req, m.timeout, m.check)
}

// check talks to one host. As in the script, the detail is the server's
// lines as received.
func (m *smtpMonitor) check(ctx context.Context, host string) conversation {
	c := conversation{Host: host}
	var detail strings.Builder
	fail := func(msg string, err error) conversation { return c.failed(detail.String(), msg, err) }
	conn, err := dialTCP(ctx, host, m.port)
	if err != nil {
		// Q-MON-4: the script meant to say this but prints nothing.
		return fail("Unable to create SMTP connection to port "+m.port+": "+errText(err), err)
	}
	s := newSession(conn)
	defer func() { s.conn.Close() }()

	// expect reads a reply (skipping "NNN-" lines) and checks its code.
	expect := func(code string) (bool, error) {
		for {
			line, err := s.readLine()
			detail.WriteString(line)
			if err != nil {
				return false, err
			}
			if !strings.HasPrefix(line, code+"-") {
				return strings.HasPrefix(line, code+" "), nil
			}
		}
	}
	// command sends cmd and expects code; on failure it says QUIT.
	command := func(cmd, code string) (bool, error) {
		if err := s.send(cmd); err != nil {
			return false, err
		}
		ok, err := expect(code)
		if !ok && err == nil {
			s.send("QUIT")
		}
		return ok, err
	}

	if ok, err := expect("220"); !ok {
		if err == nil {
			s.send("QUIT")
		}
		return fail("did not receive 220 greeting", err)
	}
	hello := "HELO"
	if m.ehlo || m.startTLS {
		hello = "EHLO"
	}
	if ok, err := command(hello+" "+m.helo, "250"); !ok {
		return fail("did not get 250 response to "+hello, err)
	}
	if m.startTLS {
		if ok, err := command("STARTTLS", "220"); !ok {
			return fail("did not get 220 response to STARTTLS", err)
		}
		conf := &tls.Config{ServerName: host, InsecureSkipVerify: m.insecure}
		if err := s.startTLS(ctx, conf); err != nil {
			return fail("STARTTLS handshake failed: "+errText(err), err)
		}
		if ok, err := command("EHLO "+m.helo, "250"); !ok {
			return fail("did not get 250 response to EHLO after STARTTLS", err)
		}
	}
	if ok, err := command("quit", "221"); !ok {
		return fail("did not get 221 response to quit", err)
	}
	c.OK = true
	c.Detail = detail.String()
	return c
}

func init() {
	Register(&Builtin{Name: "smtp", Aliases: []string{"smtp.monitor"}, Usage: smtpUsage, New: newSMTP})
}
