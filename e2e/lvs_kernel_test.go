//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/await"
)

// The LVS director against the real kernel: gomon with the netlink
// backend runs inside a network namespace the test creates, so the host's
// IPVS table is never touched. Health comes from a script monitor that
// fails the hosts the test marks down (no traffic leaves the namespace).
// Skipped, saying so, where the kernel has no IPVS (the build machines):
// TestLVSEndToEnd covers the same steps with a stand-in ipvsadm.
func TestLVSKernel(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Skip("SKIPPED: no IPVS in this kernel (/proc/net/ip_vs missing); the netlink backend was not run against a kernel")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: creating a network namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("SKIPPED: the ip program is missing (apt-get install iproute2)")
	}
	if testing.Short() {
		t.Skip("builds and runs gomon for about 15 s")
	}
	ns := fmt.Sprintf("gomon-lvs-%d", os.Getpid())
	runIP(t, "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	runIP(t, "-n", ns, "link", "set", "lo", "up")
	kernel, err := ipvs.NewNetlinkAt("/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer kernel.Close()

	dir := t.TempDir()
	gomon := goBuild(t, dir, "mon", "../cmd/mon")
	for _, d := range []string{"state", "log", "down"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// health.monitor fails the hosts that have a file in down/. Each run
	// also touches ran, so that the test looks at the table again at
	// least once a run.
	writeFile(t, filepath.Join(dir, "health.monitor"), `#!/bin/sh
: > "`+dir+`/ran"
failed=""
for h in "$@"; do
    [ -e "`+dir+`/down/$h" ] && failed="$failed $h"
done
[ -z "$failed" ] && exit 0
echo $failed
exit 1
`)
	if err := os.Chmod(filepath.Join(dir, "health.monitor"), 0o755); err != nil {
		t.Fatal(err)
	}
	vs := ipvs.VirtualService{Protocol: ipvs.TCP, Addr: netip.MustParseAddrPort("127.0.0.10:80")}
	real2, real3 := netip.MustParseAddrPort("127.0.0.2:80"), netip.MustParseAddrPort("127.0.0.3:80")
	lvs := "lvs.alert -P tcp -V " + vs.Addr.String() + " -F dr --backend netlink"
	cf := filepath.Join(dir, "mon.cf")
	writeFile(t, cf, `statedir = `+dir+`/state
logdir = `+dir+`/log
mondir = `+dir+`
alertdir = `+dir+`

hostgroup web 127.0.0.2 127.0.0.3

watch web
    service health
        interval 1s
        monitor health.monitor
        period wd {Sun-Sat}
            alert `+lvs+`
            upalert `+lvs+`
`)
	auth := filepath.Join(dir, "auth.cf")
	writeFile(t, auth, "savestate: all\n")
	argv := []string{"ip", "netns", "exec", ns, gomon, "-c", cf, "-A", auth}
	down := func(host string, isDown bool) {
		p := filepath.Join(dir, "down", host)
		if isDown {
			writeFile(t, p, "")
		} else if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	// The kernel does not announce IPVS changes: the table is read again
	// whenever gomon writes its log (an alert done, a reconcile pass) or
	// a run touches ran.
	waitFor := func(want ...netip.AddrPort) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var got []netip.AddrPort
		err := await.Change(ctx, []string{dir}, func() bool {
			got = kernelReals(t, kernel, vs)
			return slices.Equal(got, want)
		})
		if err != nil {
			t.Fatalf("kernel table %v, want %v: %v", got, want, err)
		}
	}

	g := startGomon(t, dir, 1, argv...)
	waitFor(real2, real3)
	down("127.0.0.2", true)
	waitFor(real3)
	down("127.0.0.2", false)
	waitFor(real2, real3)

	// Restart while 127.0.0.3 is down, with the table changed meanwhile.
	down("127.0.0.3", true)
	waitFor(real2)
	// mon's default port: nothing else listens inside the namespace.
	if reply := monCommand(t, func() (net.Conn, error) { return dialIn(ns, "127.0.0.1:2583") }, "savestate opstatus"); reply != "220 savestate completed" {
		t.Fatalf("savestate: %q", reply)
	}
	g.stop(t)
	ctx := context.Background()
	if err := kernel.DeleteReal(ctx, vs, real2); err != nil {
		t.Fatal(err)
	}
	if err := kernel.AddReal(ctx, vs, ipvs.RealServer{Addr: real3, Weight: 1, Forward: ipvs.DirectRoute}); err != nil {
		t.Fatal(err)
	}
	g = startGomon(t, dir, 2, append(argv, "-l", "opstatus")...)
	waitFor(real2)
	down("127.0.0.3", false)
	waitFor(real2, real3)
	g.stop(t)
}

// kernelReals returns vs's real servers (weight 1, direct routing, else
// an invalid address), sorted.
func kernelReals(t *testing.T, d ipvs.Director, vs ipvs.VirtualService) []netip.AddrPort {
	t.Helper()
	list, err := d.Services(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.AddrPort
	for _, s := range list {
		if s.VirtualService != vs {
			continue
		}
		for _, r := range s.Reals {
			if r.Weight == 1 && r.Forward == ipvs.DirectRoute {
				out = append(out, r.Addr)
			} else {
				out = append(out, netip.AddrPort{})
			}
		}
	}
	slices.SortFunc(out, netip.AddrPort.Compare)
	return out
}

func runIP(t *testing.T, args ...string) {
	t.Helper()
	if b, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %q: %v %s", args, err, b)
	}
}

// dialIn connects to addr from inside the network namespace ns: the
// socket is made on a thread moved into ns, and a socket stays in the
// namespace it was made in.
func dialIn(ns, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result)
	go func() {
		// Never unlocked: the thread is discarded when this goroutine
		// ends, so the namespace change does not leak to others.
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns %s: %w", ns, err)}
			return
		}
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}
