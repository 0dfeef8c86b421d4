package monitors

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// An invalid domain name fails inside the resolver without any DNS query,
// so tests never send traffic off the machine.
const unresolvable = "no..such.host"

func mustNew(t testing.TB, name string, args ...string) Monitor {
	t.Helper()
	b := builtins.Lookup(name)
	if b == nil {
		t.Fatalf("built-in %q not registered", name)
	}
	m, err := b.New(args)
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return m
}

// needICMP skips when no ICMP socket can be opened: neither raw (root or
// CAP_NET_RAW) nor unprivileged (net.ipv4.ping_group_range).
func needICMP(t testing.TB) {
	t.Helper()
	c, err := openEchoConn(false)
	if err != nil {
		t.Skipf("cannot open an ICMP socket: %v", err)
	}
	c.pc.Close()
}

func summary(r Result) string {
	s, _, _ := strings.Cut(string(r.Output), "\n")
	return s
}

func TestFpingLoopback(t *testing.T) {
	needICMP(t)
	m := mustNew(t, "fping.monitor")
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1", "127.0.0.2", "::1"}})
	if r.Exit != 0 {
		t.Fatalf("exit %d, output:\n%s", r.Exit, r.Output)
	}
	out := string(r.Output)
	for _, re := range []string{
		`^\nstart time: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\nend time  : .*\nduration  : \d+ seconds\n\n`,
		`\nreachable hosts                          rtt\n-{78}\n`,
		`\n127\.0\.0\.1 {32}\d+\.\d\d ms\n`,
		`\n127\.0\.0\.2 {32}\d+\.\d\d ms\n`,
		`\n::1 {38}\d+\.\d\d ms\n`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", re, out)
		}
	}
	if len(r.Hosts) != 3 {
		t.Fatalf("host results: %+v", r.Hosts)
	}
	for _, h := range r.Hosts {
		if !h.OK || h.RTT <= 0 {
			t.Errorf("host %+v: want OK with an RTT", h)
		}
	}
}

func TestFpingUnresolvable(t *testing.T) {
	needICMP(t)
	m := mustNew(t, "fping.monitor", "-r", "1", "-t", "300")
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1", unresolvable}})
	if r.Exit != 2 {
		t.Errorf("exit %d, want 2 (fping's 'address not found')", r.Exit)
	}
	if got := summary(r); got != unresolvable {
		t.Errorf("summary %q, want %q", got, unresolvable)
	}
	out := string(r.Output)
	for _, want := range []string{
		"\nunreachable hosts\n",
		"\naddress not found for " + unresolvable + "\n",
		"\nreachable hosts ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if r.Hosts[0].OK == false || r.Hosts[1].OK {
		t.Errorf("host verdicts %+v", r.Hosts)
	}
}

func TestFpingSlow(t *testing.T) {
	needICMP(t)
	// No loopback echo returns within 100 ns.
	m := mustNew(t, "fping.monitor", "-s", "0.0001")
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
	if r.Exit != 1 || summary(r) != "127.0.0.1" {
		t.Fatalf("exit %d, output:\n%s", r.Exit, r.Output)
	}
	if !strings.Contains(string(r.Output), "slow hosts (response time which exceeds 0.0001ms)\n") {
		t.Errorf("no slow section:\n%s", r.Output)
	}
}

func TestFpingHostArgs(t *testing.T) {
	needICMP(t)
	// The drop-in form passes hosts as arguments after the flags.
	r := mustNew(t, "fping", "-r", "1", "127.0.0.1").Check(context.Background(), Request{Hosts: []string{"::1"}})
	if r.Exit != 0 || len(r.Hosts) != 2 || r.Hosts[0].Host != "127.0.0.1" {
		t.Errorf("exit %d hosts %+v", r.Exit, r.Hosts)
	}
}

func TestFpingNoHosts(t *testing.T) {
	r := mustNew(t, "fping").Check(context.Background(), Request{})
	if r.Exit != 0 || len(r.Output) != 0 {
		t.Errorf("exit %d output %q, want silent success", r.Exit, r.Output)
	}
}

func TestFpingFlags(t *testing.T) {
	for _, args := range [][]string{{"-x"}, {"-r", "many"}, {"-t"}, {"-h"}} {
		if _, err := builtins.Lookup("fping.monitor").New(args); err == nil {
			t.Errorf("args %q: want an error", args)
		}
	}
	if _, err := builtins.Lookup("fping.monitor").New([]string{"-aTr2", "-t100", "-s", "50"}); err != nil {
		t.Errorf("clustered flags: %v", err)
	}
	for _, args := range [][]string{{"-c", "0"}, {"-q"}} {
		if _, err := builtins.Lookup("ping.monitor").New(args); err == nil {
			t.Errorf("ping %q: want an error", args)
		}
	}
}

func TestPing(t *testing.T) {
	needICMP(t)
	m := mustNew(t, "ping.monitor", "-c", "2")
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1", unresolvable, "::1"}})
	if r.Exit != 1 || string(r.Output) != unresolvable+"\n" {
		t.Errorf("exit %d output %q", r.Exit, r.Output)
	}
	r = mustNew(t, "ping.monitor", "-6").Check(context.Background(), Request{Hosts: []string{"::1", "127.0.0.1"}})
	if r.Exit != 1 || string(r.Output) != "127.0.0.1\n" {
		t.Errorf("-6: exit %d output %q", r.Exit, r.Output)
	}
	r = mustNew(t, "ping.monitor").Check(context.Background(), Request{})
	if r.Exit != 1 || string(r.Output) != "ping: no hosts found\n" {
		t.Errorf("no hosts: exit %d output %q", r.Exit, r.Output)
	}
}

// TestICMPSilentHosts pings loopback inside a network namespace of its own
// that ignores echo requests, so nothing ever answers.
func TestICMPSilentHosts(t *testing.T) {
	needICMP(t)
	ns := silentNetns(t)
	hosts := []string{"::1", "127.0.0.1"}

	r := inNetns(t, ns, func() Result {
		return mustNew(t, "fping.monitor", "-r", "1", "-t", "200").Check(context.Background(), Request{Hosts: hosts})
	})
	if r.Exit != 1 || summary(r) != "127.0.0.1 ::1" {
		t.Errorf("fping: exit %d, output:\n%s", r.Exit, r.Output)
	}
	if !strings.Contains(string(r.Output), "\nunreachable hosts\n"+strings.Repeat("-", 78)+"\n::1\n127.0.0.1\n\n") {
		t.Errorf("fping: unreachable section:\n%s", r.Output)
	}

	r = inNetns(t, ns, func() Result {
		return mustNew(t, "fping.monitor", "-a", "-r", "1", "-t", "200").Check(context.Background(), Request{Hosts: hosts})
	})
	if r.Exit != 1 {
		t.Errorf("fping -a, all down: exit %d", r.Exit)
	}

	r = inNetns(t, ns, func() Result {
		req := Request{Hosts: []string{"127.0.0.1"}, Timeout: 2 * time.Second}
		return mustNew(t, "ping.monitor").Check(context.Background(), req)
	})
	if r.Exit != 1 || string(r.Output) != "127.0.0.1\n" {
		t.Errorf("ping: exit %d output %q", r.Exit, r.Output)
	}
}

// silentNetns creates a network namespace whose loopback is up but
// ignores ICMP echo requests, removed when the test ends.
func silentNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
	name := fmt.Sprintf("gomon-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	setup := "ip link set lo up && sysctl -qw net.ipv4.icmp_echo_ignore_all=1 && sysctl -qw net.ipv6.icmp.echo_ignore_all=1"
	if out, err := exec.Command("ip", "netns", "exec", name, "sh", "-c", setup).CombinedOutput(); err != nil {
		t.Fatalf("set up namespace: %v %s", err, out)
	}
	return name
}

// inNetns runs fn on an OS thread moved into the namespace. Sockets fn
// opens stay in it. The thread is never unlocked, so the runtime discards
// it instead of reusing it elsewhere.
func inNetns(t *testing.T, ns string, fn func() Result) Result {
	t.Helper()
	type outcome struct {
		r   Result
		err error
	}
	ch := make(chan outcome, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- outcome{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- outcome{err: err}
			return
		}
		ch <- outcome{r: fn()}
	}()
	o := <-ch
	if o.err != nil {
		t.Fatalf("enter namespace %s: %v", ns, o.err)
	}
	return o.r
}

// benchTargets is 5,000 distinct loopback addresses.
func benchTargets() []string {
	var hosts []string
	a := netip.MustParseAddr("127.0.1.1")
	for range 5000 {
		hosts = append(hosts, a.String())
		a = a.Next()
	}
	return hosts
}

// BenchmarkICMP5000 pings 5,000 loopback addresses with the built-in
// (fping.monitor defaults); compare with BenchmarkFping5000.
func BenchmarkICMP5000(b *testing.B) {
	needICMP(b)
	hosts := benchTargets()
	m := mustNew(b, "fping.monitor")
	for b.Loop() {
		start := time.Now()
		r := m.Check(context.Background(), Request{Hosts: hosts})
		if r.Exit != 0 {
			b.Fatalf("exit %d: %s", r.Exit, summary(r))
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/run")
	}
}

// BenchmarkFping5000 runs the real fping on the same list, as fping.monitor
// would (-e -r 3 -t 2000), plus -q.
func BenchmarkFping5000(b *testing.B) {
	if _, err := exec.LookPath("fping"); err != nil {
		b.Skip("fping not installed")
	}
	hosts := benchTargets()
	for b.Loop() {
		start := time.Now()
		cmd := exec.Command("fping", append([]string{"-q", "-e", "-r", "3", "-t", "2000"}, hosts...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("fping: %v %s", err, out)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/run")
	}
}

// TestPingLinkDown: a host behind a link whose other end is down is
// reported as soon as the kernel gives up resolving it (ARP, about 3 s),
// as with ping(8), instead of after ping's 10 s linger; fping keeps to
// its retries. The namespace is the test's own: 192.0.2.1 on a veth whose
// peer (in a second namespace) is down.
func TestPingLinkDown(t *testing.T) {
	needICMP(t)
	ns := silentNetns(t)
	peer := ns + "-peer"
	setup := [][]string{
		{"ip", "netns", "add", peer},
		{"ip", "link", "add", "gmv0", "netns", ns, "type", "veth", "peer", "name", "gmv1", "netns", peer},
		{"ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "gmv0"},
		{"ip", "-n", ns, "link", "set", "gmv0", "up"},
		{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_all=0"},
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", peer).Run() })
	for _, c := range setup {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%v: %v %s", c, err, out)
		}
	}
	r := inNetns(t, ns, func() Result {
		return mustNew(t, "ping.monitor").Check(context.Background(), Request{Hosts: []string{"192.0.2.2", "127.0.0.1"}})
	})
	if r.Exit != 1 || summary(r) != "192.0.2.2" {
		t.Errorf("ping: exit %d output %q", r.Exit, r.Output)
	}
	// ARP gives up after 3 probes a second apart; ping's linger is 10 s.
	if r.Duration > 8*time.Second {
		t.Errorf("ping took %v: it waited for the linger instead of the unreachable error", r.Duration)
	}
	if h := r.Hosts[0]; h.OK || !strings.Contains(h.Detail, "unreachable") {
		t.Errorf("host verdict %+v", h)
	}
}
