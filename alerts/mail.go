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
)

func init() {
	Register(&Builtin{
		Name:    "mail",
		Aliases: []string{"mail.alert"},
		Usage: "mail [-S SUMMARY] [-f FROM] [--smtp HOST:PORT] [--user USER] [--pass PASS]" +
			" [--ca FILE] [--insecure] ADDR...",
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

// mailAlert sends mail.alert's message over SMTP instead of piping it to
// sendmail: STARTTLS when the server offers it, AUTH PLAIN when a user is
// configured.
type mailAlert struct {
	to         []string
	from       string
	summary    *string // -S override
	secs       string  // -l, printed as "Secs until next alert"
	server     string  // host:port
	user, pass string
	tls        *tls.Config
}

func newMail(args []string) (Alert, error) {
	o, err := ParseArgs("mail", args, "S:l:f:u", "smtp:", "user:", "pass:", "ca:", "insecure")
	if err != nil {
		return nil, err
	}
	if len(o.Args) == 0 {
		return nil, errors.New("mail alert: no recipient")
	}
	m := &mailAlert{
		to:     o.Args,
		from:   o.Get("f"),
		secs:   o.Get("l"),
		server: firstNonEmpty(o.Get("smtp"), os.Getenv("MON_SMTP_SERVER"), defaultSMTPServer),
		user:   firstNonEmpty(o.Get("user"), os.Getenv("MON_SMTP_USER")),
		pass:   firstNonEmpty(o.Get("pass"), os.Getenv("MON_SMTP_PASS")),
	}
	if o.Has("S") {
		s := o.Get("S")
		m.summary = &s
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
	if err := m.deliver(ctx, m.message(ev)); err != nil {
		return fmt.Errorf("mail alert via %s: %w", m.server, err)
	}
	return nil
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
