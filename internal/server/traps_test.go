package server_test

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/scheduler/decide"
)

// trapAuth accepts traps only from monuser/secret on 127.0.0.1.
const trapAuth = `command section
list: all

trap section
127.0.0.1 monuser zz1T8N4tWvmbE
`

// sendRaw sends one datagram to the trap port.
func sendRaw(t *testing.T, r *servertest.Rig, pkt []byte) {
	t.Helper()
	c, err := net.Dial("udp4", r.TrapAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
}

// sendPerl sends a trap with the real Mon::Client send_trap.
func sendPerl(t *testing.T, r *servertest.Rig, user, pass, group, service, retval, summary string) {
	t.Helper()
	if got := runOut(t, "", "perl", "testdata/monclient.pl", "trap", r.TrapPort(), user, pass, group, service, retval, summary); got != "sent\n" {
		t.Fatalf("monclient.pl trap: %q", got)
	}
}

// marker sends an authenticated trap to g2/s3 and waits until it is
// processed. The server reads datagrams in order, so every datagram sent
// before the marker has been handled by then.
func marker(t *testing.T, r *servertest.Rig, summary string) {
	t.Helper()
	tr, err := protocol.NewTrap("monuser", "secret", "g2", "s3", 1, decide.Fail, summary, "")
	if err != nil {
		t.Fatal(err)
	}
	sendRaw(t, r, protocol.EncodeTrap(tr))
	waitSummary(t, r, "g2", "s3", summary)
}

func waitSummary(t *testing.T, r *servertest.Rig, group, service, summary string) {
	t.Helper()
	r.Await(t, fmt.Sprintf("%s/%s summary %q", group, service, summary), func() bool {
		st, err := r.Sched.StatusOf(group, service)
		if err != nil {
			t.Fatal(err)
		}
		return st.State.LastSummary == summary
	})
}

// TestTrapsFromMonClient: traps sent by the real Mon::Client are applied
// when authenticated and dropped, without any state change, otherwise.
func TestTrapsFromMonClient(t *testing.T) {
	needMonClient(t)
	r := servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: trapAuth,
		Files: map[string]string{"users": users}, Scripts: testScripts})
	before, _ := r.Sched.StatusOf("g1", "s1")

	sendPerl(t, r, "", "", "g1", "s1", "1", "no user")
	sendPerl(t, r, "monuser", "wrong", "g1", "s1", "1", "bad password")
	sendPerl(t, r, "other", "secret", "g1", "s1", "1", "unknown user")
	marker(t, r, "marker 1")
	after, _ := r.Sched.StatusOf("g1", "s1")
	if !reflect.DeepEqual(after.State, before.State) {
		t.Fatalf("refused traps changed g1/s1:\nbefore %+v\nafter  %+v", before.State, after.State)
	}

	sendPerl(t, r, "monuser", "secret", "g1", "s1", "2", "trap from Mon::Client")
	waitSummary(t, r, "g1", "s1", "trap from Mon::Client")
	st, _ := r.Sched.StatusOf("g1", "s1")
	if !st.State.OpStatus.IsFailure() || st.State.ExitVal != 2 || st.State.LastTrap() == 0 ||
		st.State.LastDetail != "\nline1\nline2\n" { // mon keeps the blank line after the summary

		t.Fatalf("after the trap: %+v", st.State)
	}
	c := r.Dial(t)
	got := c.Do("list opstatus g1,s1")
	if !strings.Contains(got[0], " exitval=2 ") || !strings.Contains(got[0], " last_summary=trap\\20from\\20Mon::Client ") {
		t.Fatalf("list opstatus: %q", got)
	}

	sendPerl(t, r, "monuser", "secret", "g1", "s1", "0", "recovered")
	waitSummary(t, r, "g1", "s1", "recovered")
	if st, _ := r.Sched.StatusOf("g1", "s1"); st.State.OpStatus.IsFailure() {
		t.Fatalf("after the recovery trap: %+v", st.State)
	}
}

// TestMalformedTraps: datagrams that are not valid traps are dropped
// without a state change, and the trap socket keeps working.
func TestMalformedTraps(t *testing.T) {
	r := servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: trapAuth,
		Files: map[string]string{"users": users}, Scripts: testScripts})
	before, _ := r.Sched.StatusOf("g1", "s1")
	good := func(mod func(*protocol.Trap)) []byte {
		tr, err := protocol.NewTrap("monuser", "secret", "g1", "s1", 1, decide.Fail, "should not arrive", "")
		if err != nil {
			t.Fatal(err)
		}
		mod(&tr)
		return protocol.EncodeTrap(tr)
	}
	for _, pkt := range [][]byte{
		{},
		[]byte("\x00\xff\xfe garbage"),
		[]byte(strings.Repeat("x", 60000)),
		[]byte("pro='0.3807'\nusr='monuser'\npas='secret'\ngrp='g1'\nsvc='s1'\n"), // no sta
		[]byte("grp=g1\nsvc=s1\nsta=1\n"),                                         // no credentials
		good(func(t *protocol.Trap) { t.Pro = "0.3806" }),                         // too old
		good(func(t *protocol.Trap) { t.Grp = "nosuch" }),
		good(func(t *protocol.Trap) { t.Svc = "nosuch" }),
		good(func(t *protocol.Trap) { t.Pas = "secreT" }),
		[]byte(strings.Repeat("pro='0.3807'\nusr='monuser'\n", 2000)),
	} {
		sendRaw(t, r, pkt)
	}
	marker(t, r, "marker 2")
	after, _ := r.Sched.StatusOf("g1", "s1")
	if !reflect.DeepEqual(after.State, before.State) {
		t.Fatalf("malformed traps changed g1/s1:\nbefore %+v\nafter  %+v", before.State, after.State)
	}
}
