package monitors

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Test helpers for the network built-ins: tiny real servers on
// 127.0.0.1:0, closed ports, and the Perl originals for comparison.

// serveTCP accepts connections on 127.0.0.1:0 and runs handle for each
// until the test ends. It returns the port.
func serveTCP(t testing.TB, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		wg.Wait()
	})
	return portOf(ln.Addr())
}

func portOf(a net.Addr) string { return strconv.Itoa(a.(*net.TCPAddr).Port) }

// closedPort returns a port on 127.0.0.1 that refuses connections.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := portOf(ln.Addr())
	ln.Close()
	return port
}

// lineServer is a scripted line-protocol peer: it sends greeting, then
// answers each line it reads with replies[command] (matched on the
// upper-cased first word), closing after "QUIT"/"LOGOUT"-style commands
// listed in closeAfter. Unknown commands get unknown.
type lineServer struct {
	greeting   string
	replies    map[string]string
	unknown    string
	closeAfter map[string]bool
	mu         sync.Mutex
	got        []string // lines received, for assertions
}

func (s *lineServer) handle(c net.Conn) {
	if s.greeting != "" {
		c.Write([]byte(s.greeting))
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		s.mu.Lock()
		s.got = append(s.got, line)
		s.mu.Unlock()
		word, _, _ := strings.Cut(line, " ")
		if tag, rest, ok := strings.Cut(line, " "); ok && strings.HasPrefix(tag, "A") {
			word, _, _ = strings.Cut(rest, " ") // IMAP: tag first
		}
		word = strings.ToUpper(word)
		reply, ok := s.replies[word]
		if !ok {
			reply = s.unknown
		}
		c.Write([]byte(reply))
		if s.closeAfter[word] {
			return
		}
	}
}

func (s *lineServer) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// silentServer accepts and never says anything (for timeouts); it
// hangs up when the client does.
func silentServer(t testing.TB) string {
	t.Helper()
	return serveTCP(t, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// dropIn runs a built-in the way the drop-in binary does.
func dropIn(t testing.TB, name string, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := RunDropIn(name, args, &out, &errb)
	if errb.Len() > 0 {
		t.Logf("%s stderr: %s", name, errb.String())
	}
	return out.String(), code
}

// perlOriginal runs the installed Perl script, or skips the test.
func perlOriginal(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	path := "/usr/lib/mon/mon.d/" + name
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not installed", path)
	}
	cmd := exec.Command(path, args...)
	out, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}
