package ipvs

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var (
	web = VirtualService{TCP, netip.MustParseAddrPort("192.0.2.3:80")}
	dns = VirtualService{UDP, netip.MustParseAddrPort("192.0.2.3:53")}
	own = VirtualService{TCP, netip.MustParseAddrPort("192.0.2.9:25")} // not managed
	r1  = netip.MustParseAddrPort("198.51.100.1:80")
	r2  = netip.MustParseAddrPort("198.51.100.2:80")
	r3  = netip.MustParseAddrPort("198.51.100.3:80")
)

func TestReconcile(t *testing.T) {
	ctx := context.Background()
	f := NewFake(
		Service{VirtualService: web, Scheduler: "wlc", Reals: []RealServer{
			{r1, 1, DirectRoute}, {r2, 5, DirectRoute}, {r3, 1, DirectRoute}}},
		Service{VirtualService: own, Scheduler: "rr", Reals: []RealServer{{r1, 1, Masquerade}}},
	)
	desired := map[VirtualService][]RealServer{
		web: {{r1, 1, DirectRoute}, {r2, 1, DirectRoute}},
		dns: {{netip.MustParseAddrPort("198.51.100.1:53"), 2, Tunnel}},
	}
	if err := Reconcile(ctx, f, desired); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"update-real tcp 192.0.2.3:80 198.51.100.2:80 dr 1",
		"delete-real tcp 192.0.2.3:80 198.51.100.3:80",
		"add-service udp 192.0.2.3:53 wlc",
		"add-real udp 192.0.2.3:53 198.51.100.1:53 tun 2",
	}
	if got := f.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	list, _ := f.Services(ctx)
	for _, s := range list {
		if s.VirtualService == own && len(s.Reals) != 1 {
			t.Errorf("unmanaged service touched: %+v", s)
		}
		if w, ok := desired[s.VirtualService]; ok && !reflect.DeepEqual(s.Reals, w) {
			t.Errorf("%s: reals %v, want %v", s.VirtualService, s.Reals, w)
		}
	}
	// Converged: a second run changes nothing.
	if err := Reconcile(ctx, f, desired); err != nil || len(f.Ops()) != len(want) {
		t.Errorf("second reconcile: %v, ops %v", err, f.Ops()[len(want):])
	}
	// An empty desired list empties a managed service.
	if err := Reconcile(ctx, f, map[VirtualService][]RealServer{dns: nil}); err != nil {
		t.Fatal(err)
	}
	if ops := f.Ops(); ops[len(ops)-1] != "delete-real udp 192.0.2.3:53 198.51.100.1:53" {
		t.Errorf("last op %q", ops[len(ops)-1])
	}
}

func TestSetRemoveIdempotent(t *testing.T) {
	ctx := context.Background()
	f := NewFake(Service{VirtualService: web, Scheduler: "wlc", Reals: []RealServer{{r1, 1, DirectRoute}}})
	steps := []func() error{
		func() error { return SetReal(ctx, f, web, RealServer{r1, 1, DirectRoute}) }, // present: no-op
		func() error { return RemoveReal(ctx, f, web, r2) },                          // absent: no-op
		func() error { return RemoveReal(ctx, f, dns, r2) },                          // no service: no-op
		func() error { return SetReal(ctx, f, web, RealServer{r1, 0, DirectRoute}) }, // quiesce
		func() error { return RemoveReal(ctx, f, web, r1) },
		func() error { return RemoveReal(ctx, f, web, r1) },
		func() error { return SetReal(ctx, f, dns, RealServer{r2, 1, Masquerade}) }, // creates the service
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := []string{
		"update-real tcp 192.0.2.3:80 198.51.100.1:80 dr 0",
		"delete-real tcp 192.0.2.3:80 198.51.100.1:80",
		"add-service udp 192.0.2.3:53 wlc",
		"add-real udp 192.0.2.3:53 198.51.100.2:80 nat 1",
	}
	if got := f.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The fake itself is strict, like the kernel.
	if err := f.AddReal(ctx, dns, RealServer{r2, 1, Masquerade}); !errors.Is(err, ErrExists) {
		t.Errorf("double add: %v", err)
	}
	if err := f.DeleteReal(ctx, web, r3); !errors.Is(err, ErrNoReal) {
		t.Errorf("delete absent: %v", err)
	}
}

func TestParseForwardProtocol(t *testing.T) {
	for in, want := range map[string]Forward{"dr": DirectRoute, "gate": DirectRoute, "NAT": Masquerade,
		"masq": Masquerade, "tun": Tunnel, "ipip": Tunnel} {
		if got, err := ParseForward(in); got != want || err != nil {
			t.Errorf("ParseForward(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseForward("bridge"); err == nil {
		t.Error("want an error for an unknown method")
	}
	if _, err := ParseProtocol("sctp"); err == nil {
		t.Error("want an error for sctp")
	}
}

func wantListing() []Service {
	return []Service{
		{VirtualService: web, Scheduler: "wlc", Reals: []RealServer{
			{r1, 1, DirectRoute}, {netip.MustParseAddrPort("198.51.100.2:8080"), 3, Masquerade}}},
		{VirtualService: VirtualService{TCP, netip.MustParseAddrPort("192.0.2.3:443")}, Scheduler: "rr",
			Reals: []RealServer{{netip.MustParseAddrPort("198.51.100.1:443"), 0, Tunnel}}},
		{VirtualService: VirtualService{UDP, netip.MustParseAddrPort("[2001:db8::53]:53")}, Scheduler: "wrr",
			Reals: []RealServer{{netip.MustParseAddrPort("[2001:db8::1]:53"), 2, DirectRoute},
				{netip.MustParseAddrPort("127.0.0.1:53"), 1, Local}}},
	}
}

func TestParseList(t *testing.T) {
	out, err := os.ReadFile("testdata/ipvsadm-Ln.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseList(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantListing(); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"TCP  nonsense wlc\n", "TCP  192.0.2.3:80 wlc\n  -> 198.51.100.1:80 Bridge 1 0 0\n"} {
		if _, err := ParseList([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

// The ipvsadm backend runs the right command lines (a stand-in script
// records them) and reports failures with ipvsadm's message.
func TestIpvsadmCommands(t *testing.T) {
	ctx := context.Background()
	log := filepath.Join(t.TempDir(), "log")
	t.Setenv("IPVSADM_LOG", log)
	path, _ := filepath.Abs("testdata/fake-ipvsadm.sh")
	a := &Ipvsadm{Path: path}

	list, err := a.Services(ctx)
	if err != nil || !reflect.DeepEqual(list, wantListing()) {
		t.Fatalf("Services = %+v, %v", list, err)
	}
	v6 := VirtualService{UDP, netip.MustParseAddrPort("[2001:db8::53]:53")}
	for _, err := range []error{
		a.AddService(ctx, web, "wlc"),
		a.AddReal(ctx, web, RealServer{r1, 1, DirectRoute}),
		a.UpdateReal(ctx, v6, RealServer{netip.MustParseAddrPort("[2001:db8::1]:53"), 0, Tunnel}),
		a.AddReal(ctx, dns, RealServer{r2, 4, Masquerade}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	err = a.DeleteReal(ctx, web, r1)
	if err == nil || !strings.Contains(err.Error(), "Memory allocation problem") {
		t.Errorf("DeleteReal error = %v", err)
	}
	b, _ := os.ReadFile(log)
	want := "-Ln\n" +
		"-A -t 192.0.2.3:80 -s wlc\n" +
		"-a -t 192.0.2.3:80 -r 198.51.100.1:80 -g -w 1\n" +
		"-e -u [2001:db8::53]:53 -r [2001:db8::1]:53 -i -w 0\n" +
		"-a -u 192.0.2.3:53 -r 198.51.100.2:80 -m -w 4\n" +
		"-d -t 192.0.2.3:80 -r 198.51.100.1:80\n"
	if string(b) != want {
		t.Errorf("commands:\n%s\nwant:\n%s", b, want)
	}
}

// The real ipvsadm, where the kernel has IPVS (read-only).
func TestIpvsadmReal(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Skip("no IPVS in this kernel (/proc/net/ip_vs missing): real ipvsadm not exercised")
	}
	a := &Ipvsadm{}
	if _, err := a.Services(context.Background()); err != nil {
		if strings.Contains(err.Error(), "executable file not found") {
			t.Skip("ipvsadm not installed (apt-get install ipvsadm)")
		}
		t.Fatal(err)
	}
}

func FuzzParseList(f *testing.F) {
	if b, err := os.ReadFile("testdata/ipvsadm-Ln.txt"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("TCP\n  -> x\nUDP [::1]:1 rr\n  -> [::1]:2 Route x 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseList(b) // must not panic
	})
}

// racer is a Director whose table is changed by "another writer" right
// after its first listing, as when an alert and the reconciler act on the
// same failure at once.
type racer struct {
	*Fake
	listed bool
	other  func(*Fake)
}

func (r *racer) Services(ctx context.Context) ([]Service, error) {
	list, err := r.Fake.Services(ctx)
	if !r.listed {
		r.listed = true
		r.other(r.Fake)
	}
	return list, err
}

// A change another writer already made is success, not an error.
func TestConcurrentWriter(t *testing.T) {
	ctx := context.Background()
	table := func() *Fake {
		return NewFake(Service{VirtualService: web, Scheduler: "wlc", Reals: []RealServer{{r1, 1, DirectRoute}, {r2, 1, DirectRoute}}})
	}
	removeR2 := func(f *Fake) { f.DeleteReal(ctx, web, r2) }
	addR3 := func(f *Fake) { f.AddReal(ctx, web, RealServer{r3, 1, DirectRoute}) }
	for name, tc := range map[string]struct {
		other func(*Fake)
		op    func(Director) error
	}{
		"remove": {removeR2, func(d Director) error { return RemoveReal(ctx, d, web, r2) }},
		"set":    {addR3, func(d Director) error { return SetReal(ctx, d, web, RealServer{r3, 1, DirectRoute}) }},
		"reconcile": {removeR2, func(d Director) error {
			return Reconcile(ctx, d, map[VirtualService][]RealServer{web: {{r1, 1, DirectRoute}}})
		}},
	} {
		f := table()
		if err := tc.op(&racer{Fake: f, other: tc.other}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
