package main

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/config"
)

// Documentation addresses only: nothing is sent anywhere.
var (
	lvsVIP = ipvs.VirtualService{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort("192.0.2.10:80")}
	lvsA   = netip.MustParseAddrPort("198.51.100.1:80")
	lvsB   = netip.MustParseAddrPort("198.51.100.2:80")
	lvsC   = netip.MustParseAddrPort("198.51.100.3:80")
)

const hostA, hostB, hostC = "198.51.100.1", "198.51.100.2", "198.51.100.3"

func testLine(t *testing.T, group, service string, args ...string) lvsLine {
	t.Helper()
	l, err := alerts.ParseLVS(append([]string{"-V", lvsVIP.Addr.String()}, args...))
	if err != nil {
		t.Fatal(err)
	}
	return lvsLine{ref: scheduler.ServiceRef{Group: group, Service: service}, lvs: l}
}

func ref(group, service string) scheduler.ServiceRef {
	return scheduler.ServiceRef{Group: group, Service: service}
}

func up(members ...string) lvsHealth { return lvsHealth{known: true, members: members} }

func down(summary string, members ...string) lvsHealth {
	return lvsHealth{known: true, failing: true, exit: 1, summary: summary, members: members}
}

func rs(addr netip.AddrPort, weight int) ipvs.RealServer {
	return ipvs.RealServer{Addr: addr, Weight: weight, Forward: ipvs.DirectRoute}
}

func table(reals ...ipvs.RealServer) []ipvs.Service {
	return []ipvs.Service{{VirtualService: lvsVIP, Scheduler: "wlc", Reals: reals}}
}

func TestLVSDesired(t *testing.T) {
	web := ref("web", "http")
	exitTwo := testLine(t, "web", "http")
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
			lines:   []lvsLine{testLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: {members: []string{hostA, hostB}}},
			current: table(rs(lvsC, 1)),
		},
		{
			name:   "all up: every member with -W, the service created",
			lines:  []lvsLine{testLine(t, "web", "http", "-W", "3")},
			health: map[scheduler.ServiceRef]lvsHealth{web: up(hostA, hostB)},
			want:   []ipvs.RealServer{rs(lvsA, 3), rs(lvsB, 3)},
		},
		{
			name:    "failing member left out, a stranded one put back, a stray one removed",
			lines:   []lvsLine{testLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: down(hostB+" notamember", hostA, hostB)},
			current: table(rs(lvsB, 1), rs(lvsC, 1)),
			want:    []ipvs.RealServer{rs(lvsA, 1)},
		},
		{
			name:   "-Q keeps the failing member at weight 0",
			lines:  []lvsLine{testLine(t, "web", "http", "-Q", "-W", "2")},
			health: map[scheduler.ServiceRef]lvsHealth{web: down(hostB, hostA, hostB)},
			want:   []ipvs.RealServer{rs(lvsA, 2), rs(lvsB, 0)},
		},
		{
			name:    "a failure naming no member gives no verdict",
			lines:   []lvsLine{testLine(t, "web", "http")},
			health:  map[scheduler.ServiceRef]lvsHealth{web: down("connection timed out", hostA, hostB)},
			current: table(rs(lvsA, 1)),
		},
		{
			name:    "a failure outside the line's exit= range gives no verdict",
			lines:   []lvsLine{exitTwo},
			health:  map[scheduler.ServiceRef]lvsHealth{web: down(hostB, hostA, hostB)},
			current: table(rs(lvsA, 1), rs(lvsB, 1)),
		},
		{
			name:  "disabled (unchecked) members keep their kernel entry or absence",
			lines: []lvsLine{testLine(t, "web", "http")},
			health: map[scheduler.ServiceRef]lvsHealth{web: {known: true, members: []string{hostA},
				unchecked: []string{hostB, hostC}}},
			current: table(rs(lvsB, 7)),
			want:    []ipvs.RealServer{rs(lvsA, 1), rs(lvsB, 7)},
		},
		{
			name:  "failing in one service wins over up in another",
			lines: []lvsLine{testLine(t, "web", "http"), testLine(t, "web", "ping")},
			health: map[scheduler.ServiceRef]lvsHealth{
				web: up(hostA, hostB), ref("web", "ping"): down(hostA, hostA, hostB)},
			want: []ipvs.RealServer{rs(lvsB, 1)},
		},
		{
			name:  "a service without a result keeps the kernel entries it covers",
			lines: []lvsLine{testLine(t, "web", "http"), testLine(t, "web2", "ping")},
			health: map[scheduler.ServiceRef]lvsHealth{
				web: up(hostA, hostB, hostC), ref("web2", "ping"): {members: []string{hostA, hostB}}},
			current: table(rs(lvsA, 1)),
			want:    []ipvs.RealServer{rs(lvsA, 1), rs(lvsC, 1)},
		},
		{
			name: "-R: one watch per real server",
			lines: []lvsLine{
				testLine(t, "a", "http", "-R", lvsA.String()),
				testLine(t, "b", "http", "-R", lvsB.String()),
				testLine(t, "c", "http", "-R", lvsC.String())},
			health: map[scheduler.ServiceRef]lvsHealth{
				ref("a", "http"): up("a"), ref("b", "http"): down("timeout", "b"),
				ref("c", "http"): {members: []string{"c"}}},
			current: table(rs(lvsB, 1), rs(lvsC, 4)),
			want:    []ipvs.RealServer{rs(lvsA, 1), rs(lvsC, 4)},
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
	lines := []lvsLine{testLine(t, "web", "http")}
	health := map[scheduler.ServiceRef]lvsHealth{ref("web", "http"): up(hostA, hostB+":http")}
	got, err := lvsDesired(context.Background(), lines, health, table(rs(lvsC, 1)))
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
	cfg, err := config.Load(path, config.LoadOptions{})
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
