package server_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
)

// testCF is the configuration most server tests run: g1/s1 succeeds,
// g1/s2 fails, g2/s3 depends on g1/s1.
const testCF = `authtype = userfile
userfile = DIR/users

hostgroup g1 h1 h2 h3

hostgroup g2 h4

alias al1
first line
second line

view v1 g1:s1 g2

watch g1
    service s1
        description first service
        interval 1h
        monitor ok.monitor
        period wd {Sun-Sat}
            alert true.alert
    service s2
        interval 1h
        monitor fail.monitor
        period wd {Sun-Sat}
            alert true.alert

watch g2
    service s3
        interval 1h
        monitor ok.monitor
        depend g1:s1
`

var testScripts = map[string]string{
	"ok.monitor":   "exit 0\n",
	"fail.monitor": "echo 'h1 failed'\necho detail\nexit 1\n",
	"true.alert":   "cat >/dev/null\nexit 0\n",
}

// users: alice and bob, both with password s3cret (DES crypt).
const users = "alice:Ab2AFc/ztMufY\nbob:Ab2AFc/ztMufY\n"

// tableAuth gates every command; alice is allowed everything as an
// authenticated user, bob is explicitly denied everything, and
// unauthenticated clients may only `list`.
const tableAuth = `command section
list:       all, !bob
ack:        AUTH_ANY, !bob
clear:      AUTH_ANY, !bob
disable:    AUTH_ANY, !bob
enable:     AUTH_ANY, !bob
get:        alice, bob, !bob
set:        AUTH_ANY, !bob
loadstate:  AUTH_ANY, !bob
savestate:  AUTH_ANY, !bob
reload:     AUTH_ANY, !bob
reset:      AUTH_ANY, !bob
servertime: AUTH_ANY, !bob
start:      AUTH_ANY, !bob
stop:       AUTH_ANY, !bob
term:       AUTH_ANY, !bob
test:       AUTH_ANY, !bob

trap section
127.0.0.1 monuser zz1T8N4tWvmbE
`

func startTestServer(t testing.TB, auth string) *servertest.Rig {
	t.Helper()
	r := servertest.Start(t, servertest.Config{
		MonCF:   testCF,
		AuthCF:  auth,
		Files:   map[string]string{"users": users},
		Scripts: testScripts,
	})
	waitFailing(t, r, "g1", "s2")
	return r
}

// waitFailing runs the service's monitor now (monitors first run one
// interval after startup) and waits until it failed.
func waitFailing(t testing.TB, r *servertest.Rig, group, service string) {
	t.Helper()
	if err := r.Sched.TestMonitor(group, service); err != nil {
		t.Fatal(err)
	}
	r.Await(t, group+"/"+service+" failing", func() bool {
		st, err := r.Sched.StatusOf(group, service)
		return err == nil && st.State.OpStatus.IsFailure()
	})
}

const denied = "520 command could not be executed, unknown command"

// TestCommandTable runs every command of protocol.md §4 as an
// unauthenticated client, as alice (allowed) and as bob (denied by a !
// entry), each on a fresh connection, and checks the whole reply.
func TestCommandTable(t *testing.T) {
	r := startTestServer(t, tableAuth)
	const (
		record = `opstatus=\d+ last_opstatus=\d+ exitval=\S+ timer=-?\d+ [^\n]*`
	)
	rows := []struct {
		line string
		want string // regexp for the reply lines joined by LF, anchored
	}{
		// Session (ungated).
		{"protid 9745", `220 protocol match`},
		{"protid 1", `520 protocol mismatch`},
		{"protid", `520 protocol mismatch`},
		{"protid 9745 extra", `220 protocol match`},
		{"protid 9745.0", `220 protocol match`},
		{"protid 9745.5", `520 protocol mismatch`},
		{"version", `version 9745\n220 version completed`},
		{"VeRsIoN", `version 9745\n220 version completed`},
		{"setview", `no view selected -- all groups will be displayed\n220 setview completed`},
		{"setview v1", `selecting view v1\n220 setview completed`},
		{"setview nosuch", `504 unknown view nosuch`},
		{"setview a b", `500 Unknown setview command`},
		{"getview", `no view selected -- all groups will be displayed\n220 getview completed`},
		{"dump", denied}, // only with Debug
		{"frobnicate", `520 invalid command`},
		{" list state", `520 invalid command`},
		{"", `520 invalid command`},

		// Listing.
		{"list state", `scheduler running\n220 list state completed`},
		{"LiSt state", `scheduler running\n220 list state completed`},
		{"list watch", `g1 s1\ng1 s2\ng2 s3\n220 list watch completed`},
		{"list group g1", `hostgroup g1 h1 h2 h3\n220 list group completed`},
		{"list group nosuch", `520 list group error, undefined group`},
		{"list opstatus", `group=g1 service=s1 ` + record + `\ngroup=g1 service=s2 ` + record +
			`\ngroup=g2 service=s3 ` + record + `\n220 list opstatus completed`},
		{"list opstatus g1,s2", `group=g1 service=s2 [^\n]*exitval=1 [^\n]*last_summary=h1\\20failed last_detail=detail\\0a[^\n]*\n220 list opstatus completed`},
		{"list opstatus g2", `group=g2 service=s3 [^\n]*depend=g1:s1 [^\n]*\n220 list opstatus completed`},
		{"list opstatus nosuch", `220 list opstatus completed`},
		{"list opstatus g1,s1 g1,nosuch g1,bad", `520 g1,nosuch does not exist`}, // Q-PRO-5: first unknown pair
		{"list failures", `group=g1 service=s2 [^\n]*\n220 list failures completed`},
		{"list successes", `group=g1 service=s1 [^\n]*\ngroup=g2 service=s3 [^\n]*\n220 list successes completed`},
		{"list warnings", `220 list successes completed`}, // sic (Q-PRO-13)
		{"list descriptions", `g1 s1 first\\20service\ng1 s2 \ng2 s3 \n220 list descriptions completed`},
		{"list disabled", `220 list disabled completed`},
		{"list alerthist", `(?s).*220 list alerthist completed`},
		{"list failurehist", `g1\\20s2\\20\d+\\20h1\\20failed\n220 list failurehist completed`},
		{"list pids", `server \d+\n(\S+ \S+ \d+\n)*220 list pids completed`},
		{"list deps", `exp g1 s1 'NONE'\ncmp g1 s1 NONE\nexp g1 s2 'NONE'\ncmp g1 s2 NONE\n` +
			`exp g2 s3 'g1:s1'\ncmp g2 s3 g1:s1\n220 list deps completed`},
		{"list dtlog", `520 list dtlog error, dtlogging is not turned on`},
		{"list aliases", `alias al1\nfirst line\nsecond line\n\n220 list aliases completed`},
		{"list aliases nosuch", `alias nosuch\n\n220 list aliases completed`},
		{"list aliasgroups", `al1\n220 list aliasgroups completed`}, // no phantom nosuch (Q-PRO-7)
		{"list views", `views v1\n220 list group completed`},
		{"list decisions", `(\S+ \S+ \d+ \S+ (sent|suppressed) \S+ \S*\n)+220 list decisions completed`},
		{"list decisions g1 nosuch", `520 g1,nosuch does not exist`},
		{"list decisions g1", `520 list decisions takes a group and a service`},
		{"list", `520 unknown list command`},
		{"list nosuch", `520 unknown list command`},
		{"LIST STATE", `520 unknown list command`},

		// get / set.
		{"get g1 s1 interval", `g1 s1 interval='3600'\n220 get completed`},
		{"get g1 s1 nosuchvar", `g1 s1 nosuchvar=''\n220 get completed`},
		{"get nosuch s1 interval", `520 nosuch,s1 not defined`},
		{"get g1 s1", `g1 s1 =''\n220 get completed`},
		{"get g1", `520 g1, not defined`},
		{"get maxkeep", `maxkeep = 100\n220 set completed`}, // sic (Q-PRO-13)
		{"set maxkeep 100", `220 set completed`},
		{"set g1 s1 note 'a\\20b'", `g1 s1 note='a b'\n220 set completed`},
		{"set nosuch s1 note x", `520 nosuch,s1 not defined`},
		{"set g1 s1 opstatus bogus", `520 undefined opstatus`},
		{"set g2 s3 opstatus 'ok'", `220 set completed`}, // quoted name accepted (Q-PRO-10)

		// ack.
		{"ack g1 s2 'acked\\20by\\20me'", `220 ack completed`},
		{"ack g1 s1 x", `520 service is in a non-failure state`},
		{"ack nosuch s1 x", `520 unknown group`}, // a single final line (Q-PRO-9)
		{"ack g1 nosuch x", `520 unknown service`},
		{"ack g1", `520 unknown service`},
		{"ack", `520 unknown group`},

		// Disabling.
		{"disable host h1", `220 disable host completed`},
		{"disable host nosuch h2", `520 disable host failed, host\(s\) nosuch do not exist`},
		{"disable host h.", `520 disable host failed, host\(s\) h. do not exist`}, // literal (Q-PRO-8)
		{"enable host h1", `220 enable completed`},
		{"enable host nosuch", `220 enable completed`},
		{"disable service g1 s1", `220 disable service completed`},
		{"disable service g1 nosuch", `520 disable error, unknown service`},
		{"enable service g1 s1", `220 enable completed`},
		{"enable service g1 nosuch", `520 enable error, unknown group`}, // sic (Q-PRO-13)
		{"disable watch g2", `220 disable watch completed`},
		{"disable watch nosuch", `520 disable error, unknown watch "nosuch"`},
		{"enable watch g2", `220 enable watch completed`},
		{"enable watch nosuch", `520 enable error, unknown watch`},
		{"disable foo", `520 command could not be executed`},
		{"disable service g1", `520 disable error, unknown service`},
		{"disable watch", `520 disable error, unknown watch ""`}, // mon creates a phantom watch "" (Q-PRO-7)
		{"disable host", `220 disable host completed`},
		{"enable service g1", `520 enable error, unknown group`},
		{"enable watch", `520 enable error, unknown watch`},
		{"enable host", `220 enable completed`},
		{"enable", `520 command could not be executed`},

		// Tests.
		{"test monitor g1 s1", `220 test monitor completed`},
		{"test monitor nosuch s1", `nosuch s1 not defined\n220 test monitor completed`},
		{"test alert g1 s1 1 wd {Sun-Sat}", `220 test alert completed`},
		{"test upalert g1 s1 0 wd {Sun-Sat}", `220 test alert completed`}, // sic,
		{"test alert g1 s1 1 nosuch", `520 period not defined`},
		{"test alert nosuch s1 1 wd {Sun-Sat}", `520 nosuch s1 not defined`},
		{"test config", `220 test config completed OK, no errors found`},
		{"test bogus", `520 test error`},
		{"test monitor g1", `g1  not defined\n220 test monitor completed`},
		{"test monitor", `  not defined\n220 test monitor completed`},
		{"test alert g1 s1", `520 period not defined`},
		{"test alert", `520   not defined`},

		// State and control.
		{"savestate", `520 savestate error, arguments required`},
		{"savestate all", `220 savestate completed`},
		{"loadstate disabled", `220 loadstate completed`},
		{"loadstate", `220 loadstate completed`},
		{"clear timers g1 s1", `220 clear timers completed`},
		{"clear timers g1 nosuch", `520 unknown group`},
		{"clear TIMERS g1 s1", `220 clear timers completed`},
		{"clear bogus", `520 unknown clear command`},
		{"clear timers g1", `520 unknown clear command`},
		{"reload", `220 reload completed`},
		{"reload auth", `220 reload completed`},
		{"reload bogus", `520 unknown reload command`},
		{"servertime", `\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n220 servertime completed`},
		{"stop", `220 stop completed`},
		{"start", `220 start completed`},
		{"reset keepstate", `220 reset PID \d+@\S+`},
		{"quit now", `220 quitting`},
	}
	type user struct{ name, login string }
	for _, row := range rows {
		cmd := strings.ToLower(strings.Fields(row.line + " x")[0])
		gated := !map[string]bool{"quit": true, "protid": true, "version": true,
			"dump": true, "frobnicate": true, "": true, "x": true}[cmd] && row.line[0] != ' '
		// The view commands are granted by their own auth.cf line or by
		// list's (gomon checks them; mon let anyone run them).
		listLike := cmd == "list" || cmd == "setview" || cmd == "getview"
		for _, u := range []user{{"anonymous", ""}, {"alice", "alice"}, {"bob", "bob"}} {
			want := row.want
			if gated && (u.name == "bob" || u.name == "anonymous" && !listLike) {
				want = denied
			}
			c := r.Dial(t)
			if u.login != "" {
				if got := c.Do("login " + u.login + " s3cret"); got[0] != "220 login accepted" {
					t.Fatalf("login %s: %q", u.login, got)
				}
			}
			got := strings.Join(c.Do(row.line), "\n")
			if !regexp.MustCompile(`^(?:` + want + `)$`).MatchString(got) {
				t.Errorf("%s: %q\n got: %q\nwant: %s", u.name, row.line, got, want)
			}
			// The connection is still in step: the next reply is the
			// next command's (no stray final lines, Q-PRO-9).
			if !strings.HasPrefix(row.line, "quit") {
				if got := c.Do("protid 9745"); len(got) != 1 || got[0] != "220 protocol match" {
					t.Errorf("%s: after %q, protid got %q", u.name, row.line, got)
				}
			}
			c.Close()
		}
	}
}

// TestCheckauth: checkauth applies the same rules without running the
// command, and compares its argument as given (not lower-cased).
func TestCheckauth(t *testing.T) {
	r := startTestServer(t, tableAuth)
	cases := []struct {
		login, cmd, want string
	}{
		{"", "list", "220 command authorized"},
		{"", "stop", "520 command could not be executed"},
		{"", "LIST", "520 command could not be executed"},
		{"", "quit", "520 command could not be executed"}, // no entry
		{"alice", "stop", "220 command authorized"},
		{"alice", "get", "220 command authorized"},
		{"bob", "list", "520 command could not be executed"},
		{"bob", "get", "520 command could not be executed"},
	}
	for _, c := range cases {
		conn := r.Dial(t)
		if c.login != "" {
			conn.Do("login " + c.login + " s3cret")
		}
		if got := conn.Do("checkauth " + c.cmd); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: checkauth %s = %q, want %q", c.login, c.cmd, got, c.want)
		}
		conn.Close()
	}
}

// TestLogin: wrong and incomplete credentials fail with 530; a failed
// login keeps an earlier identity (Q-AUTH-1); a new login switches it.
func TestLogin(t *testing.T) {
	r := startTestServer(t, tableAuth)
	c := r.Dial(t)
	for _, l := range []string{"login", "login alice", "login alice wrong", "login nobody s3cret", "login alice s3cret extra"} {
		if got := c.Do(l); got[0] != "530 login unsuccessful" {
			t.Errorf("%q: %q", l, got)
		}
	}
	steps := []struct{ line, want string }{
		{"login alice s3cret", "220 login accepted"},
		{"stop", "220 stop completed"},
		{"login alice wrong", "530 login unsuccessful"},
		{"start", "220 start completed"}, // still alice
		{"login bob s3cret", "220 login accepted"},
		{"start", denied},
	}
	for _, s := range steps {
		if got := c.Do(s.line); got[len(got)-1] != s.want {
			t.Errorf("%q: %q, want %q", s.line, got, s.want)
		}
	}
}

// TestReloadAuthFailureKeepsTables: an unreadable auth.cf on `reload
// auth` answers 520 and keeps the old tables (Q-AUTH-8).
func TestReloadAuthFailureKeepsTables(t *testing.T) {
	r := startTestServer(t, servertest.OpenAuth)
	c := r.Dial(t)
	if err := os.Remove(r.Dir + "/auth.cf"); err != nil {
		t.Fatal(err)
	}
	if got := c.Do("reload auth"); got[0] != "520 reload failed, keeping the previous auth.cf" {
		t.Fatalf("reload auth without a file: %q", got)
	}
	if got := c.Do("stop"); got[0] != "220 stop completed" {
		t.Fatalf("after the failed reload the old table should still allow stop: %q", got)
	}
}

// TestDebugDump: with Debug (mon -d), dump answers 220 (mon sends no
// reply at all, Q-PRO-12); unlike mon, it needs an auth.cf entry, like
// every command.
func TestDebugDump(t *testing.T) {
	r := servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: "command section\ndump: all\n",
		Files: map[string]string{"users": users}, Scripts: testScripts,
		Server: server.Options{Debug: true}})
	if got := r.Dial(t).Do("dump"); len(got) != 1 || got[0] != "220 dump completed" {
		t.Fatalf("dump: %q", got)
	}
	r = servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: "command section\n",
		Files: map[string]string{"users": users}, Scripts: testScripts,
		Server: server.Options{Debug: true}})
	if got := r.Dial(t).Do("dump"); len(got) != 1 || got[0] != denied {
		t.Fatalf("dump without an auth.cf entry: %q", got)
	}
}

// TestTerm: term replies, closes the connection and then calls Term;
// denied users get the unknown-command reply and nothing happens.
func TestTerm(t *testing.T) {
	termed := make(chan struct{}, 1)
	r := servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: tableAuth,
		Files: map[string]string{"users": users}, Scripts: testScripts,
		Server: server.Options{Term: func() { termed <- struct{}{} }}})
	bob := r.Dial(t)
	bob.Do("login bob s3cret")
	if got := bob.Do("term"); got[0] != denied {
		t.Fatalf("bob: term = %q", got)
	}
	c := r.Dial(t)
	c.Do("login alice s3cret")
	if got := c.Do("term"); len(got) != 1 || got[0] != "220 terminating server" {
		t.Fatalf("term = %q", got)
	}
	select {
	case <-termed:
	case <-time.After(servertest.Timeout):
		t.Fatal("Term was not called")
	}
	c.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
	if n, err := c.R.ReadByte(); err == nil {
		t.Fatalf("connection still open after term, read %q", n)
	}
}
