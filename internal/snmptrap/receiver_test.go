package snmptrap

import (
	"context"
	"log/slog"
	"net"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/scheduler"
)

// fakeSched records the events the receiver delivers.
type fakeSched struct {
	cfg    *config.Config
	mu     sync.Mutex
	events []scheduler.TrapEvent
	got    chan struct{}
	owner  bool
}

func (f *fakeSched) Config() *config.Config { return f.cfg }

func (f *fakeSched) Trap(e scheduler.TrapEvent) error {
	f.mu.Lock()
	f.events = append(f.events, e)
	f.mu.Unlock()
	f.got <- struct{}{}
	if !f.owner {
		return &scheduler.NotOwnerError{Group: e.Group, Service: e.Service}
	}
	return nil
}

// startReceiver runs a receiver for the rules of a mon.cf on a free
// loopback port.
func startReceiver(t *testing.T, cf string) (*Receiver, *fakeSched, string) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	cfg, err := configfile.Parse("mon.cf", []byte("snmptrap_listen = "+addr+"\n"+cf), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeSched{cfg: cfg, got: make(chan struct{}, 16), owner: true}
	r, err := New(cfg.Globals.SNMPTrap, fs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return r, fs, addr
}

// netsnmp runs snmptrap or snmpinform with numeric OIDs and no MIBs.
func netsnmp(t *testing.T, tool string, args ...string) error {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (Debian package snmp)", tool)
	}
	cmd := exec.Command(path, append([]string{"-m", "", "-M", "/nonexistent"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("%s %v: %v\n%s", tool, args, err, out)
	}
	return err
}

const receiverCf = `snmptrap_community = public
snmptrap_user = ops SHA authpass1 AES privpass1
snmptrap_user = md5user MD5 authpass2 DES privpass2

hostgroup sw 127.0.0.1

watch sw
    service link
        snmptrap trap=1.3.6.1.6.3.1.1.5.3 status=fail summary=1.3.6.1.2.1.2.2.1.2.1
        snmptrap trap=1.3.6.1.6.3.1.1.5.4 status=ok
    service ent
        snmptrap trap=1.3.6.1.4.1.8072.2.3.* from=127.0.0.0/8
`

func (f *fakeSched) wait(t *testing.T) scheduler.TrapEvent {
	t.Helper()
	select {
	case <-f.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no trap delivered within 5 s")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.events[len(f.events)-1]
}

// TestRealNetSNMPTools sends v1, v2c and v3 traps and v2c and v3 informs
// with net-snmp's own tools.
func TestRealNetSNMPTools(t *testing.T) {
	r, fs, addr := startReceiver(t, receiverCf)
	linkDown := []string{"", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.1.1", "i", "1", "1.3.6.1.2.1.2.2.1.2.1", "s", "eth0"}
	v3 := []string{"-v", "3", "-u", "ops", "-l", "authPriv", "-a", "SHA", "-A", "authpass1", "-x", "AES", "-X", "privpass1"}
	for _, tc := range []struct {
		name, tool string
		args       []string
		want       scheduler.TrapEvent
	}{
		{"v1 enterprise-specific", "snmptrap", []string{"-v", "1", "-c", "public", addr, "1.3.6.1.4.1.8072.2.3", "127.0.0.1", "6", "17", "", "1.3.6.1.4.1.8072.2.3.2.1", "s", "hello"},
			scheduler.TrapEvent{Group: "sw", Service: "ent", Status: "1", Summary: "SNMP v1 1.3.6.1.4.1.8072.2.3.0.17 from 127.0.0.1", Detail: "1.3.6.1.4.1.8072.2.3.2.1 = hello\n"}},
		{"v1 generic linkUp", "snmptrap", []string{"-v", "1", "-c", "public", addr, "1.3.6.1.4.1.8072.2.3", "127.0.0.1", "3", "0", ""},
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "0"}},
		{"v2c linkDown", "snmptrap", append([]string{"-v", "2c", "-c", "public", addr}, linkDown...),
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "1", Summary: "eth0"}},
		{"v3 authPriv linkDown", "snmptrap", append(append(append([]string{}, v3...), "-e", "0x8000000001020304", addr), linkDown...),
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "1", Summary: "eth0"}},
		{"v3 MD5/DES linkUp", "snmptrap", []string{"-v", "3", "-u", "md5user", "-l", "authPriv", "-a", "MD5", "-A", "authpass2", "-x", "DES", "-X", "privpass2", "-e", "0x8000000001020305", addr, "", "1.3.6.1.6.3.1.1.5.4"},
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "0"}},
		{"v2c inform", "snmpinform", append([]string{"-v", "2c", "-c", "public", "-r", "0", "-t", "3", addr}, linkDown...),
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "1", Summary: "eth0"}},
		{"v3 inform", "snmpinform", append(append(append([]string{}, v3...), "-r", "0", "-t", "3", addr), linkDown...),
			scheduler.TrapEvent{Group: "sw", Service: "link", Status: "1", Summary: "eth0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// snmpinform exits 0 only once the inform was acknowledged.
			if err := netsnmp(t, tc.tool, tc.args...); err != nil {
				t.Fatal(err)
			}
			e := fs.wait(t)
			if e.Group != tc.want.Group || e.Service != tc.want.Service || e.Status != tc.want.Status ||
				(tc.want.Summary != "" && e.Summary != tc.want.Summary) || (tc.want.Detail != "" && e.Detail != tc.want.Detail) {
				t.Errorf("delivered %+v\nwant %+v", e, tc.want)
			}
		})
	}
	if s := r.Stats(); s.Received != 7 || s.Delivered != 7 {
		t.Errorf("stats = %+v", s)
	}
}

// TestRejected: wrong communities, unknown users and wrong passwords are
// dropped and counted; nothing reaches a service.
func TestRejected(t *testing.T) {
	r, fs, addr := startReceiver(t, receiverCf)
	trap := []string{"", "1.3.6.1.6.3.1.1.5.3"}
	netsnmp(t, "snmptrap", append([]string{"-v", "2c", "-c", "private", addr}, trap...)...)
	netsnmp(t, "snmptrap", "-v", "1", "-c", "secret", addr, "1.3.6.1.4.1.8072.2.3", "127.0.0.1", "6", "1", "")
	netsnmp(t, "snmptrap", append([]string{"-v", "3", "-u", "nobody", "-l", "authPriv", "-a", "SHA", "-A", "authpass1", "-x", "AES", "-X", "privpass1", "-e", "0x8000000001020304", addr}, trap...)...)
	netsnmp(t, "snmptrap", append([]string{"-v", "3", "-u", "ops", "-l", "authPriv", "-a", "SHA", "-A", "wrongpass", "-x", "AES", "-X", "privpass1", "-e", "0x8000000001020304", addr}, trap...)...)
	// An inform with a wrong password is never acknowledged.
	if err := netsnmp(t, "snmpinform", append([]string{"-v", "3", "-u", "ops", "-l", "authPriv", "-a", "SHA", "-A", "wrongpass", "-x", "AES", "-X", "privpass1", "-r", "0", "-t", "1", addr}, trap...)...); err == nil {
		t.Error("an inform with a wrong password was acknowledged")
	}
	// A good trap afterwards proves the rejected ones were read before it.
	netsnmp(t, "snmptrap", append([]string{"-v", "2c", "-c", "public", addr}, "", "1.3.6.1.6.3.1.1.5.4")...)
	if e := fs.wait(t); e.Status != "0" {
		t.Errorf("delivered %+v", e)
	}
	s := r.Stats()
	if s.Rejected["community"] != 2 || s.Rejected["user"] != 1 || s.Rejected["auth"] < 2 || s.Delivered != 1 {
		t.Errorf("stats = %+v", s)
	}
	if got := len(fs.events); got != 1 {
		t.Errorf("%d events delivered, want 1", got)
	}
}

// TestNotOwned: in a cluster, a trap for a service another node runs is
// counted and left to its owner (which receives it too).
func TestNotOwned(t *testing.T) {
	r, fs, addr := startReceiver(t, receiverCf)
	fs.owner = false
	netsnmp(t, "snmptrap", "-v", "2c", "-c", "public", addr, "", "1.3.6.1.6.3.1.1.5.4")
	fs.wait(t)
	if s := r.Stats(); s.NotOwned != 1 || s.Delivered != 0 {
		t.Errorf("stats = %+v", s)
	}
}
