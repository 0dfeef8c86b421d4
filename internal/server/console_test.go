package server_test

import (
	"testing"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// The console's entry points are the protocol's: the same passwords,
// the same auth.cf rules for the same command, the same replies.
func TestConsoleEntryPoints(t *testing.T) {
	r := startTestServer(t, tableAuth)
	srv := r.Server
	if srv.Login("alice", "wrong", "127.0.0.1") || srv.Login("nobody", "s3cret", "127.0.0.1") {
		t.Error("a wrong password or an unknown user logged in")
	}
	if !srv.Login("alice", "s3cret", "127.0.0.1") {
		t.Error("alice cannot log in with her password")
	}
	for _, c := range []struct {
		user, cmd string
		want      bool
	}{{"alice", "ack", true}, {"bob", "ack", false}, {"", "ack", false}, {"", "list", true}, {"bob", "list", false}} {
		if got := srv.Allowed(c.user, c.cmd); got != c.want {
			t.Errorf("Allowed(%q, %q) = %v", c.user, c.cmd, got)
		}
	}
	if got := srv.Exec("", "127.0.0.1", "disable service g1 s2"); got != denied {
		t.Errorf("disable by nobody: %q", got)
	}
	if got := srv.Exec("bob", "127.0.0.1", "disable service g1 s2"); got != denied {
		t.Errorf("disable by bob: %q", got)
	}
	r.Await(t, "g1/s2 failing", func() bool {
		st, _ := r.Sched.StatusOf("g1", "s2")
		return st.State.OpStatus == decide.Fail
	})
	if got := srv.Exec("alice", "127.0.0.1", "ack g1 s2 '"+protocol.Escape("on it, see #12")+"'"); got != "220 ack completed" {
		t.Errorf("ack by alice: %q", got)
	}
	if got := srv.Exec("alice", "127.0.0.1", "disable service g1 s2"); got != "220 disable service completed" {
		t.Errorf("disable by alice: %q", got)
	}
	st, _ := r.Sched.StatusOf("g1", "s2")
	if st.State.AckComment != "alice: on it, see #12" || !st.State.Disabled || st.DisabledBy == nil || st.DisabledBy.By != "alice" {
		t.Errorf("after ack and disable: comment %q, disabled %v by %+v", st.State.AckComment, st.State.Disabled, st.DisabledBy)
	}
}
