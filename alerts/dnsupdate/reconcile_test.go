package dnsupdate

import (
	"context"
	"log/slog"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts/reconcile"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler/decide"
)

var (
	upState       = decide.State{OpStatus: decide.OK}
	untestedState = decide.State{OpStatus: decide.Untested}
)

// downState is a failure (exit 1) whose down alert was sent in period 0.
func downState(summary string) decide.State {
	return decide.State{OpStatus: decide.Fail, ExitVal: 1, LastSummary: summary,
		Periods: []decide.PeriodState{{AlertSent: 1}}}
}

// svc is GROUP/http over members with one period holding `alert
// dnsupdate.alert -Z example.test -N www ARGS`.
func svc(group string, st decide.State, members []string, args ...string) reconcile.Service {
	al := config.AlertLine{Name: "dnsupdate.alert", Args: append([]string{"-Z", "example.test", "-N", "www"}, args...)}
	if len(st.Periods) == 0 {
		st.Periods = make([]decide.PeriodState, 1)
	}
	return reconcile.Service{Group: group, Name: "http", State: st, Members: members,
		Config: &config.Service{Name: "http", ServiceSpec: &config.ServiceSpec{Periods: []*config.Period{{Key: "wd {Sun-Sat}", Alerts: []config.AlertLine{al}}}}}}
}

func TestDesired(t *testing.T) {
	both := []string{"127.0.0.2", "127.0.0.3"}
	for _, tc := range []struct {
		name     string
		services []reconcile.Service
		del, add []netip.Addr
	}{
		{name: "untested: no verdict", services: []reconcile.Service{svc("web", untestedState, both)}},
		{name: "all up", services: []reconcile.Service{svc("web", upState, both)}, add: []netip.Addr{addr2, addr3}},
		{name: "a failing member goes, the other stays",
			services: []reconcile.Service{svc("web", downState("127.0.0.3"), both)},
			del:      []netip.Addr{addr3}, add: []netip.Addr{addr2}},
		{name: "a failure naming no member: no verdict",
			services: []reconcile.Service{svc("web", downState("timeout"), both)}},
		{name: "one service per server with -A: down, up, untested",
			services: []reconcile.Service{
				svc("web2", downState("timeout"), []string{"127.0.0.2"}, "-A", "127.0.0.2"),
				svc("web3", upState, []string{"127.0.0.3"}, "-A", "127.0.0.3"),
				svc("web4", untestedState, []string{"127.0.0.4"}, "-A", "127.0.0.4")},
			del: []netip.Addr{addr2}, add: []netip.Addr{addr3}},
		{name: "failing in one line wins over up in another",
			services: []reconcile.Service{
				svc("web", upState, both),
				svc("web2", downState("x"), []string{"127.0.0.2"}, "-A", "127.0.0.2")},
			del: []netip.Addr{addr2}, add: []netip.Addr{addr3}},
		{name: "an unchecked host is left alone",
			services: func() []reconcile.Service {
				s := svc("web", upState, []string{"127.0.0.2"})
				s.Unchecked = []string{"127.0.0.3"}
				return []reconcile.Service{s}
			}(),
			add: []netip.Addr{addr2}},
		{name: "AAAA", services: []reconcile.Service{svc("web", downState("2001:db8::b"), []string{"2001:db8::a", "2001:db8::b"})},
			del: []netip.Addr{v6b}, add: []netip.Addr{v6a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, errs := reconcile.Lines(tc.services, kind, Parse)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			del, add, err := desired(context.Background(), lines)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(del, tc.del) || !reflect.DeepEqual(add, tc.add) {
				t.Errorf("del %v add %v, want del %v add %v", del, add, tc.del, tc.add)
			}
		})
	}
}

// Lines for other names, zones or servers are other groups.
func TestByName(t *testing.T) {
	lines, _ := reconcile.Lines([]reconcile.Service{
		svc("a", upState, nil, "-S", "192.0.2.1"),
		svc("b", upState, nil, "-S", "192.0.2.1"),
		svc("c", upState, nil, "-S", "192.0.2.2"),
		svc("d", upState, nil, "-S", "192.0.2.1", "-N", "mail")}, kind, Parse)
	var sizes []int
	for _, g := range byName(lines) {
		sizes = append(sizes, len(g))
	}
	if !reflect.DeepEqual(sizes, []int{2, 1, 1}) {
		t.Errorf("groups of %v, want [2 1 1]", sizes)
	}
}

// Converging a name on a real server: a failing server's record goes, a
// recovered one's comes back, and a name whose services have no result
// yet is not touched. The last address stays without -L.
func TestConvergeZone(t *testing.T) {
	srv := startZone(t)
	args := []string{"-S", srv.Addr, "-K", srv.KeyFile}
	pass := func(services ...reconcile.Service) string {
		t.Helper()
		var log strings.Builder
		lines, errs := reconcile.Lines(services, kind, Parse)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for _, g := range byName(lines) {
			if err := converge(context.Background(), slog.New(slog.NewTextHandler(&log, nil)), g); err != nil {
				t.Fatal(err)
			}
		}
		return log.String()
	}
	web := func(n string, st decide.State) reconcile.Service {
		return svc("web"+n, st, []string{"127.0.0." + n}, append([]string{"-A", "127.0.0." + n}, args...)...)
	}
	pass(web("2", untestedState), web("3", untestedState))
	checkAddrs(t, srv, "www", addr2, addr3)
	pass(web("2", downState("x")), web("3", untestedState))
	checkAddrs(t, srv, "www", addr3)
	pass(web("2", upState), web("3", downState("x")))
	checkAddrs(t, srv, "www", addr2)
	log := pass(web("2", downState("x")), web("3", downState("x")))
	checkAddrs(t, srv, "www", addr2)
	if !strings.Contains(log, "keeping the last address") {
		t.Errorf("no warning:\n%s", log)
	}
	pass(web("2", downState("x")), web("3", upState))
	checkAddrs(t, srv, "www", addr3)
}
