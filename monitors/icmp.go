package monitors

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// This file holds an ICMP echo prober that pings any number of targets
// through one socket per address family, and the fping.monitor and
// ping.monitor built-ins on top of it.

// echoParams says how persistently to ping.
type echoParams struct {
	Attempts int           // echo requests per target, at least 1
	Timeout  time.Duration // wait after the first round
	Backoff  float64       // each further round waits Backoff times longer
	// LastWait, if set, replaces the wait after the last round (ping's
	// linger time).
	LastWait time.Duration
	// Interval is the pause between two sends: 0 sends as fast as the
	// socket accepts, which loopback and LANs absorb easily.
	Interval time.Duration
	// UnreachableEnds makes a target's Attempts "destination unreachable"
	// errors its final answer, as ping(8) counts them: a host whose link
	// is down (ARP fails) is reported when the kernel gives up on it, not
	// after the linger time. fping keeps retrying instead.
	UnreachableEnds bool
}

// echoResult is the outcome for one target.
type echoResult struct {
	OK          bool
	RTT         time.Duration // of the first reply
	Err         error         // a send error or "unreachable", if no reply came
	unreachable int           // destination-unreachable errors received
	final       bool          // no more requests: answered, or unreachable for good
}

// errUnreachable is a target for which an ICMP destination-unreachable
// error came back.
var errUnreachable = errors.New("destination unreachable")

// payload layout: 8-byte run cookie, 4-byte target index, 8-byte send
// time. The cookie tells our replies from anyone else's on a raw socket
// (which sees every echo reply on the host); the index and time avoid any
// per-sequence bookkeeping.
const echoPayloadLen = 20

// echoConn is one ICMP socket: privileged raw, or unprivileged datagram
// (Linux "ping sockets", allowed by net.ipv4.ping_group_range), where the
// kernel picks the echo identifier and filters replies for us.
type echoConn struct {
	pc    net.PacketConn
	v6    bool
	dgram bool
}

func openEchoConn(v6 bool) (*echoConn, error) {
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	var errs []error
	for _, typ := range []int{unix.SOCK_RAW, unix.SOCK_DGRAM} {
		c, err := openEchoSocket(family, typ, proto)
		if err == nil {
			return &echoConn{pc: c, v6: v6, dgram: typ == unix.SOCK_DGRAM}, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("icmp socket: %w", errors.Join(errs...))
}

func openEchoSocket(family, typ, proto int) (net.PacketConn, error) {
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, proto)
	if err != nil {
		return nil, err
	}
	// Replies to a burst of thousands of requests arrive faster than one
	// reader drains them; a large buffer keeps them from being dropped.
	// SO_RCVBUFFORCE needs CAP_NET_ADMIN; SO_RCVBUF is capped by rmem_max.
	const rcvbuf = 8 << 20
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	f := os.NewFile(uintptr(fd), "icmp")
	defer f.Close()
	c, err := net.FilePacketConn(f)
	if err != nil {
		return nil, err
	}
	if family == unix.AF_INET6 && typ == unix.SOCK_RAW {
		// Let the kernel drop everything but echo replies.
		var filter ipv6.ICMPFilter
		filter.SetAll(true)
		filter.Accept(ipv6.ICMPTypeEchoReply)
		filter.Accept(ipv6.ICMPTypeDestinationUnreachable)
		_ = ipv6.NewPacketConn(c).SetICMPFilter(&filter)
	}
	return c, nil
}

func (c *echoConn) proto() int {
	if c.v6 {
		return 58
	}
	return 1
}

func (c *echoConn) send(id, seq int, payload []byte, dst netip.Addr) error {
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: payload}}
	if c.v6 {
		msg.Type = ipv6.ICMPTypeEchoRequest // the kernel fills in the checksum
	}
	b, err := msg.Marshal(nil)
	if err != nil {
		return err
	}
	ip := net.IP(dst.AsSlice())
	var to net.Addr = &net.IPAddr{IP: ip, Zone: dst.Zone()}
	if c.dgram {
		to = &net.UDPAddr{IP: ip, Zone: dst.Zone()}
	}
	for {
		_, err = c.pc.WriteTo(b, to)
		// A full send queue is back-pressure, not a verdict on the host.
		if errors.Is(err, unix.ENOBUFS) || errors.Is(err, unix.EAGAIN) {
			time.Sleep(time.Millisecond)
			continue
		}
		return err
	}
}

// echoAll pings every target and returns one result per target, in order.
// All targets of a family share one socket; the whole run ends when every
// target answered, the attempts are used up, or ctx is done.
func echoAll(ctx context.Context, targets []netip.Addr, p echoParams) []echoResult {
	results := make([]echoResult, len(targets))
	if len(targets) == 0 {
		return results
	}
	var cookie [8]byte
	_, _ = rand.Read(cookie[:])
	id := int(binary.BigEndian.Uint16(cookie[:2]))

	var (
		mu      sync.Mutex
		pending = len(targets)
		done    = make(chan struct{})
	)
	onReply := func(from netip.Addr, data []byte) {
		if len(data) < echoPayloadLen || string(data[:8]) != string(cookie[:]) {
			return
		}
		i := int(binary.BigEndian.Uint32(data[8:12]))
		sent := time.Unix(0, int64(binary.BigEndian.Uint64(data[12:20])))
		mu.Lock()
		defer mu.Unlock()
		if i >= len(targets) || results[i].final || targets[i].Unmap().WithZone("") != from.Unmap() {
			return
		}
		results[i] = echoResult{OK: true, RTT: time.Since(sent), final: true}
		pending--
		if pending == 0 {
			close(done)
		}
	}
	onUnreachable := func(dst netip.Addr, data []byte) {
		if len(data) < 12 || string(data[:8]) != string(cookie[:]) {
			return
		}
		i := int(binary.BigEndian.Uint32(data[8:12]))
		mu.Lock()
		defer mu.Unlock()
		if i >= len(targets) || results[i].final || targets[i].Unmap().WithZone("") != dst.Unmap() {
			return
		}
		r := &results[i]
		r.unreachable++
		r.Err = errUnreachable
		if p.UnreachableEnds && r.unreachable >= max(p.Attempts, 1) {
			r.final = true
			pending--
			if pending == 0 {
				close(done)
			}
		}
	}

	conns := map[bool]*echoConn{} // by v6
	var readers sync.WaitGroup
	defer func() {
		for _, c := range conns {
			c.pc.Close()
		}
		readers.Wait()
	}()
	for i, t := range targets {
		v6 := !t.Unmap().Is4()
		if _, ok := conns[v6]; ok {
			continue
		}
		c, err := openEchoConn(v6)
		if err != nil {
			results[i].Err = err
			continue
		}
		conns[v6] = c
		readers.Add(1)
		go func() {
			defer readers.Done()
			c.readReplies(onReply, onUnreachable)
		}()
	}

	payload := make([]byte, echoPayloadLen)
	copy(payload, cookie[:])
	seq := 0
	wait := p.Timeout
	attempts := max(p.Attempts, 1)
	for attempt := 0; attempt < attempts; attempt++ {
		for i, t := range targets {
			mu.Lock()
			final := results[i].final
			mu.Unlock()
			c := conns[!t.Unmap().Is4()]
			if final || c == nil {
				continue
			}
			if ctx.Err() != nil {
				return results
			}
			binary.BigEndian.PutUint32(payload[8:12], uint32(i))
			binary.BigEndian.PutUint64(payload[12:20], uint64(time.Now().UnixNano()))
			seq++
			if err := c.send(id, seq&0xffff, payload, t); err != nil {
				mu.Lock()
				results[i].Err = err
				mu.Unlock()
			}
			if p.Interval > 0 {
				time.Sleep(p.Interval)
			}
		}
		if attempt == attempts-1 && p.LastWait > 0 {
			wait = p.LastWait
		}
		timer := time.NewTimer(wait)
		select {
		case <-done:
			timer.Stop()
			return results
		case <-ctx.Done():
			timer.Stop()
			return results
		case <-timer.C:
		}
		wait = time.Duration(float64(wait) * math.Max(p.Backoff, 1))
	}
	// The deferred close waits for the readers, so results is final when
	// the caller sees it.
	return results
}

// readReplies hands every echo reply to reply, and every destination-
// unreachable error that quotes one of our requests to unreachable (with
// the request's destination and payload), until the socket is closed.
// Only a raw socket sees those errors; they are the kernel's answer for a
// host whose link is down.
func (c *echoConn) readReplies(reply, unreachable func(addr netip.Addr, data []byte)) {
	buf := make([]byte, 1500)
	for {
		n, from, err := c.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		m, err := icmp.ParseMessage(c.proto(), buf[:n])
		if err != nil {
			continue
		}
		switch body := m.Body.(type) {
		case *icmp.Echo:
			if m.Type != ipv4.ICMPTypeEchoReply && m.Type != ipv6.ICMPTypeEchoReply {
				continue
			}
			var ip net.IP
			switch a := from.(type) {
			case *net.IPAddr:
				ip = a.IP
			case *net.UDPAddr:
				ip = a.IP
			}
			if addr, ok := netip.AddrFromSlice(ip); ok {
				reply(addr, body.Data)
			}
		case *icmp.DstUnreach:
			if dst, payload, ok := quotedEcho(body.Data, c.v6); ok {
				unreachable(dst, payload)
			}
		}
	}
}

// quotedEcho returns the destination and payload of the echo request an
// ICMP error quotes (the original IP header, then the echo message).
func quotedEcho(quote []byte, v6 bool) (dst netip.Addr, payload []byte, ok bool) {
	var hdrLen int
	var echoType byte
	switch {
	case v6 && len(quote) >= 40:
		hdrLen, echoType = 40, byte(ipv6.ICMPTypeEchoRequest)
		dst, _ = netip.AddrFromSlice(quote[24:40])
	case !v6 && len(quote) >= 20:
		hdrLen, echoType = int(quote[0]&0x0f)*4, byte(ipv4.ICMPTypeEcho)
		dst, _ = netip.AddrFromSlice(quote[16:20])
	default:
		return dst, nil, false
	}
	if len(quote) < hdrLen+8 || quote[hdrLen] != echoType {
		return dst, nil, false
	}
	return dst, quote[hdrLen+8:], true
}

// resolveHosts maps each host name or address literal to one address.
// Names that do not resolve get an invalid Addr and an error. only6
// restricts names to IPv6 addresses (ping -6).
func resolveHosts(ctx context.Context, hosts []string, only6 bool) ([]netip.Addr, []error) {
	addrs := make([]netip.Addr, len(hosts))
	errs := make([]error, len(hosts))
	network := "ip"
	if only6 {
		network = "ip6"
	}
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, h := range hosts {
		if a, err := netip.ParseAddr(h); err == nil {
			if only6 && a.Is4() {
				errs[i] = fmt.Errorf("%s: not an IPv6 address", h)
				continue
			}
			addrs[i] = a
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			as, err := net.DefaultResolver.LookupNetIP(ctx, network, h)
			if err == nil && len(as) == 0 {
				err = fmt.Errorf("%s: no address", h)
			}
			if err != nil {
				errs[i] = err
				return
			}
			addrs[i] = as[0]
		}()
	}
	wg.Wait()
	return addrs, errs
}

// fpingMonitor replaces fping.monitor.
type fpingMonitor struct {
	allMustFail bool          // -a
	retries     int           // -r
	slowMS      float64       // -s, 0 = off
	timeout     time.Duration // -t
	traceroute  bool          // -T
}

const fpingUsage = "fping.monitor [-a] [-r num] [-s num] [-t num] [-T] host [host...]"

func newFping(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("ahr:s:t:T", args)
	if err != nil {
		return nil, err
	}
	if _, ok := opts['h']; ok {
		return nil, fmt.Errorf("usage: %s", fpingUsage)
	}
	m := &fpingMonitor{retries: 3, timeout: 2000 * time.Millisecond}
	m.allMustFail = opts['a'] != ""
	m.traceroute = opts['T'] != ""
	// The script uses `$opt{x} || default`, so 0 means the default too.
	if v, ok := opts['r']; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-r %q: want a retry count", v)
		}
		if n > 0 {
			m.retries = n
		}
	}
	if v, ok := opts['t']; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-t %q: want milliseconds", v)
		}
		if n > 0 {
			m.timeout = time.Duration(n) * time.Millisecond
		}
	}
	if v, ok := opts['s']; ok {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-s %q: want milliseconds", v)
		}
		m.slowMS = n
	}
	return withHostArgs(m, rest), nil
}

// fping's defaults: the wait grows by 1.5 with every retry.
const fpingBackoff = 1.5

func (m *fpingMonitor) params() echoParams {
	return echoParams{Attempts: m.retries + 1, Timeout: m.timeout, Backoff: fpingBackoff}
}

// maxWait is the longest echoAll waits for replies: every round's wait.
func (p echoParams) maxWait() time.Duration {
	total, w := time.Duration(0), float64(p.Timeout)
	n := max(p.Attempts, 1)
	for i := range n {
		if i == n-1 && p.LastWait > 0 {
			w = float64(p.LastWait)
		}
		total += time.Duration(w)
		w *= math.Max(p.Backoff, 1)
	}
	return total
}

func (m *fpingMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	if len(req.Hosts) == 0 {
		return Result{Exit: 0, Duration: time.Since(start)}
	}
	p := m.params()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = p.maxWait() + 10*time.Second // room for name resolution
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	addrs, resErrs := resolveHosts(ctx, req.Hosts, false)
	var targets []netip.Addr
	var index []int // targets[k] belongs to req.Hosts[index[k]]
	for i, a := range addrs {
		if resErrs[i] == nil {
			targets = append(targets, a)
			index = append(index, i)
		}
	}
	echoes := echoAll(ctx, targets, p)
	end := time.Now()

	var unreachable, notFound, slowNames []string
	type hostRTT struct {
		host string
		ms   float64
	}
	var alive, slow []hostRTT
	hosts := make([]HostResult, len(req.Hosts))
	for i, h := range req.Hosts {
		hosts[i] = HostResult{Host: h}
		if resErrs[i] != nil {
			// Q-MON-1: an unresolvable name is an unreachable host.
			notFound = append(notFound, h)
			hosts[i].Detail = "address not found"
		}
	}
	for k, e := range echoes {
		i := index[k]
		h := req.Hosts[i]
		switch {
		case !e.OK:
			unreachable = append(unreachable, h)
			hosts[i].Detail = "unreachable"
			if e.Err != nil {
				hosts[i].Detail = "unreachable: " + e.Err.Error()
			}
		case m.slowMS > 0 && ms(e.RTT) > m.slowMS:
			slow = append(slow, hostRTT{h, ms(e.RTT)})
			slowNames = append(slowNames, h)
			hosts[i].RTT = e.RTT
			hosts[i].Detail = fmt.Sprintf("slow (%.2f ms > %gms)", ms(e.RTT), m.slowMS)
		default:
			alive = append(alive, hostRTT{h, ms(e.RTT)})
			hosts[i].OK = true
			hosts[i].RTT = e.RTT
			hosts[i].Detail = fmt.Sprintf("alive (%.2f ms)", ms(e.RTT))
		}
	}
	// fping reports "address not found" first, then the silent hosts.
	unreachable = append(notFound, unreachable...)

	// fping's exit status: 2 if a name did not resolve, else 1 if a host
	// did not answer.
	exit := 0
	switch {
	case len(notFound) > 0:
		exit = 2
	case len(unreachable) > 0:
		exit = 1
	}

	var b strings.Builder
	if exit != 0 || len(slow) > 0 {
		failed := append(append([]string(nil), unreachable...), slowNames...)
		sort.Strings(failed)
		b.WriteString(strings.Join(failed, " ") + "\n\n")
	} else {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "start time: %s\n", perlLocaltime(start))
	fmt.Fprintf(&b, "end time  : %s\n", perlLocaltime(end))
	fmt.Fprintf(&b, "duration  : %d seconds\n\n", end.Unix()-start.Unix())
	const rule = "------------------------------------------------------------------------------\n"
	if len(unreachable) > 0 {
		b.WriteString(rule + "unreachable hosts\n" + rule)
		b.WriteString(strings.Join(unreachable, "\n") + "\n\n")
		if len(notFound) > 0 {
			fmt.Fprintf(&b, "address not found for %s\n", strings.Join(notFound, " "))
		}
		b.WriteString("\n")
	}
	if len(slow) > 0 {
		fmt.Fprintf(&b, "%sslow hosts (response time which exceeds %sms)\n%s", rule, fmtPerlNum(m.slowMS), rule)
		for _, s := range slow {
			fmt.Fprintf(&b, "%-40s %.2f ms\n", s.host, s.ms)
		}
	}
	if len(alive) > 0 {
		b.WriteString(rule + "reachable hosts                          rtt\n" + rule)
		for _, a := range alive {
			fmt.Fprintf(&b, "%-40s %.2f ms\n", a.host, a.ms)
		}
	}
	if m.traceroute && len(unreachable) > 0 {
		for _, h := range unreachable {
			b.Write(runTraceroute(ctx, h))
		}
		b.WriteString("\n")
	}

	switch {
	case m.allMustFail:
		exit = 0
		if len(unreachable) == len(req.Hosts) {
			exit = 1
		}
	case len(slow) > 0:
		exit = 1
	}
	return Result{Exit: exit, Output: []byte(b.String()), Hosts: hosts, Duration: time.Since(start)}
}

// runTraceroute returns `traceroute -w 3 HOST` output (stdout and stderr),
// bounded by ctx.
func runTraceroute(ctx context.Context, host string) []byte {
	out, err := exec.CommandContext(ctx, "traceroute", "-w", "3", host).CombinedOutput()
	if err != nil && len(out) == 0 {
		return []byte(fmt.Sprintf("traceroute %s: %v\n", host, err))
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// perlLocaltime formats t like Perl's scalar localtime.
func perlLocaltime(t time.Time) string { return t.Format("Mon Jan _2 15:04:05 2006") }

// fmtPerlNum prints a number the way Perl interpolates it.
func fmtPerlNum(f float64) string { return strconv.FormatFloat(f, 'g', 15, 64) }

// pingMonitor replaces ping.monitor: hosts answering none of -c echoes
// fail; the summary lists them in argument order, with no detail.
type pingMonitor struct {
	count int
	only6 bool
}

const pingUsage = "ping.monitor [-c count] [-6] host [host...]"

func newPing(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("c:6", args)
	if err != nil {
		return nil, err
	}
	m := &pingMonitor{count: 1, only6: opts['6'] != ""}
	if v, ok := opts['c']; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-c %q: want a positive count", v)
		}
		m.count = n
	}
	return withHostArgs(m, rest), nil
}

// Like ping(8): one echo a second, then up to 10 s for a late reply.
func (m *pingMonitor) params() echoParams {
	return echoParams{Attempts: m.count, Timeout: time.Second, Backoff: 1, LastWait: 10 * time.Second,
		UnreachableEnds: true}
}

func (m *pingMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	if len(req.Hosts) == 0 {
		return Result{Exit: 1, Output: []byte("ping: no hosts found\n"), Duration: time.Since(start)}
	}
	p := m.params()
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = p.maxWait() + 10*time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	addrs, resErrs := resolveHosts(ctx, req.Hosts, m.only6)
	var targets []netip.Addr
	var index []int
	for i, a := range addrs {
		if resErrs[i] == nil {
			targets = append(targets, a)
			index = append(index, i)
		}
	}
	echoes := echoAll(ctx, targets, p)

	hosts := make([]HostResult, len(req.Hosts))
	for i, h := range req.Hosts {
		hosts[i] = HostResult{Host: h, Detail: "unknown host"}
	}
	for k, e := range echoes {
		hr := &hosts[index[k]]
		hr.OK, hr.RTT = e.OK, e.RTT
		hr.Detail = fmt.Sprintf("alive (%.2f ms)", ms(e.RTT))
		switch {
		case e.OK:
		case e.Err != nil:
			hr.Detail = e.Err.Error()
		default:
			hr.Detail = "no reply"
		}
	}
	var failed []string
	for _, h := range hosts {
		if !h.OK {
			failed = append(failed, h.Host)
		}
	}
	res := Result{Hosts: hosts, Duration: time.Since(start)}
	if len(failed) > 0 {
		res.Exit = 1
		res.Output = []byte(strings.Join(failed, " ") + "\n")
	}
	return res
}

func init() {
	Register(&Builtin{Name: "fping", Aliases: []string{"fping.monitor"}, Usage: fpingUsage, New: newFping})
	Register(&Builtin{Name: "ping", Aliases: []string{"ping.monitor"}, Usage: pingUsage, New: newPing})
}
