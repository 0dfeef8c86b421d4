package monitors

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// httpServer serves h on 127.0.0.1:0 and returns its port.
func httpServer(t testing.TB, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u.Port()
}

// fixedHeaders makes responses deterministic for output comparison.
func fixedHeaders(w http.ResponseWriter) {
	w.Header()["Date"] = nil
	w.Header().Set("Content-Type", "text/plain")
}

func testMux() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fixedHeaders(w)
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, "hello world\n")
		case "/auth":
			w.WriteHeader(401)
		case "/moved":
			http.Redirect(w, r, "/missing", http.StatusFound)
		case "/echo":
			fmt.Fprintf(w, "host=%s agent=%s\n", r.Host, r.UserAgent())
		case "/slow":
			<-r.Context().Done()
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, "not here\n")
		}
	}
}

func TestHTTPOK(t *testing.T) {
	port := httpServer(t, testMux())
	out, code := dropIn(t, "http.monitor", "-p", port, "127.0.0.1")
	want := "\nHOST 127.0.0.1: ok\nHTTP/1.1 200 OK\nContent-Length: 12\nContent-Type: text/plain\n\n"
	if out != want || code != 0 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
	if out, code := dropIn(t, "http.monitor", "-o", "-p", port, "127.0.0.1"); out != "\n" || code != 0 {
		t.Errorf("-o: exit %d output %q", code, out)
	}
	// 401 and a 302 that is not followed are fine for the script.
	for _, path := range []string{"/auth", "/moved"} {
		if out, code := dropIn(t, "http.monitor", "-p", port, "-u", path, "127.0.0.1"); code != 0 {
			t.Errorf("%s: exit %d output %q", path, code, out)
		}
	}
}

func TestHTTPStatusFailure(t *testing.T) {
	port := httpServer(t, testMux())
	down := closedPort(t)
	m, err := newHTTP([]string{"-p", port, "-u", "/nothing"})
	if err != nil {
		t.Fatal(err)
	}
	res := m.Check(context.Background(), Request{Hosts: []string{"localhost", "127.0.0.1"}})
	want := "127.0.0.1 localhost\n" +
		"HOST 127.0.0.1: HTTP response code failure\nHTTP/1.1 404 Not Found\nContent-Length: 9\nContent-Type: text/plain\n\n" +
		"HOST localhost: HTTP response code failure\nHTTP/1.1 404 Not Found\nContent-Length: 9\nContent-Type: text/plain\n\n"
	if string(res.Output) != want || res.Exit != 1 {
		t.Errorf("exit %d output %q, want %q", res.Exit, res.Output, want)
	}
	if len(res.Hosts) != 2 || res.Hosts[0].OK || res.Hosts[0].Detail != "HTTP response code failure" {
		t.Errorf("hosts %+v", res.Hosts)
	}

	// Q-MON-5: the real connect error is reported.
	out, code := dropIn(t, "http.monitor", "-p", down, "127.0.0.1")
	if want := "127.0.0.1\nHOST 127.0.0.1: connect: Connection refused\n\n"; out != want || code != 1 {
		t.Errorf("refused: exit %d output %q, want %q", code, out, want)
	}
}

func TestHTTPTimeout(t *testing.T) {
	port := httpServer(t, testMux())
	out, code := dropIn(t, "http.monitor", "-p", port, "-t", "0.5", "-u", "/slow", "127.0.0.1")
	if want := "127.0.0.1\nHOST 127.0.0.1: timeout after 0.5 seconds\n\n"; out != want || code != 1 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
}

func TestHTTPMatching(t *testing.T) {
	port := httpServer(t, testMux())
	cases := []struct {
		args []string
		ok   bool
		err  string
	}{
		{[]string{"-m", "hello.world"}, true, ""},
		{[]string{"-m", "Content-Type: text/plain\r\n.*hello"}, true, ""},
		{[]string{"-m", "goodbye"}, false, "Regex match failed"},
		{[]string{"-u", "/nothing", "-m", "not here"}, true, ""}, // -m replaces the status check
		{[]string{"-r", "^hel+o"}, true, ""},
		{[]string{"-r", "^world"}, false, "body does not match /^world/"},
		{[]string{"-b", "lo wo"}, true, ""},
		{[]string{"-b", "bye"}, false, `body does not contain "bye"`},
		{[]string{"-u", "/nothing", "-c", "404"}, true, ""},
		{[]string{"-c", "201-299"}, false, "HTTP response code failure"},
		{[]string{"-u", "/moved", "-f"}, false, "HTTP response code failure"},
		{[]string{"-u", "/echo", "-H", "www.example.org", "-a", "probe/1", "-b", "host=www.example.org agent=probe/1"}, true, ""},
		{[]string{"-u", "/echo", "-b", "host=127.0.0.1 agent=mon.d/http.monitor"}, true, ""},
	}
	for _, c := range cases {
		m, err := newHTTP(append([]string{"-p", port}, c.args...))
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		res := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}})
		h := res.Hosts[0]
		if h.OK != c.ok || (!c.ok && h.Detail != c.err) {
			t.Errorf("%q: ok %v detail %q, want %v %q", c.args, h.OK, h.Detail, c.ok, c.err)
		}
	}
}

func TestHTTPBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-z"}, {"-m", "("}, {"-c", "abc"}, {"-c", "300-200"}, {"-C", "5"}, {"-s", "-C", "x"}, {"-t"}} {
		if _, err := newHTTP(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// selfSigned makes a certificate for 127.0.0.1 valid for the given time.
func selfSigned(t testing.TB, validFor time.Duration) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "gomon test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(validFor),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"www.example.org"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewUnstartedServer(testMux())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // failed handshakes are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t, 5*24*time.Hour)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	port := u.Port()

	cases := []struct {
		args []string
		ok   bool
		err  string
	}{
		{[]string{"-s", "-k"}, true, ""},
		{[]string{"-s", "-k", "-C", "3"}, true, ""},
		{[]string{"-s", "-k", "-C", "10"}, false, "certificate expires in 4 days"},
		{[]string{"-s", "-k", "-H", "www.example.org", "-C", "30"}, false, "certificate expires in 4 days"},
		{[]string{"-s"}, false, "certificate signed by unknown authority"},
		{nil, false, ""}, // plain HTTP to a TLS port
	}
	for _, c := range cases {
		m, err := newHTTP(append([]string{"-p", port}, c.args...))
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		h := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}}).Hosts[0]
		if h.OK != c.ok || !strings.Contains(h.Detail, c.err) {
			t.Errorf("%q: ok %v detail %q, want %v %q", c.args, h.OK, h.Detail, c.ok, c.err)
		}
	}
}

func TestHTTPMatchesPerl(t *testing.T) {
	port := httpServer(t, testMux())
	down := closedPort(t)
	// Whole output where both are deterministic (a good host and -o).
	args := []string{"-o", "-p", port, "127.0.0.1", "localhost"}
	want, wantCode := perlOriginal(t, "http.monitor", args...)
	if got, code := dropIn(t, "http.monitor", args...); got != want || code != wantCode {
		t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
	}
	// Summary line and the first detail line for failures; the connect
	// error text differs on purpose (Q-MON-5).
	for _, args := range [][]string{
		{"-p", port, "-u", "/nothing", "127.0.0.1", "localhost"},
		{"-p", port, "-m", "absent", "127.0.0.1"},
		{"-p", down, "127.0.0.1"},
	} {
		want, wantCode := perlOriginal(t, "http.monitor", args...)
		got, code := dropIn(t, "http.monitor", args...)
		if firstLine(got) != firstLine(want) || code != wantCode {
			t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
		}
		if args[1] != down && !slices.Equal(hostLines(got), hostLines(want)) {
			t.Errorf("%q: detail %q, perl %q", args, hostLines(got), hostLines(want))
		}
	}
}

// hostLines returns the sorted "HOST h: ..." lines (Perl prints them in
// hash order).
func hostLines(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "HOST ") {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func BenchmarkHTTPCheck(b *testing.B) {
	// A minimal server, so that the measurement is mostly the checker.
	port := serveTCP(b, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	benchHostChecks(b, newHTTP, port)
}

// The request written without building a Request per check is the one
// net/http writes, byte for byte.
func TestHTTPRequestBytes(t *testing.T) {
	for _, tc := range []struct{ path, host, agent string }{
		{"/", "127.0.0.1", "mon.d/http.monitor"},
		{"/a b/ü?x=1&y=%20#frag", "www.example.com:8080", "agent with spaces"},
		{"/index.html", "[::1]:80", "a"},
		{"/", "::1", "mon.d/http.monitor"},
		{"/", "host name", "x"},      // net/http cuts the host at the space
		{"/", "bücher.example", "x"}, // and writes it as punycode
		{"/", "h", "bad\r\nagent"},
	} {
		m := &httpMonitor{path: tc.path, agent: tc.agent}
		m.getReq, _ = http.NewRequest(http.MethodGet, m.path, nil)
		m.getURI = m.getReq.URL.RequestURI()
		var got, want bytes.Buffer
		if _, err := m.request(&got, tc.path, tc.host); err != nil {
			t.Errorf("%+v: %v", tc, err)
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, tc.path, nil)
		req.Host = tc.host
		req.Header.Set("User-Agent", tc.agent)
		req.Close = true
		req.Write(&want)
		if got.String() != want.String() {
			t.Errorf("%+v:\n%q\nwant\n%q", tc, got.String(), want.String())
		}
	}
}
