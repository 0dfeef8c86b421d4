package faults

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// abuseConfig is a small configuration for the protocol, trap and flood
// checks: a monitored service and a trap-only one.
const abuseConfig = `hostgroup g 127.0.0.1

watch g
    service s
        interval 1s
        monitor ok.monitor
        period wd {Sun-Sat}
            alert sink.alert
    service t
        period wd {Sun-Sat}
            alert sink.alert
`

// validCommands seed the mutated request lines.
var validCommands = []string{
	"list opstatus", "list pids", "list disabled", "list alerthist", "list failurehist",
	"list successes", "list failures", "list group g", "list descriptions", "list aliases",
	"list deps", "list dtlog", "list watch", "list view", "list opstatus g s", "list state",
	"checkauth list", "servertime", "protid 9745", "version", "setview x", "getview",
	"get g s interval", "set g s opstatus 0", "test config", "test monitor g s", "test alert g s failure 1",
	"ack g s hi", "disable service g s", "enable service g s", "disable host 127.0.0.1",
	"enable host 127.0.0.1", "savestate opstatus", "loadstate opstatus", "clear timers g s",
	"login alice secret", "dump", "stop", "start", "reset", "term", "quit",
}

// junkLine is one request line without a line end: random bytes, a
// mangled command, a command with odd arguments, or a very long line.
// It never starts with quit, which would close the connection.
func junkLine(rng *rand.Rand) string {
	for {
		var l string
		switch p := rng.IntN(100); {
		case p < 40:
			b := make([]byte, 1+rng.IntN(300))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			l = string(b)
		case p < 75:
			l = mangle(rng, validCommands[rng.IntN(len(validCommands))])
		case p < 90:
			l = validCommands[rng.IntN(len(validCommands))] + " " + strings.Repeat("x y\t\\ %s ", rng.IntN(200))
		case p < 97:
			l = strings.Repeat(" ", rng.IntN(3)) + strings.Repeat("\x00\x7f\x1b[2J\t\v\f", 1+rng.IntN(20))
		default:
			l = "list " + strings.Repeat("A", 64<<10+rng.IntN(64<<10)) // over the 64 KiB limit
		}
		l = strings.NewReplacer("\r", "", "\n", "").Replace(l)
		// The command word ends at the first blank, as the server reads it.
		word := l
		if i := strings.IndexAny(l, " \t\v\f"); i >= 0 {
			word = l[:i]
		}
		if l != "" && strings.ToLower(word) != "quit" {
			return l
		}
	}
}

// mangle flips, drops, doubles or inserts a few bytes of s.
func mangle(rng *rand.Rand, s string) string {
	b := []byte(s)
	for range 1 + rng.IntN(3) {
		if len(b) == 0 {
			b = append(b, byte(rng.IntN(256)))
			continue
		}
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b[i] ^= 1 << rng.IntN(8)
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = append(b[:i], append([]byte{b[i]}, b[i:]...)...)
		default:
			b = append(b[:i], append([]byte{byte(rng.IntN(256))}, b[i:]...)...)
		}
	}
	return string(b)
}

// protocolAbuse sends junk lines one at a time, pipelined and from
// several clients at once, long lines and torn connections, and checks
// that every line gets a reply (a valid one or a 5xx), that connections
// stay usable, and that the daemon keeps answering.
func (s *suite) protocolAbuse(t *testing.T) {
	r := s.newRig(t)
	d := r.start(t, "protocol", r.config(t, abuseConfig), nil)
	rng := s.rng("protocol")

	var mu sync.Mutex
	var sent, answered, huge, hugeOK int
	var problems []string
	problem := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	// judge checks one reply: a final line starting 2 or 5, and the
	// length error for an overlong line.
	judge := func(line, final string) {
		mu.Lock()
		defer mu.Unlock()
		sent++
		long := len(line) > 64<<10
		if long {
			huge++
		}
		switch {
		case final == "" || (final[0] != '2' && final[0] != '5'):
			if len(problems) < 20 {
				problems = append(problems, fmt.Sprintf("%.60q → %q", line, final))
			}
		case long && !strings.HasPrefix(final, "520 request line longer than"):
			if len(problems) < 20 {
				problems = append(problems, fmt.Sprintf("%d-byte line → %q", len(line), final))
			}
		default:
			answered++
			if long {
				hugeOK++
			}
		}
	}

	// Several clients, each one line at a time, each line then checked
	// to leave the connection usable.
	clients := 4
	perClient := s.k.junk / 2 / clients
	var wg sync.WaitGroup
	for i := range clients {
		crng := rand.New(rand.NewPCG(rng.Uint64(), uint64(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := d.dial()
			if err != nil {
				problem("dial: %v", err)
				return
			}
			defer func() { c.close() }()
			for n := range perClient {
				l := junkLine(crng)
				_, final, err := c.cmd(l)
				if err != nil {
					problem("%.60q: %v", l, err)
					c.close()
					if c, err = d.dial(); err != nil {
						problem("redial: %v", err)
						return
					}
					continue
				}
				judge(l, final)
				if n%50 == 0 {
					if _, final, err := c.cmd("version"); err != nil || !strings.HasPrefix(final, "220") {
						problem("version after junk: %q, %v", final, err)
					}
				}
			}
		}()
	}
	wg.Wait()

	// Pipelined: all lines in one stream, read back concurrently.
	for batch := 0; batch*500 < s.k.junk/2; batch++ {
		lines := make([]string, 500)
		for i := range lines {
			lines[i] = junkLine(rng)
		}
		c, err := d.dial()
		if err != nil {
			t.Fatal(err)
		}
		c.c.SetDeadline(time.Now().Add(60 * time.Second))
		go func() {
			var b bytes.Buffer
			for _, l := range lines {
				b.WriteString(l + "\n")
			}
			b.WriteString("version\n")
			c.c.Write(b.Bytes())
		}()
		for _, l := range lines {
			_, final, err := c.reply()
			if err != nil {
				problem("pipelined batch %d: %v", batch, err)
				break
			}
			judge(l, final)
		}
		if _, final, err := c.reply(); err != nil || !strings.HasPrefix(final, "220 version") {
			problem("pipelined batch %d: version at the end: %q, %v", batch, final, err)
		}
		c.close()
	}

	// Torn connections: half a line, then gone; half a huge line; a
	// reset in the middle of a reply.
	for i := range 100 {
		c, err := net.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err != nil {
			t.Fatal(err)
		}
		switch i % 3 {
		case 0:
			io.WriteString(c, mangle(rng, "list opstatus"))
		case 1:
			io.WriteString(c, strings.Repeat("B", 100<<10))
		default:
			io.WriteString(c, strings.Repeat("list opstatus\n", 50))
			c.(*net.TCPConn).SetLinger(0)
		}
		c.Close()
	}

	start := time.Now()
	_, final, err := d.command("version")
	alive := d.alive() && err == nil && strings.HasPrefix(final, "220")
	s.rep.add(t, "protocol abuse: lines without a proper reply",
		fmt.Sprintf("%d of %d (%d over 64 KiB, half pipelined)%s", sent-answered, sent, huge, listed(problems)), "0",
		sent > 0 && answered == sent && len(problems) == 0 && hugeOK == huge)
	s.rep.add(t, "protocol abuse: daemon answers afterwards", fmt.Sprintf("%v (version in %v)", alive, time.Since(start).Round(time.Millisecond)), "true", alive)
}

// trapJunk is one datagram: random bytes, a mangled or oversized trap,
// or a valid one (for the trap-only service or an unknown one).
func trapJunk(rng *rand.Rand) []byte {
	valid := func(grp, svc, sum string) string {
		return fmt.Sprintf("pro='0.3807'\nusr=''\nspc='0'\nseq='0'\ntyp='trap'\ngrp='%s'\nsvc='%s'\nsta='1'\nspc='0'\ntsp='%d'\nsum='%s'\ndtl='detail'\n",
			grp, svc, time.Now().Unix(), sum)
	}
	switch p := rng.IntN(100); {
	case p < 35:
		b := make([]byte, rng.IntN(2000))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	case p < 70:
		return []byte(mangle(rng, mangle(rng, valid("g", "t", "junk"))))
	case p < 80:
		return []byte(valid("g", "t", strings.Repeat("S", rng.IntN(60000))))
	case p < 85:
		return []byte(valid("nosuch", "t", "unknown group"))
	case p < 90:
		return []byte(strings.Repeat("sum='\\", 1+rng.IntN(5000)))
	case p < 95:
		return []byte(strings.ReplaceAll(valid("g", "t", "x"), "\n", "\r\n"))
	default:
		return []byte(valid("g", "t", "junk-valid"))
	}
}

// trapAbuse sends junk datagrams to the trap port while a client keeps
// asking the daemon for its version, then checks that a real trap still
// gets through.
func (s *suite) trapAbuse(t *testing.T) {
	r := s.newRig(t)
	d := r.start(t, "traps", r.config(t, abuseConfig), nil)
	rng := s.rng("traps")
	conn, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", r.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	stop := make(chan struct{})
	var slowest time.Duration
	var failures, asked int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			_, final, err := d.command("version")
			asked++
			if err != nil || !strings.HasPrefix(final, "220") {
				failures++
			}
			slowest = max(slowest, time.Since(start))
		}
	}()
	log0 := d.logSize()
	for i := range s.k.traps {
		conn.Write(trapJunk(rng))
		if i%200 == 199 {
			time.Sleep(5 * time.Millisecond) // pace, so the socket buffer drops few
		}
	}
	close(stop)
	wg.Wait()

	// The daemon reads datagrams in order: once this one shows, every
	// junk datagram before it has been handled.
	marker := fmt.Sprintf("marker-%d", rng.Uint32())
	got := waitFor(10*time.Second, func() bool {
		conn.Write(fmt.Appendf(nil, "pro='0.3807'\nusr=''\nspc='0'\nseq='0'\ntyp='trap'\ngrp='g'\nsvc='t'\nsta='1'\nspc='0'\ntsp='%d'\nsum='%s'\ndtl=''\n", time.Now().Unix(), marker))
		ops, err := d.opstatus()
		return err == nil && ops["g/t"]["last_summary"] == marker
	})
	s.rep.add(t, "trap abuse: daemon alive, answering, taking traps",
		fmt.Sprintf("alive %v, %d of %d version queries answered during (slowest %v), a real trap after: %v",
			d.alive(), asked-failures, asked, slowest.Round(time.Millisecond), got),
		"all", d.alive() && failures == 0 && asked > 0 && got)
	s.rep.info("trap abuse: log bytes per junk datagram", fmt.Sprintf("%.0f (%d datagrams)", float64(d.logSize()-log0)/float64(s.k.traps), s.k.traps))
}

// idleFlood opens many idle and slow (half a line, a byte a second)
// connections, then times a new client's version command: with the
// default maxclients (the longest idle connections give way) and with
// room for them all.
func (s *suite) idleFlood(t *testing.T) {
	for _, maxClients := range []int{0, 2 * s.k.flood} {
		s.idleFloodWith(t, maxClients)
	}
}

func (s *suite) idleFloodWith(t *testing.T, maxClients int) {
	r := s.newRig(t)
	cf, what := abuseConfig, "default maxclients"
	if maxClients > 0 {
		cf, what = fmt.Sprintf("maxclients = %d\n\n", maxClients)+abuseConfig, fmt.Sprintf("maxclients %d", maxClients)
	}
	d := r.start(t, "idleflood", r.config(t, cf), nil)
	u0, err := readUsage(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range s.k.flood {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", r.port), 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 1 {
			io.WriteString(c, "list opst") // slow: a line that never ends
		}
		conns = append(conns, c)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			for i := 1; i < len(conns); i += 2 {
				conns[i].SetWriteDeadline(time.Now().Add(10 * time.Millisecond))
				conns[i].Write([]byte("a"))
			}
		}
	}()
	time.Sleep(500 * time.Millisecond)
	during, _ := readUsage(d.pid())
	var slowest time.Duration
	var failed int
	for range 20 {
		start := time.Now()
		_, final, err := d.command("version")
		if err != nil || !strings.HasPrefix(final, "220") {
			failed++
		}
		slowest = max(slowest, time.Since(start))
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	s.rep.add(t, "idle flood, "+what+": a new client served",
		fmt.Sprintf("%d of 20 in ≤ %v, beside %d idle/slow connections (daemon fds %d)", 20-failed, slowest.Round(time.Millisecond), len(conns), during.fds),
		"≤ 100 ms", failed == 0 && slowest <= 100*time.Millisecond)
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	var u1 usage
	back := waitFor(10*time.Second, func() bool {
		u1, err = readUsage(d.pid())
		return err == nil && u1.fds <= u0.fds+2
	})
	s.rep.add(t, "idle flood, "+what+": daemon fds after", fmt.Sprintf("%d (%d before)", u1.fds, u0.fds), "back within 10 s", back)
}
