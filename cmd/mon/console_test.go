package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

const consoleCF = `authtype = userfile
userfile = DIR/users

hostgroup g h1

watch g
    service s
        interval 1s
        monitor fail.monitor
`

const plainCF = `hostgroup g h1

watch g
    service s
        interval 1h
        monitor fail.monitor
`

// The console of the real daemon: a login with the userfile's password
// and an ack through the page change the daemon's state.
func TestConsoleActsOnDaemon(t *testing.T) {
	d := newMonDir(t)
	d.write("users", "alice:Ab2AFc/ztMufY\n", 0o644) // s3cret
	d.write("auth.cf", rigAuth+"\ncommand section\nack: AUTH_ANY\n", 0o644)
	d.script("mon.d/fail.monitor", "echo h1 down; exit 1")
	p := d.start(nil, "-c", d.config(consoleCF))
	p.waitFor(fmt.Sprintf("url=http://127.0.0.1:%d/", d.http))
	p.waitStatus("g/s", "fail")

	base := fmt.Sprintf("http://127.0.0.1:%d/", d.http)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	login := url.Values{"user": {"alice"}, "password": {"s3cret"}, "csrf": {csrf(t, c, base+"login")}}
	if code := post(t, c, base+"login", login); code != http.StatusOK {
		t.Fatalf("login: %d", code)
	}
	svc := base + "service?group=g&service=s"
	ack := url.Values{"group": {"g"}, "service": {"s"}, "comment": {"on it"}, "csrf": {csrf(t, c, svc)}}
	if code := post(t, c, base+"action/ack", ack); code != http.StatusOK {
		t.Fatalf("ack: %d", code)
	}
	if got := p.command("list opstatus g s"); !strings.Contains(got, "ackcomment=alice:\\20on\\20it") {
		t.Errorf("after the console's ack, list opstatus says:\n%s", got)
	}
	// A timed disable with a reason: the daemon keeps it as a downtime.
	dis := url.Values{"group": {"g"}, "service": {"s"}, "reason": {"kernel upgrade"}, "for": {"2h"}, "csrf": {csrf(t, c, svc)}}
	if code := post(t, c, base+"action/disable", dis); code != http.StatusOK {
		t.Fatalf("disable: %d", code)
	}
	if got := p.command("list downtimes"); !strings.Contains(got, "service g s until=") || !strings.Contains(got, " by=alice source=command reason=kernel\\20upgrade") {
		t.Errorf("after the console's timed disable, list downtimes says:\n%s", got)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}

// csrf reads the CSRF token of the first form of a page.
func csrf(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on %s:\n%s", u, body)
	}
	return string(m[1])
}

// post submits a form, following the redirect, and returns the status.
func post(t *testing.T, c *http.Client, u string, form url.Values) int {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Without status_listen the page is on 127.0.0.1:2584; when that is
// taken the daemon starts without it and says so; status_listen = off
// turns it off; an explicit address that is taken stops the start.
func TestStatusListenDefault(t *testing.T) {
	held, err := net.Listen("tcp", defaultStatusListen)
	if err == nil {
		defer held.Close()
	} else if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatal(err)
	} // else another daemon holds it, which is the case tested

	d := newMonDir(t)
	cf := d.config(plainCF)
	d.write("mon.cf", regexp.MustCompile(`(?m)^status_listen = .*\n`).ReplaceAllString(string(must(os.ReadFile(cf))), ""), 0o644)
	p := d.start(nil, "-c", cf)
	p.waitFor("status page off: its default address is taken")
	p.signal(syscall.SIGTERM)
	p.wait()

	d = newMonDir(t)
	cf = d.config("status_listen = off\n" + plainCF)
	p = d.start(nil, "-c", cf)
	if strings.Contains(p.out.String(), "status page") {
		t.Errorf("status_listen = off, yet:\n%s", p.out.String())
	}
	if _, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", d.http)); err == nil {
		t.Error("the rig's status port answers with status_listen = off")
	}
	p.signal(syscall.SIGTERM)
	p.wait()

	d = newMonDir(t)
	cf = d.config("status_listen = " + defaultStatusListen + "\n" + plainCF)
	code, stdout, stderr := runMon(t, d.dir, "-c", cf)
	if code != 1 || !strings.Contains(stdout+stderr, "fatal, could not bind status page address "+defaultStatusListen) {
		t.Errorf("explicit taken address: exit %d:\n%s%s", code, stdout, stderr)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
