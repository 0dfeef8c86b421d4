package lvs

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/scheduler/decide"
)

// lvsWithFake parses args and points the alert at an in-memory table
// holding the seed setup (with TEST-NET addresses).
func lvsWithFake(t *testing.T, args ...string) (*Alert, *ipvs.Fake) {
	t.Helper()
	l, err := Parse(args)
	if err != nil {
		t.Fatal(err)
	}
	f := ipvs.NewFake(ipvs.Service{
		VirtualService: ipvs.VirtualService{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort("192.0.2.3:80")},
		Scheduler:      "wlc",
		Reals: []ipvs.RealServer{
			{Addr: netip.MustParseAddrPort("198.51.100.1:80"), Weight: 1, Forward: ipvs.DirectRoute},
			{Addr: netip.MustParseAddrPort("198.51.100.2:80"), Weight: 1, Forward: ipvs.DirectRoute},
		},
	})
	l.Open = func() (ipvs.Director, func(), error) { return f, func() {}, nil }
	return l, f
}

func lvsEvent(typ decide.AlertType, input string) alerts.Event {
	return alerts.Event{Group: "web", Service: "http", Hosts: []string{"198.51.100.1", "198.51.100.2"},
		Type: typ, Input: []byte(input)}
}

func sendAll(t *testing.T, a alerts.Alert, evs ...alerts.Event) {
	t.Helper()
	for _, ev := range evs {
		if err := a.Send(context.Background(), ev); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
	}
}

func checkOps(t *testing.T, f *ipvs.Fake, want ...string) {
	t.Helper()
	if got := f.Ops(); !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The failing hosts come from the summary; the upalert puts back the
// hosts of the last failure; repeats are harmless.
func TestLVSFailingHostsFromSummary(t *testing.T) {
	l, f := lvsWithFake(t, "-V", "192.0.2.3:80", "-P", "tcp", "-F", "gate", "-W", "2")
	sendAll(t, l,
		lvsEvent(decide.FailureAlert, "198.51.100.2 notamember\nHTTP error on 198.51.100.2\n"),
		lvsEvent(decide.FailureAlert, "198.51.100.2\n"), // already gone: success
		lvsEvent(decide.AckAlert, "198.51.100.1 looked at it"),
		lvsEvent(decide.UpAlert, "198.51.100.2 notamember\nHTTP error\n"),
		lvsEvent(decide.UpAlert, "198.51.100.2\n"), // already back: success
	)
	checkOps(t, f,
		"delete-real tcp 192.0.2.3:80 198.51.100.2:80",
		"add-real tcp 192.0.2.3:80 198.51.100.2:80 dr 2")
}

func TestLVSQuiesceWithReal(t *testing.T) {
	l, f := lvsWithFake(t, "-V", "192.0.2.3:80", "-R", "198.51.100.1:80", "-Q", "-W", "5", "-F", "dr")
	sendAll(t, l, lvsEvent(decide.FailureAlert, "anything\n"), lvsEvent(decide.UpAlert, ""))
	checkOps(t, f,
		"update-real tcp 192.0.2.3:80 198.51.100.1:80 dr 0",
		"update-real tcp 192.0.2.3:80 198.51.100.1:80 dr 5")
}

func TestLVSTrapAndTest(t *testing.T) {
	l, f := lvsWithFake(t, "-V", "192.0.2.3:80", "-R", "198.51.100.2")
	sendAll(t, l, lvsEvent(decide.TrapAlert, "x\n"), lvsEvent(decide.StartupAlert, ""))
	up := "-u"
	ev := lvsEvent(decide.TestAlert, "test\ntest detail\n")
	ev.Flag = &up
	sendAll(t, l, ev)
	checkOps(t, f,
		"delete-real tcp 192.0.2.3:80 198.51.100.2:80",
		"add-real tcp 192.0.2.3:80 198.51.100.2:80 dr 1")
}

func TestLVSNoMember(t *testing.T) {
	l, f := lvsWithFake(t, "-V", "192.0.2.3:80")
	if err := l.Send(context.Background(), lvsEvent(decide.FailureAlert, "timeout\n")); err == nil {
		t.Error("want an error when no member is in the summary")
	}
	checkOps(t, f)
}

func TestLVSDesiredAndReconcile(t *testing.T) {
	l, f := lvsWithFake(t, "-V", "192.0.2.3:80", "-W", "3", "-Q")
	members := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}
	desired, err := l.Desired(context.Background(), members, []string{"198.51.100.2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ipvs.Reconcile(context.Background(), f, map[ipvs.VirtualService][]ipvs.RealServer{l.VS: desired}); err != nil {
		t.Fatal(err)
	}
	checkOps(t, f,
		"update-real tcp 192.0.2.3:80 198.51.100.1:80 dr 3",
		"update-real tcp 192.0.2.3:80 198.51.100.2:80 dr 0",
		"add-real tcp 192.0.2.3:80 198.51.100.3:80 dr 3")
}

func TestLVSConfigErrors(t *testing.T) {
	for _, args := range [][]string{
		{},                  // no -V
		{"-V", "192.0.2.3"}, // no port
		{"-V", "192.0.2.3:80", "-P", "icmp"},
		{"-V", "192.0.2.3:80", "-F", "bridge"},
		{"-V", "192.0.2.3:80", "-W", "-1"},
		{"-V", "192.0.2.3:80", "--backend", "magic"},
		{"-V", "192.0.2.3:80", "extra"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func TestLVSRealAddr(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		host string
		want string
	}{
		{[]string{"-V", "192.0.2.3:80"}, "198.51.100.1", "198.51.100.1:80"},
		{[]string{"-V", "192.0.2.3:80"}, "198.51.100.1:8080", "198.51.100.1:8080"},
		{[]string{"-V", "192.0.2.3:80", "-R", "198.51.100.9:81"}, "198.51.100.1", "198.51.100.9:81"},
	} {
		l, err := Parse(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.RealAddr(ctx, tc.host)
		if err != nil || got.String() != tc.want {
			t.Errorf("%q RealAddr(%s) = %v, %v; want %s", tc.args, tc.host, got, err, tc.want)
		}
	}
	l, _ := Parse([]string{"-V", "192.0.2.3:80", "--backend=ipvsadm", "--ipvsadm", "/x/ipvsadm"})
	if l.Backend != "ipvsadm" || l.Ipvsadm != "/x/ipvsadm" {
		t.Errorf("Backend %q Ipvsadm %q", l.Backend, l.Ipvsadm)
	}
	if _, err := l.RealAddr(ctx, "198.51.100.1:http"); err == nil {
		t.Error("want an error for a bad port")
	}
}

// Linking the package registers the alert under both names, and the
// drop-in lvs.alert runs it.
func TestRegistered(t *testing.T) {
	b := alerts.Builtins()
	if b.Lookup("lvs") == nil || b.Lookup("lvs.alert") != b.Lookup("lvs") {
		t.Fatal("lvs and lvs.alert are not the registered lvs alert")
	}
	var stderr strings.Builder
	if alerts.RunDropIn("lvs.alert", []string{"-s", "s", "-g", "g", "-h", "", "-t", "1"}, strings.NewReader(""), &stderr, &stderr) == 0 {
		t.Error("lvs without -V: want a non-zero status")
	}
	if !strings.Contains(stderr.String(), "-V") {
		t.Errorf("stderr %q does not explain", stderr.String())
	}
}
