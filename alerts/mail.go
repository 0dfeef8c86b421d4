package alerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/spawn"
	"golang.org/x/sys/unix"
)

func init() {
	Register(&Builtin{
		Name:    "mail",
		Aliases: []string{"mail.alert"},
		Usage: "mail [-S SUMMARY] [-f FROM] [--sendmail PATH | --smtp HOST:PORT [--user USER] [--pass PASS]" +
			" [--ca FILE] [--insecure]] ADDR...",
		New: newMail,
	})
}

// Defaults for the SMTP relay; MON_SMTP_SERVER, MON_SMTP_USER and
// MON_SMTP_PASS in the daemon's environment override them.
const (
	defaultSMTPServer = "127.0.0.1:25"
	mailTimeout       = 60 * time.Second // whole delivery, when ctx has no deadline
	mailer            = "gomon mail.alert"
)

// sendmailPaths are where mail.alert's sendmail is looked for, in order.
func sendmailPaths() []string { return []string{"/usr/lib/sendmail", "/usr/sbin/sendmail"} }

// mailAlert sends mail.alert's message. Like mail.alert it pipes it to
// the local sendmail (nullmailer, msmtp, postfix, exim… all provide one);
// with --smtp (or MON_SMTP_SERVER), or when the host has no sendmail, it
// speaks SMTP itself: STARTTLS when the server offers it, AUTH PLAIN when
// a user is configured.
type mailAlert struct {
	to         []string
	from       string  // -f, or mon@HOSTNAME over SMTP
	fromSet    bool    // -f was given (sendmail then gets -f/-F, as in mail.alert)
	summary    *string // -S override
	secs       string  // -l, printed as "Secs until next alert"
	sendmail   string  // the sendmail program; "" = SMTP
	server     string  // host:port
	user, pass string
	tls        *tls.Config
}

func newMail(args []string) (Alert, error) {
	o, err := ParseArgs("mail", args, "S:l:f:u", "sendmail:", "smtp:", "user:", "pass:", "ca:", "insecure")
	if err != nil {
		return nil, err
	}
	if len(o.Args) == 0 {
		return nil, errors.New("mail alert: no recipient")
	}
	m := &mailAlert{
		to:      o.Args,
		from:    o.Get("f"),
		fromSet: o.Has("f"),
		secs:    o.Get("l"),
		server:  firstNonEmpty(o.Get("smtp"), os.Getenv("MON_SMTP_SERVER"), defaultSMTPServer),
		user:    firstNonEmpty(o.Get("user"), os.Getenv("MON_SMTP_USER")),
		pass:    firstNonEmpty(o.Get("pass"), os.Getenv("MON_SMTP_PASS")),
	}
	if o.Has("S") {
		s := o.Get("S")
		m.summary = &s
	}
	switch smtpSet := o.Has("smtp") || os.Getenv("MON_SMTP_SERVER") != ""; {
	case o.Has("sendmail") && smtpSet:
		return nil, errors.New("mail alert: --sendmail and --smtp exclude each other")
	case o.Has("sendmail"):
		m.sendmail = o.Get("sendmail")
	case !smtpSet:
		m.sendmail = findSendmail(sendmailPaths())
	}
	host, _, err := net.SplitHostPort(m.server)
	if err != nil {
		return nil, fmt.Errorf("mail alert: SMTP server %q: %w", m.server, err)
	}
	if m.from == "" {
		// sendmail would use the invoking user; a fixed local part is
		// clearer for a daemon.
		name, _ := os.Hostname()
		m.from = "mon@" + firstNonEmpty(name, "localhost")
	}
	m.tls = &tls.Config{ServerName: host, InsecureSkipVerify: o.Has("insecure")}
	if ca := o.Get("ca"); ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("mail alert: %w", err)
		}
		m.tls.RootCAs = x509.NewCertPool()
		if !m.tls.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mail alert: no certificate in %s", ca)
		}
	}
	return m, nil
}

// findSendmail returns the first executable of paths, or "".
func findSendmail(paths []string) string {
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && unix.Access(p, unix.X_OK) == nil {
			return p
		}
	}
	return ""
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// message builds the mail exactly as mail.alert writes it, plus the From
// and Date headers sendmail would have added.
func (m *mailAlert) message(ev Event) []byte {
	summary, rest := ev.SplitInput()
	if m.summary != nil {
		summary = *m.summary
	}
	kind := "ALERT"
	if ev.IsUpalert() {
		kind = "UPALERT"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "To: %s\n", strings.Join(m.to, ","))
	fmt.Fprintf(&b, "Subject: %s %s/%s: %s (%s)\n", kind, ev.Group, ev.Service, summary, shortTime(ev.Time))
	fmt.Fprintf(&b, "X-Mailer: %s\n", mailer)
	fmt.Fprintf(&b, "From: %s\n", m.from)
	fmt.Fprintf(&b, "Date: %s\n", ev.Time.Local().Format(time.RFC1123Z))
	b.WriteString("\n\n")
	fmt.Fprintf(&b, "Group                 : %s\n", ev.Group)
	fmt.Fprintf(&b, "Service               : %s\n", ev.Service)
	fmt.Fprintf(&b, "Time noticed          : %s\n", ctime(ev.Time))
	fmt.Fprintf(&b, "Secs until next alert : %s\n", m.secs)
	b.WriteString(perlWrap("", "\t\t\t", "Members               : "+strings.Join(ev.Hosts, " ")) + "\n")
	b.WriteString("\nDetailed text (if any) follows:\n-------------------------------\n")
	b.Write(rest)
	return []byte(b.String())
}

func (m *mailAlert) Send(ctx context.Context, ev Event) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, mailTimeout)
		defer cancel()
	}
	if m.sendmail != "" {
		return m.pipe(ctx, m.message(ev))
	}
	if err := m.deliver(ctx, m.message(ev)); err != nil {
		return fmt.Errorf("mail alert via %s: %w", m.server, err)
	}
	return nil
}

// pipe hands the message to sendmail as mail.alert does: -oi -t (the
// recipients are read from the To: header), -f/-F with the -f sender.
func (m *mailAlert) pipe(ctx context.Context, msg []byte) error {
	args := []string{"-oi", "-t"}
	if m.fromSet {
		args = append(args, "-f", m.from, "-F", m.from)
	}
	o := (*spawn.Runner)(nil).Run(ctx, spawn.Cmd{Path: m.sendmail, Args: args, Env: os.Environ(),
		Stdin: msg, MaxOutput: DefaultMaxOutput})
	switch {
	case o.StartErr != nil:
		return fmt.Errorf("mail alert via %s: %w", m.sendmail, o.StartErr)
	case o.Exit != 0 || o.Canceled || o.TimedOut:
		return fmt.Errorf("mail alert via %s: %s: %s", m.sendmail, o, strings.TrimSpace(string(o.Output)))
	}
	return nil
}

// CheckDelivery reports whether the mail could be handed on now: the
// sendmail program is there, or the SMTP server accepts a connection.
func (m *mailAlert) CheckDelivery(ctx context.Context) error {
	if m.sendmail != "" {
		if findSendmail([]string{m.sendmail}) == "" {
			return fmt.Errorf("mail alert: %s is not an executable file", m.sendmail)
		}
		return nil
	}
	conn, err := (&net.Dialer{Timeout: 3 * time.Second}).DialContext(ctx, "tcp", m.server)
	if err != nil {
		return fmt.Errorf("mail alert: no sendmail (%s) and no SMTP server at %s: %w",
			strings.Join(sendmailPaths(), ", "), m.server, err)
	}
	return conn.Close()
}

func (m *mailAlert) deliver(ctx context.Context, msg []byte) error {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", m.server)
	if err != nil {
		return err
	}
	// A stalled server must not outlive ctx.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, m.tls.ServerName)
	if err != nil {
		conn.Close()
		return ctxErr(ctx, err)
	}
	defer c.Close()
	if err := m.session(c, msg); err != nil {
		return ctxErr(ctx, err)
	}
	return nil
}

func (m *mailAlert) session(c *smtp.Client, msg []byte) error {
	name, _ := os.Hostname()
	if err := c.Hello(firstNonEmpty(name, "localhost")); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(m.tls); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.user != "" {
		// The error never contains the password.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.tls.ServerName)); err != nil {
			return fmt.Errorf("AUTH PLAIN as %s: %w", m.user, err)
		}
	}
	if err := c.Mail(m.from); err != nil {
		return err
	}
	for _, rcpt := range recipients(m.to) {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("RCPT %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// recipients splits the arguments the way sendmail -t reads the joined
// To: header: "a,b" is two addresses.
func recipients(args []string) []string {
	var out []string
	for _, a := range args {
		for _, r := range strings.Split(a, ",") {
			if r = strings.TrimSpace(r); r != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

// ctxErr prefers the context's error: a closed connection is its symptom.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
