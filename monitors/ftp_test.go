package monitors

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
)

func ftpServer() *lineServer {
	return &lineServer{
		greeting:   "220-Welcome\r\n220 test FTP ready\r\n",
		replies:    map[string]string{"QUIT": "221 Goodbye.\r\n", "USER": "331 Password required\r\n", "PASS": "230 Logged in\r\n"},
		unknown:    "500 What?\r\n",
		closeAfter: map[string]bool{"QUIT": true},
	}
}

func TestFTPOK(t *testing.T) {
	port := serveTCP(t, ftpServer().handle)
	out, code := dropIn(t, "ftp.monitor", "-p", port, "127.0.0.1")
	want := "\n\n127.0.0.1 succeeded\ndetail for 127.0.0.1\n" + ruler + "\n" +
		"    < 220-Welcome\r\n    < 220 test FTP ready\r\n    > quit\n    < 221 Goodbye.\r\n\n"
	if out != want || code != 0 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
}

func TestFTPLogin(t *testing.T) {
	srv := ftpServer()
	port := serveTCP(t, srv.handle)
	m, err := newFTP([]string{"-p", port, "-u", "mon", "-P", "secret"})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 0 || strings.Contains(string(res.Output), "secret") || !strings.Contains(string(res.Output), "    > PASS ********\n    < 230 Logged in") {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
	if got := srv.received(); !slices.Equal(got, []string{"USER mon", "PASS secret", "quit"}) {
		t.Errorf("server got %q", got)
	}

	srv = ftpServer()
	srv.replies["PASS"] = "530 Login incorrect\r\n"
	port = serveTCP(t, srv.handle)
	m, _ = newFTP([]string{"-p", port, "-u", "mon", "-P", "wrong"})
	res = m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if res.Exit != 1 || !strings.Contains(string(res.Output), "127.0.0.1 failed with error login failed\n") {
		t.Errorf("exit %d output %q", res.Exit, res.Output)
	}
}

func TestFTPFailures(t *testing.T) {
	down := closedPort(t)
	bad := ftpServer()
	bad.replies["QUIT"] = "500 No.\r\n"
	badPort := serveTCP(t, bad.handle)
	full := serveTCP(t, func(c net.Conn) { c.Write([]byte("421 Too many users\r\n")) })
	silent := silentServer(t)
	cases := []struct {
		port, want string
	}{
		{down, "127.0.0.1\n127.0.0.1 failed with error connect: Connection refused\ndetail for 127.0.0.1\n" + ruler + "\nno detail\n\n\n"},
		{badPort, "127.0.0.1\n127.0.0.1 failed with error FTP server error after quit\ndetail for 127.0.0.1\n" + ruler +
			"\n    < 220-Welcome\r\n    < 220 test FTP ready\r\n    > quit\n    < 500 No.\r\n\n\n"},
		{full, "127.0.0.1\n127.0.0.1 failed with error Connection refused\ndetail for 127.0.0.1\n" + ruler +
			"\n    < 421 Too many users\r\n\n\n"},
		{silent, "127.0.0.1\n127.0.0.1 failed with error timeout\ndetail for 127.0.0.1\n" + ruler + "\nno detail\n\n\n"},
	}
	for _, c := range cases {
		out, code := dropIn(t, "ftp.monitor", "-p", c.port, "-t", "0.5", "127.0.0.1")
		if out != c.want || code != 1 {
			t.Errorf("port %s: exit %d output %q, want %q", c.port, code, out, c.want)
		}
	}
}

func TestFTPMixedOrder(t *testing.T) {
	port := serveTCP(t, ftpServer().handle)
	// 127.0.0.2 and 127.0.0.3 refuse: failed blocks first, sorted, then
	// the good one.
	m, _ := newFTP([]string{"-p", port})
	res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.3", "127.0.0.1", "127.0.0.2"}})
	out := string(res.Output)
	if !strings.HasPrefix(out, "127.0.0.2 127.0.0.3\n127.0.0.2 failed") ||
		strings.Index(out, "127.0.0.3 failed") > strings.Index(out, "127.0.0.1 succeeded") {
		t.Errorf("output %q", out)
	}
	if len(res.Hosts) != 3 || !res.Hosts[1].OK || res.Hosts[0].OK {
		t.Errorf("hosts %+v", res.Hosts)
	}
}

func TestFTPMatchesPerl(t *testing.T) {
	port := serveTCP(t, ftpServer().handle)
	down := closedPort(t)
	for _, args := range [][]string{{"-p", port, "127.0.0.1"}, {"-p", down, "127.0.0.1"}} {
		want, wantCode := perlOriginal(t, "ftp.monitor", args...)
		got, code := dropIn(t, "ftp.monitor", args...)
		if got != want || code != wantCode {
			t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
		}
	}
}
