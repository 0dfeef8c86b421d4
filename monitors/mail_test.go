package monitors

import (
	"context"
	"slices"
	"testing"
)

func imapServer() *lineServer {
	return &lineServer{
		greeting: "* OK IMAP4rev1 ready\r\n",
		replies: map[string]string{
			"LOGIN":   "A1 OK logged in\r\n",
			"EXAMINE": "* 3 EXISTS\r\nA2 OK [READ-ONLY] done\r\n",
			"LOGOUT":  "* BYE\r\nA3 OK bye\r\n",
		},
		unknown:    "* BAD what\r\n",
		closeAfter: map[string]bool{"LOGOUT": true},
	}
}

func TestIMAP(t *testing.T) {
	srv := imapServer()
	port := serveTCP(t, srv.handle)
	out, code := dropIn(t, "imap.monitor", "-p", port, "-m", "INBOX", "127.0.0.1")
	if out != "" || code != 0 {
		t.Errorf("exit %d output %q", code, out)
	}
	want := []string{"A1 LOGIN ANONYMOUS ANONYMOUS", "A2 EXAMINE INBOX", "A3 LOGOUT"}
	if got := srv.received(); !slices.Equal(got, want) {
		t.Errorf("server got %q, want %q", got, want)
	}
}

func TestIMAPFailures(t *testing.T) {
	refusing := imapServer()
	refusing.replies["LOGIN"] = "A1 NO anonymous login refused\r\n"
	refusingPort := serveTCP(t, refusing.handle)
	pop := serveTCP(t, (&lineServer{greeting: "+OK POP3\r\n"}).handle)
	silent := silentServer(t)
	down := closedPort(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-p", refusingPort}, "127.0.0.1\n\n127.0.0.1: bad response to login: NO anonymous login refused\n"},
		{[]string{"-p", pop}, "127.0.0.1\n\n127.0.0.1: No IMAP banner received\n"},
		{[]string{"-p", silent, "-t", "0.5"}, "127.0.0.1\n\n127.0.0.1: **** Time Out\n\n"},
		{[]string{"-p", down}, "127.0.0.1\n\n127.0.0.1: Unable to connect: Connection refused\n"},
	}
	for _, c := range cases {
		out, code := dropIn(t, "imap.monitor", append(c.args, "127.0.0.1")...)
		if out != c.want || code != 1 {
			t.Errorf("%q: exit %d output %q, want %q", c.args, code, out, c.want)
		}
	}
	// -b only looks at the greeting, so the refused login does not matter.
	if out, code := dropIn(t, "imap.monitor", "-b", "-p", refusingPort, "127.0.0.1"); out != "" || code != 0 {
		t.Errorf("-b: exit %d output %q", code, out)
	}
}

func TestPOP3(t *testing.T) {
	srv := &lineServer{
		greeting:   "+OK POP3 ready\r\n",
		replies:    map[string]string{"QUIT": "+OK bye\r\n"},
		unknown:    "-ERR\r\n",
		closeAfter: map[string]bool{"QUIT": true},
	}
	port := serveTCP(t, srv.handle)
	m, err := newPOP3([]string{"-p", port})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1", "localhost"}})
	if res.Exit != 0 || len(res.Output) != 0 || len(res.Hosts) != 2 || !res.Hosts[1].OK {
		t.Errorf("exit %d output %q hosts %+v", res.Exit, res.Output, res.Hosts)
	}
	if got := srv.received(); !slices.Equal(got, []string{"quit", "quit"}) {
		t.Errorf("server got %q", got)
	}
}

func TestPOP3Failures(t *testing.T) {
	imap := serveTCP(t, imapServer().handle)
	silent := silentServer(t)
	down := closedPort(t)
	out, code := dropIn(t, "pop3.monitor", "-p", down, "127.0.0.2", "127.0.0.1")
	if want := "127.0.0.1 127.0.0.2\n127.0.0.2: Connection refused\n127.0.0.1: Connection refused\n"; out != want || code != 1 {
		t.Errorf("refused: exit %d output %q, want %q", code, out, want)
	}
	out, code = dropIn(t, "pop3.monitor", "-p", silent, "-t", "0.5", "127.0.0.1")
	if want := "127.0.0.1\n127.0.0.1: timeout(0.5)\n"; out != want || code != 1 {
		t.Errorf("timeout: exit %d output %q, want %q", code, out, want)
	}
	out, code = dropIn(t, "pop3.monitor", "-p", imap, "127.0.0.1")
	if want := "127.0.0.1\n127.0.0.1: unexpected greeting: * OK IMAP4rev1 ready\n"; out != want || code != 1 {
		t.Errorf("bad greeting: exit %d output %q, want %q", code, out, want)
	}
}

// The installed imap.monitor and pop3.monitor fail every host on current
// Perl (Sys::Hostname's hostname() called with arguments dies), so only
// the summary line of a failure can be compared.
func TestMailMatchesPerl(t *testing.T) {
	down := closedPort(t)
	args := []string{"-p", down, "127.0.0.1"}
	for _, name := range []string{"imap.monitor", "pop3.monitor"} {
		want, wantCode := perlOriginal(t, name, args...)
		got, code := dropIn(t, name, args...)
		if firstLine(got) != firstLine(want) || code != wantCode {
			t.Errorf("%s: gomon exit %d %q, perl exit %d %q", name, code, got, wantCode, want)
		}
	}
}

func TestMailBadFlags(t *testing.T) {
	for _, name := range []string{"imap.monitor", "pop3.monitor", "ftp.monitor", "smtp.monitor"} {
		if _, code := dropIn(t, name, "-Z", "127.0.0.1"); code == 0 {
			t.Errorf("%s accepted -Z", name)
		}
	}
	if _, err := newFTP([]string{"-u", "user"}); err == nil {
		t.Errorf("ftp -u without -P accepted")
	}
}
