package alerts

import (
	"context"
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
