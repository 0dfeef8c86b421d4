package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/scheduler"
)

// Documentation addresses only: nothing is sent anywhere.
var (
	lvsVIP = ipvs.VirtualService{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort("192.0.2.10:80")}
	lvsA   = netip.MustParseAddrPort("198.51.100.1:80")
	lvsB   = netip.MustParseAddrPort("198.51.100.2:80")
	lvsC   = netip.MustParseAddrPort("198.51.100.3:80")
)

const lvsHostA, lvsHostB, lvsHostC = "198.51.100.1", "198.51.100.2", "198.51.100.3"

func lvsTestLine(t *testing.T, group, service string, args ...string) lvsLine {
	t.Helper()
	l, err := lvs.Parse(append([]string{"-V", lvsVIP.Addr.String()}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return lvsLine{ref: scheduler.ServiceRef{Group: group, Service: service}, lvs: l}
}

func lvsRef(group, service string) scheduler.ServiceRef {
	return scheduler.ServiceRef{Group: group, Service: service}
}

func lvsUp(members ...string) lvsHealth { return lvsHealth{known: true, members: members} }

// lvsDown is a failure whose down alert was sent (in period 0).
func lvsDown(summary string, members ...string) lvsHealth {
	return lvsHealth{known: true, failing: true, alerted: []bool{true}, exit: 1, summary: summary, members: members}
}

func lvsRS(addr netip.AddrPort, weight int) ipvs.RealServer {
	return ipvs.RealServer{Addr: addr, Weight: weight, Forward: ipvs.DirectRoute}
}

func lvsTable(reals ...ipvs.RealServer) []ipvs.Service {
	return []ipvs.Service{{VirtualService: lvsVIP, Scheduler: "wlc", Reals: reals}}
}

func TestLVSDesired(t *testing.T) {
	web := lvsRef("web", "http")
	exitTwo := lvsTestLine(t, "web", "http")
	exitTwo.exit = &config.ExitRange{Lo: 2, Hi: 2}
	for _, tc := range []struct {
		name    string
		lines   []lvsLine
		health  map[scheduler.ServiceRef]lvsHealth
		current []ipvs.Service
		want    []ipvs.RealServer // nil: the virtual service is left alone
	}{
		{
			name:    "untested since start: left alone, even when the table is wrong",
			lines:   []lvsLine{lvsTestLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: {members: []string{lvsHostA, lvsHostB}}},
			current: lvsTable(lvsRS(lvsC, 1)),
		},
		{
			name:   "all up: every member with -W, the service created",
			lines:  []lvsLine{lvsTestLine(t, "web", "http", "-W", "3")},
			health: map[scheduler.ServiceRef]lvsHealth{web: lvsUp(lvsHostA, lvsHostB)},
			want:   []ipvs.RealServer{lvsRS(lvsA, 3), lvsRS(lvsB, 3)},
		},
		{
			name:    "failing member left out, a stranded one put back, a stray one removed",
			lines:   []lvsLine{lvsTestLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: lvsDown(lvsHostB+" notamember", lvsHostA, lvsHostB)},
			current: lvsTable(lvsRS(lvsB, 1), lvsRS(lvsC, 1)),
			want:    []ipvs.RealServer{lvsRS(lvsA, 1)},
		},
		{
			name:   "-Q keeps the failing member at weight 0",
			lines:  []lvsLine{lvsTestLine(t, "web", "http", "-Q", "-W", "2")},
			health: map[scheduler.ServiceRef]lvsHealth{web: lvsDown(lvsHostB, lvsHostA, lvsHostB)},
			want:   []ipvs.RealServer{lvsRS(lvsA, 2), lvsRS(lvsB, 0)},
		},
		{
			name:    "a failure naming no member gives no verdict",
			lines:   []lvsLine{lvsTestLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: lvsDown("connection timed out", lvsHostA, lvsHostB)},
			current: lvsTable(lvsRS(lvsA, 1)),
		},
		{
			name:  "a failure not alerted yet (alertafter) gives no verdict",
			lines: []lvsLine{lvsTestLine(t, "web", "http")},
			health: map[scheduler.ServiceRef]lvsHealth{web: {known: true, failing: true, alerted: []bool{false},
				exit: 1, summary: lvsHostB, members: []string{lvsHostA, lvsHostB}}},
			current: lvsTable(lvsRS(lvsA, 1), lvsRS(lvsB, 1)),
		},
		{
			name:    "a failure outside the line's exit= range gives no verdict",
			lines:   []lvsLine{exitTwo},
			health:  map[scheduler.ServiceRef]lvsHealth{web: lvsDown(lvsHostB, lvsHostA, lvsHostB)},
			current: lvsTable(lvsRS(lvsA, 1), lvsRS(lvsB, 1)),
		},
		{
			name:  "disabled (unchecked) members keep their kernel entry or absence",
			lines: []lvsLine{lvsTestLine(t, "web", "http")},
			health: map[scheduler.ServiceRef]lvsHealth{web: {known: true, members: []string{lvsHostA},
				unchecked: []string{lvsHostB, lvsHostC}}},
			current: lvsTable(lvsRS(lvsB, 7)),
			want:    []ipvs.RealServer{lvsRS(lvsA, 1), lvsRS(lvsB, 7)},
		},
		{
			name:  "failing in one service wins over up in another",
			lines: []lvsLine{lvsTestLine(t, "web", "http"), lvsTestLine(t, "web", "ping")},
			health: map[scheduler.ServiceRef]lvsHealth{
				web: lvsUp(lvsHostA, lvsHostB), lvsRef("web", "ping"): lvsDown(lvsHostA, lvsHostA, lvsHostB)},
			want: []ipvs.RealServer{lvsRS(lvsB, 1)},
		},
		{
			name:  "a service without a result keeps the kernel entries it covers",
			lines: []lvsLine{lvsTestLine(t, "web", "http"), lvsTestLine(t, "web2", "ping")},
			health: map[scheduler.ServiceRef]lvsHealth{
				web: lvsUp(lvsHostA, lvsHostB, lvsHostC), lvsRef("web2", "ping"): {members: []string{lvsHostA, lvsHostB}}},
			current: lvsTable(lvsRS(lvsA, 1)),
			want:    []ipvs.RealServer{lvsRS(lvsA, 1), lvsRS(lvsC, 1)},
		},
		{
			name: "-R: one watch per real server",
			lines: []lvsLine{
				lvsTestLine(t, "a", "http", "-R", lvsA.String()),
				lvsTestLine(t, "b", "http", "-R", lvsB.String()),
				lvsTestLine(t, "c", "http", "-R", lvsC.String())},
			health: map[scheduler.ServiceRef]lvsHealth{
				lvsRef("a", "http"): lvsUp("a"), lvsRef("b", "http"): lvsDown("timeout", "b"),
				lvsRef("c", "http"): {members: []string{"c"}}},
			current: lvsTable(lvsRS(lvsB, 1), lvsRS(lvsC, 4)),
			want:    []ipvs.RealServer{lvsRS(lvsA, 1), lvsRS(lvsC, 4)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lvsDesired(context.Background(), tc.lines, tc.health, tc.current)
			if err != nil {
				t.Fatal(err)
			}
			want := map[ipvs.VirtualService][]ipvs.RealServer{}
			if tc.want != nil {
				want[lvsVIP] = tc.want
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("desired %v, want %v", got, want)
			}
		})
	}
}

// A host that gives no address (here a bad port: tests look up no names)
// skips its virtual service, whose kernel entry for it is unknown.
func TestLVSDesiredUnresolvable(t *testing.T) {
	lines := []lvsLine{lvsTestLine(t, "web", "http")}
	health := map[scheduler.ServiceRef]lvsHealth{lvsRef("web", "http"): lvsUp(lvsHostA, lvsHostB+":http")}
	got, err := lvsDesired(context.Background(), lines, health, lvsTable(lvsRS(lvsC, 1)))
	if err == nil || len(got) != 0 {
		t.Errorf("desired %v, err %v; want nothing and an error", got, err)
	}
}

func TestLVSLines(t *testing.T) {
	cf := `hostgroup web 198.51.100.1 198.51.100.2

watch web
    service http
        interval 1m
        monitor http.monitor
        period wd {Sun-Sat}
            alert mail.alert root@localhost
            alert lvs.alert -V 192.0.2.10:80 --backend ipvsadm --ipvsadm /x/ipvsadm
            upalert lvs.alert -V 192.0.2.10:80 --backend ipvsadm --ipvsadm /x/ipvsadm
            alert builtin:lvs -V 192.0.2.11:80
            alert exit=2 lvs -V 192.0.2.12:80 -P udp
            alert script:lvs.alert -V 192.0.2.13:80
`
	path := filepath.Join(t.TempDir(), "mon.cf")
	if err := os.WriteFile(path, []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := configfile.Load(path, configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines, errs := lvsLines(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.ref.Group+"/"+l.ref.Service+" "+l.lvs.VS.String()+" "+l.lvs.Backend)
	}
	want := []string{
		"web/http tcp 192.0.2.10:80 ipvsadm",
		"web/http tcp 192.0.2.11:80 ",
		"web/http udp 192.0.2.12:80 ",
		"web/http tcp 192.0.2.10:80 ipvsadm",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if lines[2].exit == nil || lines[2].exit.Lo != 2 {
		t.Errorf("exit range of %v not kept", lines[2].lvs.VS)
	}
	groups := byBackend(lines)
	if len(groups) != 2 || len(groups[0]) != 2 || len(groups[1]) != 2 {
		t.Errorf("byBackend: %d groups", len(groups))
	}
}

// observe only signals (it runs with the scheduler locked): once for a
// load or a result of a service with lvs lines, never blocking.
func TestLVSObserve(t *testing.T) {
	r := newLVSReconciler(nil)
	r.watched = map[scheduler.ServiceRef]bool{lvsRef("web", "http"): true}
	pending := func() bool {
		select {
		case <-r.wake:
			return true
		default:
			return false
		}
	}
	for _, tc := range []struct {
		ev   scheduler.Event
		want bool
	}{
		{scheduler.Event{Kind: "load"}, true},
		{scheduler.Event{Kind: "monitor-done", Group: "web", Service: "http"}, true},
		{scheduler.Event{Kind: "trap", Group: "web", Service: "http"}, true},
		{scheduler.Event{Kind: "monitor-done", Group: "web", Service: "ping"}, false},
		{scheduler.Event{Kind: "monitor-start", Group: "web", Service: "http"}, false},
		{scheduler.Event{Kind: "alert", Group: "web", Service: "http"}, false},
	} {
		r.observe(tc.ev)
		r.observe(tc.ev) // a second signal while one is pending must not block
		if got := pending(); got != tc.want {
			t.Errorf("%+v: signalled %v, want %v", tc.ev, got, tc.want)
		}
		if pending() {
			t.Errorf("%+v: more than one pass pending", tc.ev)
		}
	}
}
