package alerts

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// trapListener receives trap datagrams on 127.0.0.1.
func trapListener(t *testing.T) (*net.UDPConn, string) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().String()
}

// receiveTrap returns the next datagram, raw and decoded.
func receiveTrap(t *testing.T, c *net.UDPConn) (string, protocol.Trap) {
	t.Helper()
	buf := make([]byte, protocol.MaxTrapSize)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	tr, warnings, err := protocol.DecodeTrap(buf[:n])
	if err != nil || len(warnings) > 0 {
		t.Fatalf("decode: %v %v\n%s", err, warnings, buf[:n])
	}
	return string(buf[:n]), tr
}

func TestTrapToTwoServers(t *testing.T) {
	c1, a1 := trapListener(t)
	c2, a2 := trapListener(t)
	// -T as mon passes it must not swallow the next argument (Q-MON-2).
	a := newBuiltin(t, "trap.alert", "-U", "monuser", "-P", "p@ss w", "-T", a1, a2)
	ev := testEvent("")
	ev.Type = decide.TrapAlert
	ev.Input = []byte("sum \"q\" it's\nline1\nline2\\z\n\n")
	ev.Env = []string{"MON_GROUP=g x", "MON_SERVICE=s1", "MON_RETVAL=3", "MON_OPSTATUS=0"}
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	// The packet Mon::Client sends for the same values (protocol.md §9.2).
	for _, c := range []*net.UDPConn{c1, c2} {
		pkt, tr := receiveTrap(t, c)
		want := "pro='0.3807'\nusr='monuser'\npas='p@ss\\20w'\nspc='0'\nseq='0'\ntyp='trap'\n" +
			"grp='g\\20x'\nsvc='s1'\nsta='3'\nspc='0'\ntsp='" + tr.Tsp + "'\n" +
			"sum='sum\\20\\22q\\22\\20it\\27s'\ndtl='line1\\0aline2\\\\z\\0a'\n"
		if pkt != want {
			t.Errorf("packet:\n%s\nwant:\n%s", pkt, want)
		}
	}
}

func TestTrapEnvCredentialsAndOpstatus(t *testing.T) {
	c, addr := trapListener(t)
	a := newBuiltin(t, "trap", "-U", "flaguser", "-o", "1", addr)
	ev := testEvent("")
	ev.Env = append(ev.Env, "MON_TRAP_USER=envuser", "MON_TRAP_PASS=envpass")
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	_, tr := receiveTrap(t, c)
	if tr.Usr != "envuser" || tr.Pas != "envpass" || tr.Spc != "1" || tr.Grp != "g1" || tr.Sum != "h1 h2 failed" {
		t.Errorf("got %+v", tr)
	}
}

func TestTrapBadValues(t *testing.T) {
	_, addr := trapListener(t)
	ev := testEvent("")
	ev.Env = []string{"MON_OPSTATUS=0"} // no MON_RETVAL (an ack alert)
	if err := newBuiltin(t, "trap", addr).Send(context.Background(), ev); err == nil {
		t.Error("want an error without MON_RETVAL")
	}
	ev.Env = []string{"MON_RETVAL=1", "MON_OPSTATUS=9"} // warn has no trap name
	if err := newBuiltin(t, "trap", addr).Send(context.Background(), ev); err == nil {
		t.Error("want an error for opstatus 9")
	}
}
