package lvs

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/alerts/reconcile"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/shellwords"
	"github.com/gomon/gomon/scheduler/decide"
)

// Documentation addresses only: nothing is sent anywhere.
var (
	vip   = ipvs.VirtualService{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort("192.0.2.10:80")}
	realA = netip.MustParseAddrPort("198.51.100.1:80")
	realB = netip.MustParseAddrPort("198.51.100.2:80")
	realC = netip.MustParseAddrPort("198.51.100.3:80")
)

const hostA, hostB, hostC = "198.51.100.1", "198.51.100.2", "198.51.100.3"

// health is a service's state and hosts in a test.
type health struct {
	st                 decide.State
	members, unchecked []string
	disabled           bool
}

func up(members ...string) health {
	return health{st: decide.State{OpStatus: decide.OK}, members: members}
}

// untested has no result since start or reset.
func untested(members ...string) health {
	return health{st: decide.State{OpStatus: decide.Untested}, members: members}
}

// down is a failure (exit 1) whose down alert was sent in period 0.
func down(summary string, members ...string) health {
	st := decide.State{OpStatus: decide.Fail, ExitVal: 1, LastSummary: summary, Periods: []decide.PeriodState{{AlertSent: 1}}}
	return health{st: st, members: members}
}

// service is group/name with one period holding `alert TEXT -V VIP ARGS`
// (TEXT "lvs", or "exit=R lvs"…).
func service(t *testing.T, group, name string, h health, text string, args ...string) reconcile.Service {
	t.Helper()
	words, err := shellwords.Split(text)
	if err != nil {
		t.Fatal(err)
	}
	al := config.AlertLine{Name: words[len(words)-1], Args: append([]string{"-V", vip.Addr.String()}, args...)}
	if r, ok := strings.CutPrefix(words[0], "exit="); ok && len(words) == 2 {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isRange {
			hi = lo
		}
		al.Exit = &config.ExitRange{Lo: atoi(t, lo), Hi: atoi(t, hi)}
	}
	cfg := &config.Service{Name: name, ServiceSpec: &config.ServiceSpec{Periods: []*config.Period{{Key: "wd {Sun-Sat}", Alerts: []config.AlertLine{al}}}}}
	if len(h.st.Periods) == 0 {
		h.st.Periods = make([]decide.PeriodState, 1)
	}
	return reconcile.Service{Group: group, Name: name, Config: cfg, State: h.st,
		Disabled: h.disabled, Members: h.members, Unchecked: h.unchecked}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func rs(addr netip.AddrPort, weight int) ipvs.RealServer {
	return ipvs.RealServer{Addr: addr, Weight: weight, Forward: ipvs.DirectRoute}
}

func table(reals ...ipvs.RealServer) []ipvs.Service {
	return []ipvs.Service{{VirtualService: vip, Scheduler: "wlc", Reals: reals}}
}

func TestDesired(t *testing.T) {
	for _, tc := range []struct {
		name     string
		services func(t *testing.T) []reconcile.Service
		current  []ipvs.Service
		want     []ipvs.RealServer // nil: the virtual service is left alone
	}{
		{
			name: "untested since start: left alone, even when the table is wrong",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", untested(hostA, hostB), "lvs")}
			},
			current: table(rs(realC, 1)),
		},
		{
			name: "all up: every member with -W, the service created",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", up(hostA, hostB), "lvs", "-W", "3")}
			},
			want: []ipvs.RealServer{rs(realA, 3), rs(realB, 3)},
		},
		{
			name: "failing member left out, a stranded one put back, a stray one removed",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", down(hostB+" notamember", hostA, hostB), "lvs.alert")}
			},
			current: table(rs(realB, 1), rs(realC, 1)),
			want:    []ipvs.RealServer{rs(realA, 1)},
		},
		{
			name: "-Q keeps the failing member at weight 0",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", down(hostB, hostA, hostB), "lvs", "-Q", "-W", "2")}
			},
			want: []ipvs.RealServer{rs(realA, 2), rs(realB, 0)},
		},
		{
			name: "a failure naming no member gives no verdict",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", down("connection timed out", hostA, hostB), "lvs")}
			},
			current: table(rs(realA, 1)),
		},
		{
			name: "a failure not alerted yet (alertafter) gives no verdict",
			services: func(t *testing.T) []reconcile.Service {
				h := down(hostB, hostA, hostB)
				h.st.Periods[0].AlertSent = 0
				return []reconcile.Service{service(t, "web", "http", h, "lvs")}
			},
			current: table(rs(realA, 1), rs(realB, 1)),
		},
		{
			name: "a failure outside the line's exit= range gives no verdict",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", down(hostB, hostA, hostB), "exit=2 lvs")}
			},
			current: table(rs(realA, 1), rs(realB, 1)),
		},
		{
			name: "a failure inside the line's exit= range is a verdict",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", down(hostB, hostA, hostB), "exit=1-3 lvs")}
			},
			current: table(rs(realA, 1), rs(realB, 1)),
			want:    []ipvs.RealServer{rs(realA, 1)},
		},
		{
			name: "a disabled service (or watch) gives no verdict",
			services: func(t *testing.T) []reconcile.Service {
				h := down(hostB, hostA, hostB)
				h.disabled = true
				return []reconcile.Service{service(t, "web", "http", h, "lvs")}
			},
			current: table(rs(realB, 1)),
		},
		{
			name: "disabled (unchecked) members keep their kernel entry or absence",
			services: func(t *testing.T) []reconcile.Service {
				h := up(hostA)
				h.unchecked = []string{hostB, hostC}
				return []reconcile.Service{service(t, "web", "http", h, "lvs")}
			},
			current: table(rs(realB, 7)),
			want:    []ipvs.RealServer{rs(realA, 1), rs(realB, 7)},
		},
		{
			name: "failing in one service wins over up in another",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", up(hostA, hostB), "lvs"),
					service(t, "web", "ping", down(hostA, hostA, hostB), "lvs")}
			},
			want: []ipvs.RealServer{rs(realB, 1)},
		},
		{
			name: "a service without a result keeps the kernel entries it covers",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{service(t, "web", "http", up(hostA, hostB, hostC), "lvs"),
					service(t, "web2", "ping", untested(hostA, hostB), "lvs")}
			},
			current: table(rs(realA, 1)),
			want:    []ipvs.RealServer{rs(realA, 1), rs(realC, 1)},
		},
		{
			name: "-R: one watch per real server",
			services: func(t *testing.T) []reconcile.Service {
				return []reconcile.Service{
					service(t, "a", "http", up("a"), "lvs", "-R", realA.String()),
					service(t, "b", "http", down("timeout", "b"), "lvs", "-R", realB.String()),
					service(t, "c", "http", untested("c"), "lvs", "-R", realC.String())}
			},
			current: table(rs(realB, 1), rs(realC, 4)),
			want:    []ipvs.RealServer{rs(realA, 1), rs(realC, 4)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines, errs := linesOf(tc.services(t))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got, err := desired(context.Background(), lines, tc.current)
			if err != nil {
				t.Fatal(err)
			}
			want := map[ipvs.VirtualService][]ipvs.RealServer{}
			if tc.want != nil {
				want[vip] = tc.want
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("desired %v, want %v", got, want)
			}
		})
	}
}

// A host that gives no address (here a bad port: tests look up no names)
// skips its virtual service, whose kernel entry for it is unknown.
func TestDesiredUnresolvable(t *testing.T) {
	lines, _ := linesOf([]reconcile.Service{service(t, "web", "http", up(hostA, hostB+":http"), "lvs")})
	got, err := desired(context.Background(), lines, table(rs(realC, 1)))
	if err == nil || len(got) != 0 {
		t.Errorf("desired %v, err %v; want nothing and an error", got, err)
	}
}

func TestLines(t *testing.T) {
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
	cfg, err := configfile.Parse("mon.cf", []byte(cf), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var services []reconcile.Service
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			services = append(services, reconcile.Service{Group: w.Name, Name: s.Name, Config: s})
		}
	}
	lines, errs := linesOf(services)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, l := range lines {
		got = append(got, l.Group+"/"+l.Service+" "+l.Alert.VS.String()+" "+l.Alert.Backend)
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
	if lines[2].Config.Exit == nil || lines[2].Config.Exit.Lo != 2 {
		t.Errorf("exit range of %v not kept", lines[2].Alert.VS)
	}
	groups := byBackend(lines)
	if len(groups) != 2 || len(groups[0]) != 2 || len(groups[1]) != 2 {
		t.Errorf("byBackend: %d groups", len(groups))
	}
}

// converge drives the table through the lines' backend: only the
// differences are applied.
func TestConverge(t *testing.T) {
	fake := ipvs.NewFake(table(rs(realA, 2), rs(realB, 1), rs(realC, 1))...)
	lines, _ := linesOf([]reconcile.Service{service(t, "web", "http", down(hostB, hostA, hostB), "lvs", "-W", "2")})
	for i := range lines {
		lines[i].Alert.Open = func() (ipvs.Director, func(), error) { return fake, func() {}, nil }
	}
	if err := converge(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)), lines); err != nil {
		t.Fatal(err)
	}
	want := []string{"delete-real tcp 192.0.2.10:80 198.51.100.2:80", "delete-real tcp 192.0.2.10:80 198.51.100.3:80"}
	if got := fake.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops %q, want %q", got, want)
	}
}
