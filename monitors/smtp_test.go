package monitors

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func smtpServer() *lineServer {
	return &lineServer{
		greeting: "220 mail.test ESMTP\r\n",
		replies: map[string]string{
			"HELO": "250 mail.test\r\n",
			"EHLO": "250-mail.test\r\n250 PIPELINING\r\n",
			"QUIT": "221 Bye\r\n",
		},
		unknown:    "502 Not implemented\r\n",
		closeAfter: map[string]bool{"QUIT": true},
	}
}

func TestSMTP(t *testing.T) {
	srv := smtpServer()
	port := serveTCP(t, srv.handle)
	hostname, _ := os.Hostname()
	out, code := dropIn(t, "smtp.monitor", "-p", port, "127.0.0.1")
	want := "\n\n127.0.0.1 succeeded\ndetail for 127.0.0.1\n" + ruler + "\n" +
		"220 mail.test ESMTP\r\n250 mail.test\r\n221 Bye\r\n\n"
	if out != want || code != 0 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
	if got := srv.received(); !slices.Equal(got, []string{"HELO " + hostname, "quit"}) {
		t.Errorf("server got %q", got)
	}

	m, _ := newSMTP([]string{"-p", port, "-e"})
	if res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}}); res.Exit != 0 ||
		!strings.Contains(string(res.Output), "250-mail.test\r\n250 PIPELINING\r\n221 Bye") {
		t.Errorf("EHLO: exit %d output %q", res.Exit, res.Output)
	}
	// No STARTTLS offered: -S fails with a clear reason.
	m, _ = newSMTP([]string{"-p", port, "-S"})
	if res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}}); res.Exit != 1 ||
		!strings.Contains(string(res.Output), "failed with error did not get 220 response to STARTTLS\n") {
		t.Errorf("STARTTLS: exit %d output %q", res.Exit, res.Output)
	}
}

func TestSMTPFailures(t *testing.T) {
	down := closedPort(t)
	busy := serveTCP(t, (&lineServer{greeting: "554 No service\r\n", unknown: "503 bad\r\n"}).handle)
	noHelo := smtpServer()
	noHelo.replies["HELO"] = "501 Syntax\r\n"
	noHeloPort := serveTCP(t, noHelo.handle)
	silent := silentServer(t)
	cases := []struct{ port, err, detail string }{
		{down, "Unable to create SMTP connection to port " + down + ": Connection refused", "no detail\n"},
		{busy, "did not receive 220 greeting", "554 No service\r\n"},
		{noHeloPort, "did not get 250 response to HELO", "220 mail.test ESMTP\r\n501 Syntax\r\n"},
		{silent, "timeout", "no detail\n"},
	}
	for _, c := range cases {
		out, code := dropIn(t, "smtp.monitor", "-p", c.port, "-t", "0.5", "127.0.0.1")
		want := "127.0.0.1\n127.0.0.1 failed with error " + c.err + "\ndetail for 127.0.0.1\n" + ruler + "\n" + c.detail + "\n\n"
		if out != want || code != 1 {
			t.Errorf("exit %d output %q, want %q", code, out, want)
		}
	}
}

// The installed smtp.monitor fails every host on current Perl (it calls
// Sys::Hostname's hostname() with arguments, which now dies inside its
// eval), which is also why its error text is empty. Only the summary of
// a failure can be compared.
func TestSMTPMatchesPerl(t *testing.T) {
	down := closedPort(t)
	want, _ := perlOriginal(t, "smtp.monitor", "-p", down, "127.0.0.1", "127.0.0.2")
	got, code := dropIn(t, "smtp.monitor", "-p", down, "127.0.0.1", "127.0.0.2")
	if firstLine(got) != firstLine(want) || code != 1 {
		t.Errorf("refused: gomon exit %d %q, perl %q", code, got, want)
	}
}

// starttlsServer speaks just enough ESMTP to upgrade to TLS.
func starttlsServer(t *testing.T, cert tls.Certificate) string {
	return serveTCP(t, func(c net.Conn) {
		conn := c
		r := bufio.NewReader(conn)
		conn.Write([]byte("220 mail.test ESMTP\r\n"))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
			case "EHLO":
				conn.Write([]byte("250-mail.test\r\n250 STARTTLS\r\n"))
			case "STARTTLS":
				conn.Write([]byte("220 Go ahead\r\n"))
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
				if tc.Handshake() != nil {
					return
				}
				conn, r = tc, bufio.NewReader(tc)
			case "QUIT":
				conn.Write([]byte("221 Bye\r\n"))
				return
			default:
				conn.Write([]byte("500 what\r\n"))
			}
		}
	})
}

func TestSMTPStartTLS(t *testing.T) {
	port := starttlsServer(t, selfSigned(t, 90*24*time.Hour))
	m, err := newSMTP([]string{"-p", port, "-S", "-k"})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 0 || !strings.Contains(string(res.Output), "250 STARTTLS\r\n220 Go ahead\r\n250-mail.test") {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
	// Verification is on by default: the self-signed certificate fails.
	m, _ = newSMTP([]string{"-p", port, "-S"})
	res = m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 1 || !strings.Contains(string(res.Output), "failed with error STARTTLS handshake failed: tls: failed to verify certificate") {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}
