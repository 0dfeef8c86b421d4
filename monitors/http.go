package monitors

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// http.monitor: GET a path from every host. OK iff the status is 200,
// 301, 302 or 401, or, with -m, iff the whole response matches a regex.
// gomon adds HTTPS and ldirectord-style checks (see httpUsage).

const httpUsage = "http.monitor [-p port] [-t secs] [-u path] [-a agent] [-m regex] [-o]" +
	" [-s] [-k] [-C days] [-c codes] [-r regex] [-b substring] [-H host] [-f] host [host...]"

// httpMaxBody bounds how much of a response is read for matching.
const httpMaxBody = 1 << 20

type httpMonitor struct {
	port       string
	timeout    time.Duration
	path       string
	agent      string
	match      *regexp.Regexp // -m: whole response, replaces the status check
	omitGood   bool           // -o
	tls        bool           // -s
	insecure   bool           // -k
	certDays   int            // -C: 0 = no expiry check
	codes      []codeRange    // -c, else 200 301 302 401
	bodyRegex  *regexp.Regexp // -r
	bodyString string         // -b
	hostHeader string         // -H
	follow     bool           // -f
	// getReq is the request for path, made once: what http.ReadResponse
	// reads of it (the method) never changes (see request).
	getReq *http.Request
	getURI string // getReq's request URI
}

type codeRange struct{ lo, hi int }

var defaultHTTPCodes = []codeRange{{200, 200}, {301, 302}, {401, 401}}

func newHTTP(args []string) (Monitor, error) {
	opts, rest, err := perlGetopts("p:t:u:a:m:osc:r:b:H:kC:f", args)
	if err != nil {
		return nil, err
	}
	m := &httpMonitor{
		path:       opts['u'],
		agent:      opts['a'],
		omitGood:   opts['o'] != "",
		tls:        opts['s'] != "",
		insecure:   opts['k'] != "",
		bodyString: opts['b'],
		hostHeader: opts['H'],
		follow:     opts['f'] != "",
		codes:      defaultHTTPCodes,
	}
	if m.path == "" {
		m.path = "/"
	}
	if m.agent == "" {
		m.agent = "mon.d/http.monitor"
	}
	// A path net/http cannot parse fails each check, as it always did.
	if m.getReq, _ = http.NewRequest(http.MethodGet, m.path, nil); m.getReq != nil {
		m.getURI = m.getReq.URL.RequestURI()
	}
	defPort := "80"
	if m.tls {
		defPort = "443"
	}
	if m.port, err = portOpt(opts, 'p', defPort); err != nil {
		return nil, err
	}
	if m.timeout, err = secondsOpt(opts, 't', 30*time.Second); err != nil {
		return nil, err
	}
	// Perl's /$MATCHRE/s: "." matches newlines too.
	if m.match, err = optRegexp(opts, 'm', "(?s)"); err != nil {
		return nil, err
	}
	if m.bodyRegex, err = optRegexp(opts, 'r', ""); err != nil {
		return nil, err
	}
	if c, ok := opts['c']; ok {
		if m.codes, err = parseCodes(c); err != nil {
			return nil, err
		}
	}
	if c, ok := opts['C']; ok {
		if m.certDays, err = strconv.Atoi(c); err != nil || m.certDays < 0 {
			return nil, fmt.Errorf("-C %q: not a number of days", c)
		}
		if !m.tls {
			return nil, errors.New("-C needs -s")
		}
	}
	return withHostArgs(m, rest), nil
}

func optRegexp(opts map[byte]string, flag byte, prefix string) (*regexp.Regexp, error) {
	v, ok := opts[flag]
	if !ok || v == "" {
		return nil, nil
	}
	re, err := regexp.Compile(prefix + v)
	if err != nil {
		return nil, fmt.Errorf("-%c: %w", flag, err)
	}
	return re, nil
}

// parseCodes parses "200,301-302,401".
func parseCodes(s string) ([]codeRange, error) {
	var codes []codeRange
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			hi = lo
		}
		l, err1 := strconv.Atoi(lo)
		h, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || l < 100 || h > 999 || l > h {
			return nil, fmt.Errorf("-c %q: want status codes like 200,301-302", s)
		}
		codes = append(codes, codeRange{l, h})
	}
	return codes, nil
}

// httpReply is what one host's check found.
type httpReply struct {
	host   string
	ok     bool
	err    string // failure text after "HOST h: "
	header string // status line and headers, "" if none arrived
	rtt    time.Duration
}

func (m *httpMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	replies := checkRun(ctx, req, m.timeout, m.check)
	res := Result{Duration: time.Since(start), Hosts: make([]HostResult, len(replies))}
	for i, r := range replies {
		detail := "ok"
		if !r.ok {
			detail = r.err
		}
		res.Hosts[i] = HostResult{Host: r.host, OK: r.ok, Detail: detail, RTT: r.rtt}
	}
	if len(replies) == 0 {
		return res // the script exits silently without hosts
	}
	res.Exit = exitFor(res.Hosts)
	res.Output = []byte(m.report(replies, res.Hosts))
	return res
}

// report formats like the script: summary, failed hosts, then (unless
// -o) good hosts, each with its response header. The script walks Perl
// hashes (random order); we sort.
func (m *httpMonitor) report(replies []httpReply, hosts []HostResult) string {
	sorted := append([]httpReply(nil), replies...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].host < sorted[j].host })
	var b strings.Builder
	b.WriteString(strings.Join(failedHosts(hosts), " ") + "\n")
	for _, r := range sorted {
		if r.ok {
			continue
		}
		b.WriteString("HOST " + r.host + ": " + r.err + "\n")
		if r.header != "" {
			b.WriteString(r.header + "\n")
		}
		b.WriteString("\n")
	}
	if !m.omitGood {
		for _, r := range sorted {
			if r.ok {
				b.WriteString("HOST " + r.host + ": ok\n" + r.header + "\n\n")
			}
		}
	}
	return b.String()
}

func (m *httpMonitor) check(ctx context.Context, host string) httpReply {
	start := time.Now()
	reply := httpReply{host: host}
	resp, body, err := m.get(ctx, host)
	reply.rtt = time.Since(start)
	if resp == nil {
		reply.err = m.errorText(err)
		return reply
	}
	// Like the script, judge what arrived even if the body was cut short;
	// only a response that fails is blamed on the error.
	reply.header = responseHeader(resp)
	reply.ok, reply.err = m.judge(resp, body)
	if !reply.ok && err != nil {
		reply.err = m.errorText(err)
	}
	return reply
}

// get performs the request against host (the connect address) and reads
// up to httpMaxBody of the body.
func (m *httpMonitor) get(ctx context.Context, host string) (*http.Response, []byte, error) {
	path := m.path
	for redirects := 0; ; redirects++ {
		resp, body, err := m.fetch(ctx, host, path)
		if err != nil || !m.follow || redirects == httpMaxRedirects {
			return resp, body, err
		}
		loc, lerr := resp.Location()
		if lerr != nil || resp.StatusCode < 300 || resp.StatusCode > 399 {
			return resp, body, err
		}
		// The host is the address under test, so a redirect is followed
		// on the same server: only its path counts.
		path = loc.RequestURI()
	}
}

// httpMaxRedirects is how many redirects -f follows.
const httpMaxRedirects = 10

// fetch makes one request on a fresh connection to host (the connect
// address, as with the script: no proxy, no connection reuse) and reads
// up to httpMaxBody of the body. resp.TLS is set for HTTPS.
func (m *httpMonitor) fetch(ctx context.Context, host, path string) (*http.Response, []byte, error) {
	conn, err := dialTCP(ctx, host, m.port)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	// Like the script: Host is the bare host name, no port.
	hostHeader := host
	if m.hostHeader != "" {
		hostHeader = m.hostHeader
	}
	var state *tls.ConnectionState
	if m.tls {
		serverName, _, _ := strings.Cut(hostHeader, ":")
		tc := tls.Client(conn, &tls.Config{ServerName: serverName, InsecureSkipVerify: m.insecure})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, err
		}
		cs := tc.ConnectionState()
		state, conn = &cs, tc
	}
	b := httpBuffers.Get().(*httpBuffer)
	defer b.put() // after the body is closed, deferred below
	req, err := m.request(&b.req, path, hostHeader)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.Write(b.req.Bytes()); err != nil {
		return nil, nil, err
	}
	// Headers are bounded like the body.
	b.limit = io.LimitedReader{R: conn, N: 2 * httpMaxBody}
	b.r.Reset(&b.limit)
	resp, err := http.ReadResponse(b.r, req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	resp.TLS = state
	body, err := io.ReadAll(io.LimitReader(resp.Body, httpMaxBody))
	return resp, body, err
}

// request renders the request for path into buf, rendered first and
// written at once (as through req.Write's own bufio.Writer, which would
// take 4 KiB per check), and returns it for http.ReadResponse. The usual
// one, the configured path with a plain host and agent, is written from
// m.getReq without building a Request per check: the same bytes req.Write
// gives (TestHTTPRequestBytes), for a fifth fewer allocations a check.
func (m *httpMonitor) request(buf *bytes.Buffer, path, host string) (*http.Request, error) {
	if m.getReq != nil && path == m.path && plainHeader(host, " /") && plainHeader(m.agent, "") {
		buf.WriteString("GET " + m.getURI + " HTTP/1.1\r\nHost: " + host +
			"\r\nUser-Agent: " + m.agent + "\r\nConnection: close\r\n\r\n")
		return m.getReq, nil
	}
	req, err := http.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = host
	req.Header.Set("User-Agent", m.agent)
	req.Close = true
	return req, req.Write(buf)
}

// plainHeader reports whether v is non-empty printable ASCII without
// any of not, so that net/http would write it as it is.
func plainHeader(v, not string) bool {
	for i := range len(v) {
		if c := v[i]; c < ' ' || c >= 0x7f || strings.IndexByte(not, c) >= 0 {
			return false
		}
	}
	return v != ""
}

// httpBuffer is what one fetch reads and writes through. At thousands of
// checks a second, fresh ones (a 4 KiB reader per check) were most of
// the garbage an http check made. What fetch returns is copied out of
// them.
type httpBuffer struct {
	req   bytes.Buffer
	limit io.LimitedReader
	r     *bufio.Reader
}

var httpBuffers = sync.Pool{New: func() any { return &httpBuffer{r: bufio.NewReader(nil)} }}

// put empties b, so that it keeps no connection, and recycles it.
func (b *httpBuffer) put() {
	b.req.Reset()
	b.limit = io.LimitedReader{}
	b.r.Reset(nil)
	httpBuffers.Put(b)
}

// judge applies the checks to a response that arrived.
func (m *httpMonitor) judge(resp *http.Response, body []byte) (bool, string) {
	if m.match != nil {
		whole := append([]byte(wireHeader(resp)+"\r\n\r\n"), body...)
		if !m.match.Match(whole) {
			return false, "Regex match failed"
		}
	} else if !m.statusOK(resp.StatusCode) {
		return false, "HTTP response code failure"
	}
	if m.bodyRegex != nil && !m.bodyRegex.Match(body) {
		return false, fmt.Sprintf("body does not match /%s/", m.bodyRegex)
	}
	if m.bodyString != "" && !bytes.Contains(body, []byte(m.bodyString)) {
		return false, fmt.Sprintf("body does not contain %q", m.bodyString)
	}
	if m.certDays > 0 && resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		cert := resp.TLS.PeerCertificates[0]
		if left := time.Until(cert.NotAfter); left < time.Duration(m.certDays)*24*time.Hour {
			return false, fmt.Sprintf("certificate expires in %d days (%s)",
				int(left.Hours()/24), cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return true, ""
}

func (m *httpMonitor) statusOK(code int) bool {
	for _, c := range m.codes {
		if code >= c.lo && code <= c.hi {
			return true
		}
	}
	return false
}

// errorText explains a request that produced no response. The script
// says "HTTP response code failure" for connect errors too (Q-MON-5); we
// give the real reason.
func (m *httpMonitor) errorText(err error) string {
	if isTimeout(err) {
		return "timeout after " + secondsText(m.timeout) + " seconds"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		if isNotFound(err) {
			return "gethostbyname failure"
		}
		return "connect: " + errText(err)
	}
	return errText(err)
}

// responseHeader renders the status line and headers one per line, as
// the script prints the header block. Header order on the wire is not
// kept by net/http; we sort.
func responseHeader(resp *http.Response) string {
	return strings.ReplaceAll(wireHeader(resp), "\r\n", "\n")
}

// wireHeader renders the header block with CRLF line ends (no final
// empty line), close to what was received.
func wireHeader(resp *http.Response) string {
	var b strings.Builder
	b.WriteString(resp.Proto + " " + resp.Status)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			b.WriteString("\r\n" + k + ": " + v)
		}
	}
	return b.String()
}

func init() {
	Register(&Builtin{Name: "http", Aliases: []string{"http.monitor"}, Usage: httpUsage, New: newHTTP})
}

func (*httpMonitor) shareable() {}
func (*httpMonitor) hostsOnly() {}
