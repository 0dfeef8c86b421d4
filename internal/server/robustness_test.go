package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
)

func startWith(t *testing.T, opts server.Options) *servertest.Rig {
	t.Helper()
	return servertest.Start(t, servertest.Config{MonCF: testCF, Files: map[string]string{"users": users},
		Scripts: testScripts, Server: opts})
}

// expectClosed asserts that the server closes c without sending
// anything.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(servertest.Timeout))
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err == nil {
		t.Fatalf("connection open, read %q", buf[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("connection still open")
	}
}

func expect(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestMalformedLines: garbage gets a 5xx reply and the connection stays
// usable.
func TestMalformedLines(t *testing.T) {
	r := startWith(t, server.Options{})
	c := r.Dial(t)
	for _, l := range []string{"\x00\xff\xfe", "list\x00state", "\t", "version\x00", "ack", "set", "get", "test alert", "list opstatus ,,, ,", "disable"} {
		got := c.Do(l)
		if final := got[len(got)-1]; !strings.HasPrefix(final, "5") {
			t.Errorf("%q: %q, want a 5xx reply", l, got)
		}
		expect(t, c.Do("version"), "version 9745", "220 version completed")
	}
}

// TestOversizedLine: a line longer than MaxLine gets one 520 and the
// rest of it is skipped; the next line is served normally.
func TestOversizedLine(t *testing.T) {
	r := startWith(t, server.Options{MaxLine: 1024})
	c := r.Dial(t)
	c.Send("list " + strings.Repeat("x", 100<<10) + "\nversion\n")
	expect(t, c.Reply(), "520 request line longer than 1024 bytes")
	expect(t, c.Reply(), "version 9745", "220 version completed")
	expect(t, c.Do("list state"), "scheduler running", "220 list state completed")
	// Exactly MaxLine bytes is still a line.
	expect(t, c.Do("list group "+strings.Repeat("g", 1024-len("list group "))), "520 list group error, undefined group")
}

// TestPipelined: several commands in one write are all answered, in
// order (Q-PRO-1: mon answers only the first until more I/O happens).
func TestPipelined(t *testing.T) {
	r := startWith(t, server.Options{})
	c := r.Dial(t)
	c.Send("version\nlist group g1\r\nprotid 9745\rlist views\n\nfrobnicate\nquit\n")
	expect(t, c.Reply(), "version 9745", "220 version completed")
	expect(t, c.Reply(), "hostgroup g1 h1 h2 h3", "220 list group completed")
	expect(t, c.Reply(), "220 protocol match")
	expect(t, c.Reply(), "views v1", "220 list group completed")
	// The empty line directly after a line end in the same data is
	// swallowed, as in mon: the next reply is frobnicate's.
	expect(t, c.Reply(), "520 invalid command")
	expect(t, c.Reply(), "220 quitting")
	expectClosed(t, c.Conn)
}

// TestSlowReaderDoesNotBlock: a client that sends many requests and
// never reads its replies stalls only itself; other clients and the
// scheduler keep going.
func TestSlowReaderDoesNotBlock(t *testing.T) {
	r := startTestServer(t, servertest.OpenAuth)
	// More stuck clients than the server handles requests at once.
	for range runtime.GOMAXPROCS(0) + 2 {
		stuck, err := net.Dial("tcp4", r.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer stuck.Close()
		go func() {
			req := []byte(strings.Repeat("list opstatus\n", 1000))
			for {
				if _, err := stuck.Write(req); err != nil {
					return
				}
			}
		}()
	}
	// Sleep: nothing reports that the server's writes to the stuck
	// clients have blocked (the kernel fills the socket buffers without
	// telling anyone); 300 ms is ample for it to happen.
	time.Sleep(300 * time.Millisecond)
	for i := 0; i < 3; i++ {
		c := r.Dial(t)
		expect(t, c.Do("list state"), "scheduler running", "220 list state completed")
		expect(t, c.Do("test monitor g1 s1"), "220 test monitor completed")
		c.Close()
	}
	r.Await(t, "a run of g1/s1 while clients are stuck", func() bool {
		st, err := r.Sched.StatusOf("g1", "s1")
		if err != nil {
			t.Fatal(err)
		}
		return st.State.LastSuccess != 0
	})
}

// TestCLTimeout: an idle connection is closed silently after cltimeout;
// a connection that keeps talking is not, though it is older.
func TestCLTimeout(t *testing.T) {
	const timeout = 2 * time.Second
	r := startWith(t, server.Options{CLTimeout: timeout})
	idle := r.Dial(t)
	busy := r.Dial(t)
	opened := time.Now()
	closed := make(chan error, 1)
	go func() {
		idle.Conn.SetReadDeadline(time.Now().Add(servertest.Timeout))
		n, err := idle.Conn.Read(make([]byte, 64))
		if err == nil {
			err = fmt.Errorf("read %d bytes", n)
		} else if errors.Is(err, io.EOF) {
			err = nil
		}
		closed <- err
	}()
	// The busy client talks until the idle one is closed, pausing at
	// most 100 ms between requests: far inside the timeout even on a
	// loaded machine.
	for done := false; !done; {
		expect(t, busy.Do("version"), "version 9745", "220 version completed")
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("idle connection: %v, want it closed without a word", err)
			}
			if age := time.Since(opened); age < timeout {
				t.Errorf("idle connection closed after %v, before cltimeout %v", age, timeout)
			}
			done = true
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Older than cltimeout now, the busy connection is still served.
	expect(t, busy.Do("version"), "version 9745", "220 version completed")
}

// TestMaxClients: when MaxClients connections are open, a new client
// takes the place of the one idle longest, which is closed.
func TestMaxClients(t *testing.T) {
	r := startWith(t, server.Options{MaxClients: 2})
	a, b := r.Dial(t), r.Dial(t)
	expect(t, a.Do("version"), "version 9745", "220 version completed")
	expect(t, b.Do("version"), "version 9745", "220 version completed")
	third := r.Dial(t)
	expect(t, third.Do("version"), "version 9745", "220 version completed")
	expectClosed(t, a.Conn)
	expect(t, b.Do("version"), "version 9745", "220 version completed")
}

// TestIdleFloodDoesNotLockOut: 1,000 idle connections, some of them in
// the middle of a request line that never ends, do not keep an operator
// out: the next client is served at once.
func TestIdleFloodDoesNotLockOut(t *testing.T) {
	r := startWith(t, server.Options{})
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for i := range 1000 {
		c, err := net.Dial("tcp4", r.Addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 0 {
			io.WriteString(c, "list opst") // a slow client: no line end
		}
		flood = append(flood, c)
	}
	c := r.Dial(t)
	start := time.Now()
	expect(t, c.Do("version"), "version 9745", "220 version completed")
	t.Logf("served in %v with 1,000 idle connections open", time.Since(start))
}

// TestClientAllow: clientallow patterns (protocol.md §1.2) are anchored
// regular expressions in which a bare '.' is a literal dot; refused
// clients are closed without a word.
func TestClientAllow(t *testing.T) {
	cases := []struct {
		allow []string
		ok    bool
	}{
		{nil, true},                   // default: any IPv4 client
		{[]string{"127.0.0.1"}, true}, // literal
		{[]string{"10.1.2.\\d+", "127.0.0.\\d+"}, true},
		{[]string{"127.0.0.[0-9]+"}, true},
		{[]string{"10.1.2.\\d+"}, false},
		{[]string{"127.0.0.1\\d"}, false},   // anchored at the end
		{[]string{"27.0.0.1"}, false},       // anchored at the start
		{[]string{"127.0.0.11"}, false},     // no prefix match
		{[]string{"127.0.0.."}, false},      // '.' is a literal dot
		{[]string{".*"}, false},             // becomes \.*, as in mon
		{[]string{"127\\.0\\.0\\.1"}, true}, // escaped dots stay escaped
		{[]string{"127[.]0[.]0[.]1"}, true}, // so do dots in brackets
	}
	for _, c := range cases {
		r := startWith(t, server.Options{ClientAllow: c.allow})
		conn := r.Dial(t)
		if c.ok {
			expect(t, conn.Do("version"), "version 9745", "220 version completed")
		} else {
			expectClosed(t, conn.Conn)
		}
	}
	// From mon.cf, as the daemon passes it.
	r := servertest.Start(t, servertest.Config{MonCF: "clientallow = 10.0.0.1 127.0.0.\\d+\n\n" + testCF,
		Files: map[string]string{"users": users}, Scripts: testScripts})
	expect(t, r.Dial(t).Do("version"), "version 9745", "220 version completed")
	r = servertest.Start(t, servertest.Config{MonCF: "clientallow = 10.0.0.1\n\n" + testCF,
		Files: map[string]string{"users": users}, Scripts: testScripts})
	expectClosed(t, r.Dial(t).Conn)
}

// TestBadClientAllow: an invalid pattern is an error from New, not a
// panic or a silently open server.
func TestBadClientAllow(t *testing.T) {
	if _, err := server.New(nil, nil, nil, server.Options{ClientAllow: []string{"(unclosed"}}); err == nil {
		t.Fatal("New accepted clientallow (unclosed")
	}
}
