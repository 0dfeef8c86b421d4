package monitors

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// imap.monitor and pop3.monitor: mailbox protocol greetings.
//
// imap.monitor, like the script, wants "* OK|PREAUTH|BYE", then logs in
// as ANONYMOUS/ANONYMOUS, optionally EXAMINEs a mailbox (-m) and logs
// out, each answered OK. gomon adds -b: only check the greeting (most
// servers refuse anonymous logins). pop3.monitor wants "+OK" to the
// greeting and to quit.

const (
	imapUsage = "imap.monitor [-p port] [-t secs] [-m mailbox] [-b] host [host...]"
	pop3Usage = "pop3.monitor [-p port] [-t secs] host [host...]"
)

type imapMonitor struct {
	port       string
	timeout    time.Duration
	mailbox    string // -m
	bannerOnly bool   // -b
}

func newIMAP(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("m:p:t:b", args)
	if err != nil {
		return nil, err
	}
	m := &imapMonitor{mailbox: opts['m'], bannerOnly: opts['b'] != ""}
	if m.port, err = portOpt(opts, 'p', "143"); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 30*time.Second); err != nil {
		return nil, err
	}
	return withHostArgs(m, rest), nil
}

func (m *imapMonitor) Check(ctx context.Context, req Request) Result {
	res := checkAll(ctx, req, m.timeout, m.check)
	if res.Exit != 0 {
		// The script: summary, empty line, one reason per failed host.
		res.Output = failureReport(res.Hosts, "\n", ": ")
	}
	return res
}

var imapBanner = regexp.MustCompile(`^\* (OK|PREAUTH|BYE)`)

// check talks to one host; Detail is the reason the script prints.
func (m *imapMonitor) check(ctx context.Context, host string) HostResult {
	start := time.Now()
	fail := func(reason string, err error) HostResult {
		if err != nil && isTimeout(err) {
			reason = "**** Time Out\n" // sic: the script's text, newline included
		}
		return HostResult{Host: host, Detail: reason}
	}
	conn, err := dialTCP(ctx, host, m.port)
	if err != nil {
		return fail("Unable to connect: "+errText(err), err)
	}
	defer conn.Close()
	s := newSession(conn)
	banner, err := s.readLine()
	if err != nil || !imapBanner.MatchString(banner) || (m.bannerOnly && strings.HasPrefix(banner, "* BYE")) {
		return fail("No IMAP banner received", err)
	}
	if m.bannerOnly {
		return HostResult{Host: host, OK: true, Detail: "banner ok", RTT: time.Since(start)}
	}
	steps := []imapStep{{"A1", "LOGIN ANONYMOUS ANONYMOUS", "login"}}
	if m.mailbox != "" {
		steps = append(steps, imapStep{"A2", "EXAMINE " + m.mailbox, "examine"})
	}
	steps = append(steps, imapStep{"A3", "LOGOUT", "logout"})
	for _, st := range steps {
		status, err := imapCommand(s, st.tag, st.cmd)
		switch {
		case err != nil:
			return fail("No response to "+st.name, err)
		case status != "OK":
			return fail("bad response to "+st.name+": "+status, nil)
		}
	}
	return HostResult{Host: host, OK: true, Detail: "ok", RTT: time.Since(start)}
}

// imapStep is one tagged command; name is how failures refer to it.
type imapStep struct{ tag, cmd, name string }

// imapCommand sends a tagged command and returns the tagged status line
// after the tag ("OK ...", "NO ..."), or just "OK" for success.
func imapCommand(s *session, tag, cmd string) (string, error) {
	if err := s.send(tag + " " + cmd); err != nil {
		return "", err
	}
	for {
		line, err := s.readLine()
		if err != nil {
			return "", err
		}
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), tag+" ")
		if !ok {
			continue // untagged data
		}
		if status, _, _ := strings.Cut(rest, " "); status == "OK" {
			return "OK", nil
		}
		return rest, nil
	}
}

type pop3Monitor struct {
	port    string
	timeout time.Duration
}

func newPOP3(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("p:t:", args)
	if err != nil {
		return nil, err
	}
	m := &pop3Monitor{}
	if m.port, err = portOpt(opts, 'p', "110"); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 30*time.Second); err != nil {
		return nil, err
	}
	return withHostArgs(m, rest), nil
}

func (m *pop3Monitor) Check(ctx context.Context, req Request) Result {
	res := checkAll(ctx, req, m.timeout, m.check)
	if res.Exit != 0 {
		// The script: summary, then one line per failed host.
		res.Output = failureReport(res.Hosts, "", ": ")
	}
	return res
}

func (m *pop3Monitor) check(ctx context.Context, host string) HostResult {
	start := time.Now()
	fail := func(reason string, err error) HostResult {
		if err != nil && isTimeout(err) {
			reason = "timeout(" + secondsText(m.timeout) + ")"
		}
		return HostResult{Host: host, Detail: reason}
	}
	conn, err := dialTCP(ctx, host, m.port)
	if err != nil {
		if isNotFound(err) {
			return fail("cannot resolve hostname", err)
		}
		return fail(errText(err), err)
	}
	defer conn.Close()
	s := newSession(conn)
	// The script prints no reason for a bad greeting or quit reply; we
	// show what the server said.
	line, err := s.readLine()
	if err != nil || !strings.HasPrefix(line, "+OK") {
		return fail("unexpected greeting: "+strings.TrimRight(line, "\r\n"), err)
	}
	if err := s.send("quit"); err != nil {
		return fail(errText(err), err)
	}
	line, err = s.readLine()
	if err != nil || !strings.HasPrefix(line, "+OK") {
		return fail("unexpected reply to quit: "+strings.TrimRight(line, "\r\n"), err)
	}
	return HostResult{Host: host, OK: true, Detail: "ok", RTT: time.Since(start)}
}

func init() {
	Register(&Builtin{Name: "imap", Aliases: []string{"imap.monitor"}, Usage: imapUsage, New: newIMAP})
	Register(&Builtin{Name: "pop3", Aliases: []string{"pop3.monitor"}, Usage: pop3Usage, New: newPOP3})
}
