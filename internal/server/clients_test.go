package server_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// need skips the test when a real client program is not installed.
func need(t *testing.T, path, pkg string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not installed (apt-get install %s)", path, pkg)
	}
}

func needMonClient(t *testing.T) {
	t.Helper()
	if err := exec.Command("perl", "-MMon::Client", "-e", "1").Run(); err != nil {
		t.Skip("Perl Mon::Client not installed (apt-get install mon-client)")
	}
}

// runOut runs a program and returns its standard output; it fails the
// test on a non-zero exit.
func runOut(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "MONHOST=")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %q: %v\n%s%s", name, args, err, out, stderr)
	}
	return string(out)
}

// TestRealMoncmd drives the server with the original moncmd, in batch
// mode with a login, and checks its output exactly.
func TestRealMoncmd(t *testing.T) {
	need(t, "/usr/bin/moncmd", "mon-client")
	r := startTestServer(t, tableAuth)
	p := []string{"-s", "127.0.0.1", "-p", r.Port()}
	if got := runOut(t, "", "/usr/bin/moncmd", append(p, "list", "group", "g1")...); got != "hostgroup g1 h1 h2 h3\n220 list group completed\n" {
		t.Errorf("list group: %q", got)
	}
	if got := runOut(t, "", "/usr/bin/moncmd", append(p, "disable", "host", "h1")...); got != denied+"\n" {
		t.Errorf("anonymous disable: %q", got)
	}
	// moncmd drops the line after the credentials.
	in := "pass=s3cret\n\ndisable host h1\nlist disabled\nlist group g1\nenable host h1\nlist failures\n"
	got := runOut(t, in, "/usr/bin/moncmd", append(p, "-a", "-l", "alice")...)
	want := "220 disable host completed\n" +
		"group g1: h1\n220 list disabled completed\n" +
		"hostgroup g1 *h1 h2 h3\n220 list group completed\n" +
		"220 enable completed\n"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\n220 list failures completed\n") ||
		!strings.Contains(got, "\ngroup=g1 service=s2 opstatus=0 ") {
		t.Errorf("batch:\n%s\nwant prefix:\n%s", got, want)
	}
}

// TestRealMonshow renders the server's state with the original monshow.
func TestRealMonshow(t *testing.T) {
	need(t, "/usr/bin/monshow", "mon-client")
	r := startTestServer(t, tableAuth)
	got := runOut(t, "", "/usr/bin/monshow", "--server", "127.0.0.1", "--port", r.Port(), "--showall")
	for _, s := range []string{"state: scheduler running", "R g1              s2           FAIL", "h1 failed",
		"R g1              s1           untested", "D g2              s3", "Nothing is disabled."} {
		if !strings.Contains(got, s) {
			t.Errorf("monshow output lacks %q:\n%s", s, got)
		}
	}
	if t.Failed() {
		return
	}
	full := runOut(t, "", "/usr/bin/monshow", "--server", "127.0.0.1", "--port", r.Port(), "--full", "--detail", "g1,s2")
	for _, s := range []string{"Detail for group g1 service s2", "-----DETAIL-----\ndetail\n", "opstatus: fail (0)", "exitval: 1"} {
		if !strings.Contains(full, s) {
			t.Errorf("monshow --detail g1,s2 lacks %q:\n%s", s, full)
		}
	}
}

// TestRealMonClient drives the server with the Perl Mon::Client module.
func TestRealMonClient(t *testing.T) {
	needMonClient(t)
	r := startTestServer(t, tableAuth)
	got := runOut(t, "", "perl", "testdata/monclient.pl", "client", r.Port())
	want := `connect: ok
login: ok
version: 9745
opstatus g1 s1 opstatus=7 exitval=undef summary=
opstatus g1 s2 opstatus=0 exitval=1 summary=h1 failed
opstatus g2 s3 opstatus=7 exitval=undef summary=
opstatus g1,s2: g1/s2
disable_host h1: ok
disable_service g1 s1: ok
disable_watch g2: ok
disable_watch nosuch: error 520 disable error, unknown watch "nosuch"
disabled host g1 h1
disabled watch g2
disabled service g1 s1
enable_host h1: ok
enable_service g1 s1: ok
enable_watch g2: ok
disabled after enable: 0
ack g1 s2: ok
ack comment: 'alice: looking at it, "quoted"'
ack g1 s1: error 520 service is in a non-failure state
set g2 s3 opstatus fail: ok
failures: g1/s2 g2/s3
state: 1
views: v1
stop: ok
state: 0
start: ok
quit: ok
`
	if got != want {
		t.Errorf("Mon::Client transcript differs\n got:\n%s\nwant:\n%s", got, want)
	}
}
