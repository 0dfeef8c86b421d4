package faults

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// unknownCommand is how mon refuses a command auth.cf does not allow.
const unknownCommand = "520 command could not be executed, unknown command"

// gated are the commands auth.cf governs, each with harmless arguments;
// term comes last, as the allowed user's term ends the daemon.
var gated = []struct{ cmd, line string }{
	{"servertime", "servertime"},
	{"list", "list opstatus"},
	{"setview", "setview"},
	{"getview", "getview"},
	{"get", "get g s interval"},
	{"set", "set g s fault_suite 1"},
	{"test", "test config"},
	{"disable", "disable service g s"},
	{"enable", "enable service g s"},
	{"ack", "ack g s fault suite"},
	{"clear", "clear timers g s"},
	{"savestate", "savestate opstatus"},
	{"loadstate", "loadstate opstatus"},
	{"reload", "reload auth"},
	{"stop", "stop"},
	{"start", "start"},
	{"reset", "reset keepstate"},
	{"term", "term"},
}

// ungated need no auth.cf entry (dump only works in debug mode);
// checkauth, also ungated, is asked about every gated command.
var ungated = []string{"version", "protid 9745", "dump"}

// matrixAuth grants every gated command to alice and not to bob, in both
// of mon's ways: by name, and as AUTH_ANY with bob denied.
func matrixAuth() string {
	var b strings.Builder
	b.WriteString("command section\n")
	for i, g := range gated {
		if i%2 == 0 {
			fmt.Fprintf(&b, "%s: alice\n", g.cmd)
		} else {
			fmt.Fprintf(&b, "%s: AUTH_ANY, !bob\n", g.cmd)
		}
	}
	b.WriteString("\ntrap section\n127.0.0.1 * *\n")
	return b.String()
}

// shaHash is an htpasswd {SHA} hash.
func shaHash(pw string) string {
	sum := sha1.Sum([]byte(pw))
	return "{SHA}" + base64.StdEncoding.EncodeToString(sum[:])
}

// authMatrix runs every protocol command as anonymous, as a user auth.cf
// allows, as one it denies, and as the allowed user after a wrong
// password, and checks each reply; then the login throttle and term.
func (s *suite) authMatrix(t *testing.T) {
	r := s.newRig(t)
	r.write(t, "auth.cf", matrixAuth())
	r.write(t, "users", "alice:"+shaHash("alice-pw")+"\nbob:"+shaHash("bob-pw")+"\n")
	cf := r.config(t, `hostgroup g 127.0.0.1

watch g
    service s
        interval 1s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert sink.alert
`)
	d := r.start(t, "auth", cf, nil)

	type identity struct {
		name, login      string
		allowed, loginOK bool
	}
	ids := []identity{
		{"anonymous", "", false, false},
		{"alice", "login alice alice-pw", true, true},
		{"bob", "login bob bob-pw", false, true},
		{"alice, wrong password", "login alice bob-pw", false, false},
	}
	var cells, wrong int
	var wrongs []string
	bad := func(id, line, got, want string) {
		wrong++
		wrongs = append(wrongs, fmt.Sprintf("%s %q: %q, want %s", id, line, got, want))
	}
	// Everyone but alice first: her term ends the daemon.
	for _, id := range []identity{ids[0], ids[2], ids[3], ids[1]} {
		c, err := d.dial()
		if err != nil {
			t.Fatal(err)
		}
		if id.login != "" {
			_, final, err := c.cmd(id.login)
			if err != nil || strings.HasPrefix(final, "220") != id.loginOK {
				t.Fatalf("%s: %q → %q, %v", id.name, id.login, final, err)
			}
		}
		for _, g := range gated {
			if g.cmd == "term" && id.allowed {
				continue // below, after the login throttle
			}
			cells++
			_, final, err := c.cmd(g.line)
			if err != nil {
				t.Fatalf("%s %q: %v\n%s", id.name, g.line, err, tail(d.log(), 2000))
			}
			switch {
			case id.allowed && final == unknownCommand:
				bad(id.name, g.line, final, "anything else")
			case !id.allowed && final != unknownCommand:
				bad(id.name, g.line, final, quoted(unknownCommand))
			}
			cells++
			_, final, err = c.cmd("checkauth " + g.cmd)
			want := "520 command could not be executed"
			if id.allowed {
				want = "220 command authorized"
			}
			if err != nil || final != want {
				bad(id.name, "checkauth "+g.cmd, final, quoted(want))
			}
		}
		for _, line := range ungated {
			cells++
			_, final, err := c.cmd(line)
			switch {
			case err != nil:
				bad(id.name, line, err.Error(), "a reply")
			case line == "dump" && final != unknownCommand: // not in debug mode
				bad(id.name, line, final, quoted(unknownCommand))
			case line != "dump" && !strings.HasPrefix(final, "220"):
				bad(id.name, line, final, "220")
			}
		}
		cells++
		if _, final, err := c.cmd("quit"); err != nil || final != "220 quitting" {
			bad(id.name, "quit", final, `"220 quitting"`)
		}
		c.close()
	}
	if !d.alive() {
		t.Fatalf("the daemon ended during the matrix:\n%s", tail(d.log(), 3000))
	}

	// Ten failed logins in a row lock the source out for a second, even
	// for the right password; then it may log in again.
	c, err := d.dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for range 10 {
		c.cmd("login alice wrong")
	}
	_, locked, _ := c.cmd("login alice alice-pw")
	time.Sleep(1100 * time.Millisecond)
	_, again, _ := c.cmd("login alice alice-pw")
	s.rep.add(t, "auth: right password after 10 failed logins",
		fmt.Sprintf("%q at once, %q 1.1 s later", locked, again), `530, then 220`,
		strings.HasPrefix(locked, "530") && strings.HasPrefix(again, "220"))

	cells++
	d.stopping.Store(true)
	_, final, err := c.cmd("term")
	if err != nil || final != "220 terminating server" {
		bad("alice", "term", final, `"220 terminating server"`)
	}
	status := "still running after 15 s"
	select {
	case <-d.done:
		status = fmt.Sprintf("exit %d", d.cmd.ProcessState.ExitCode())
	case <-time.After(15 * time.Second):
	}
	s.rep.add(t, "auth: term by the allowed user", status, "exit 0", status == "exit 0")
	d.scanPanics()
	s.rep.add(t, "auth matrix: replies as auth.cf says",
		fmt.Sprintf("%d of %d right (%d commands, and checkauth of the gated ones, × 4 identities)%s",
			cells-wrong, cells, len(gated)+len(ungated)+2, listed(wrongs)),
		"all", wrong == 0)
}

func quoted(s string) string { return fmt.Sprintf("%q", s) }
