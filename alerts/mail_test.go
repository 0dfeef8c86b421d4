package alerts

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

const wantMailBody = "\n" +
	"Group                 : g1\n" +
	"Service               : s1\n" +
	"Time noticed          : Mon Nov 23 00:48:03 2026\n" +
	"Secs until next alert : \n" +
	"Members \t      : h1 h2 h3\n" +
	"\n" +
	"Detailed text (if any) follows:\n" +
	"-------------------------------\n" +
	"detail line 1\n" +
	"detail line 2\n"

func TestMailStartTLSAuth(t *testing.T) {
	sink := newSMTPSink(t, true)
	t.Setenv("MON_SMTP_PASS", "s3cret")
	a := newBuiltin(t, "mail.alert", "--smtp", sink.addr, "--ca", sink.caFile, "--user", "mon",
		"-f", "mon@example.org", "root@example.org,ops@example.org", "pager@example.org")
	if err := a.Send(context.Background(), testEvent("")); err != nil {
		t.Fatal(err)
	}
	msgs := sink.messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if !m.tls || m.auth != "\x00mon\x00s3cret" {
		t.Errorf("tls=%v auth=%q", m.tls, m.auth)
	}
	if !strings.HasPrefix(m.from, "FROM:<mon@example.org>") {
		t.Errorf("MAIL %s", m.from)
	}
	if got := strings.Join(m.rcpts, " "); got != "TO:<root@example.org> TO:<ops@example.org> TO:<pager@example.org>" {
		t.Errorf("RCPT %s", got)
	}
	want := "To: root@example.org,ops@example.org,pager@example.org\n" +
		"Subject: ALERT g1/s1: h1 h2 failed (Mon Nov 23 00:48:03)\n" +
		"X-Mailer: gomon mail.alert\n" +
		"From: mon@example.org\n" +
		"Date: Mon, 23 Nov 2026 00:48:03 +0000\n" +
		"\n" + wantMailBody
	if m.data != want {
		t.Errorf("message:\n%q\nwant:\n%q", m.data, want)
	}
}

func TestMailUpalertPlainNoAuth(t *testing.T) {
	sink := newSMTPSink(t, false)
	a := newBuiltin(t, "mail", "--smtp", sink.addr, "-S", "back up", "root")
	ev := testEvent("")
	ev.Type = decide.UpAlert
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	m := sink.messages()[0]
	if m.tls || m.auth != "" {
		t.Errorf("tls=%v auth=%q", m.tls, m.auth)
	}
	if !strings.Contains(m.data, "\nSubject: UPALERT g1/s1: back up (Mon Nov 23 00:48:03)\n") {
		t.Errorf("message:\n%s", m.data)
	}
}

// Without the test CA the STARTTLS certificate is rejected, unless
// --insecure says not to verify.
func TestMailVerifiesCertificate(t *testing.T) {
	sink := newSMTPSink(t, true)
	if err := newBuiltin(t, "mail", "--smtp", sink.addr, "root").Send(context.Background(), testEvent("")); err == nil {
		t.Fatal("want a certificate error")
	}
	if err := newBuiltin(t, "mail", "--smtp", sink.addr, "--insecure", "root").Send(context.Background(), testEvent("")); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.messages()); n != 1 {
		t.Errorf("got %d messages, want 1", n)
	}
}

// A server that never answers is bounded by ctx.
func TestMailStalledServer(t *testing.T) {
	ln := listenSilent(t)
	a := newBuiltin(t, "mail", "--smtp", ln, "root")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := a.Send(ctx, testEvent("")); err == nil {
		t.Fatal("want an error")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Send took %v", d)
	}
}

func TestMailConfigErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"--smtp", "nohostport", "root"}, {"--ca", "/nonexistent", "root"}} {
		if _, err := builtins.Lookup("mail").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

// TestMailThroughSendmail pipes the message to a real sendmail-compatible
// program (msmtp, relaying to the SMTP sink) the way mail.alert does:
// -oi -t, and -f/-F with -f.
func TestMailThroughSendmail(t *testing.T) {
	if _, err := exec.LookPath("msmtp"); err != nil {
		t.Skip("msmtp not installed (scripts/install-test-deps.sh installs it)")
	}
	sink := newSMTPSink(t, false)
	_, port, _ := net.SplitHostPort(sink.addr)
	dir := t.TempDir()
	sendmail := filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\necho \"$@\" > " + filepath.Join(dir, "args") +
		"\nexec msmtp --host=127.0.0.1 --port=" + port + " --tls=off --auth=off --domain=localhost \"$@\"\n"
	if err := os.WriteFile(sendmail, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a := newBuiltin(t, "mail.alert", "--sendmail", sendmail, "-f", "mon@example.org", "root@example.org,ops@example.org")
	if err := a.Send(context.Background(), testEvent("")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "args")); got != "-oi -t -f mon@example.org -F mon@example.org\n" {
		t.Errorf("sendmail args %q", got)
	}
	msgs := sink.messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages", len(msgs))
	}
	m := msgs[0]
	if !strings.HasPrefix(m.from, "FROM:<mon@example.org>") || len(m.rcpts) != 2 ||
		!strings.Contains(m.data, "Subject: ALERT g1/s1: h1 h2 failed (Mon Nov 23 00:48:03)") ||
		!strings.Contains(m.data, "Detailed text (if any) follows:") {
		t.Errorf("from %q rcpts %q message:\n%s", m.from, m.rcpts, m.data)
	}
}

// A sendmail that fails makes the alert fail with what it said.
func TestMailSendmailFailure(t *testing.T) {
	dir := t.TempDir()
	sendmail := filepath.Join(dir, "sendmail")
	os.WriteFile(sendmail, []byte("#!/bin/sh\ncat >/dev/null; echo 'queue full' >&2; exit 75\n"), 0o755)
	err := newBuiltin(t, "mail", "--sendmail", sendmail, "root").Send(context.Background(), testEvent(""))
	if err == nil || !strings.Contains(err.Error(), "exit status 75") || !strings.Contains(err.Error(), "queue full") {
		t.Errorf("got %v", err)
	}
}

// The transport: --smtp or MON_SMTP_SERVER mean SMTP, --sendmail a
// program, and otherwise the first sendmail found, else SMTP.
func TestMailTransportChoice(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "sendmail")
	os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o644)
	if got := findSendmail([]string{filepath.Join(dir, "nope"), filepath.Join(dir, "plain"), exe}); got != exe {
		t.Errorf("findSendmail = %q, want %q", got, exe)
	}
	if m := newBuiltin(t, "mail", "--smtp", "127.0.0.1:2525", "root").(*mailAlert); m.sendmail != "" {
		t.Errorf("--smtp chose sendmail %q", m.sendmail)
	}
	t.Setenv("MON_SMTP_SERVER", "127.0.0.1:2525")
	if m := newBuiltin(t, "mail", "root").(*mailAlert); m.sendmail != "" || m.server != "127.0.0.1:2525" {
		t.Errorf("MON_SMTP_SERVER: sendmail %q server %q", m.sendmail, m.server)
	}
	if _, err := builtins.Lookup("mail").New([]string{"--sendmail", exe, "--smtp", "h:25", "root"}); err == nil {
		t.Error("--sendmail with --smtp accepted")
	}
}

// CheckDelivery: a missing sendmail or an SMTP server that does not
// answer is reported; a listening server is fine.
func TestMailCheckDelivery(t *testing.T) {
	sink := newSMTPSink(t, false)
	ctx := context.Background()
	if err := newBuiltin(t, "mail", "--smtp", sink.addr, "root").(DeliveryChecker).CheckDelivery(ctx); err != nil {
		t.Errorf("listening sink: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	if err := newBuiltin(t, "mail", "--smtp", closed, "root").(DeliveryChecker).CheckDelivery(ctx); err == nil {
		t.Error("closed port: no error")
	}
	if err := newBuiltin(t, "mail", "--sendmail", "/nonexistent/sendmail", "root").(DeliveryChecker).CheckDelivery(ctx); err == nil {
		t.Error("missing sendmail: no error")
	}
}
