package monitors

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestICMPUnprivilegedFallback runs the prober without CAP_NET_RAW in a
// namespace that allows unprivileged ICMP ("ping sockets"): the raw socket
// fails and the datagram socket must take over, for IPv4 and IPv6.
func TestICMPUnprivilegedFallback(t *testing.T) {
	needICMP(t)
	ns := silentNetns(t) // loopback up, echo replies off: turn them back on
	setup := "sysctl -qw net.ipv4.icmp_echo_ignore_all=0 && sysctl -qw net.ipv6.icmp.echo_ignore_all=0 && " +
		"sysctl -qw net.ipv4.ping_group_range='0 2147483647'"
	if out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", setup).CombinedOutput(); err != nil {
		t.Skipf("cannot allow ping sockets in the namespace: %v %s", err, out)
	}
	var dgram, rawRefused bool
	r := inNetns(t, ns, func() Result {
		// Capabilities are per thread: drop CAP_NET_RAW on this one only.
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return Result{Exit: -1, Output: []byte(err.Error())}
		}
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return Result{Exit: -1, Output: []byte(err.Error())}
		}
		if fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP); err == nil {
			unix.Close(fd)
		} else {
			rawRefused = true
		}
		if c, err := openEchoConn(false); err == nil {
			dgram = c.dgram
			c.pc.Close()
		}
		return mustNew(t, "fping.monitor", "-r", "1", "-t", "500").Check(context.Background(),
			Request{Hosts: []string{"127.0.0.1", "::1"}})
	})
	if !rawRefused {
		t.Skip("dropping CAP_NET_RAW did not take away raw sockets here")
	}
	if !dgram {
		t.Errorf("without CAP_NET_RAW the prober did not use a datagram socket")
	}
	if r.Exit != 0 || !strings.Contains(string(r.Output), "reachable hosts") ||
		!strings.Contains(string(r.Output), "127.0.0.1") || !strings.Contains(string(r.Output), "::1") {
		t.Errorf("fping over ping sockets: exit %d, output:\n%s", r.Exit, r.Output)
	}
}
