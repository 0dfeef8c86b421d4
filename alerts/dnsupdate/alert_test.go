package dnsupdate

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/testdns"
	"github.com/gomon/gomon/scheduler/decide"
	"github.com/miekg/dns"
)

var (
	addr2 = netip.MustParseAddr("127.0.0.2")
	addr3 = netip.MustParseAddr("127.0.0.3")
	v6a   = netip.MustParseAddr("2001:db8::a")
	v6b   = netip.MustParseAddr("2001:db8::b")
)

// startZone starts a real named with www.example.test on 127.0.0.2 and
// 127.0.0.3 and v6.example.test on 2001:db8::a and ::b.
func startZone(t *testing.T) *testdns.Server {
	return testdns.Start(t, "example.test",
		"www IN A 127.0.0.2", "www IN A 127.0.0.3",
		"v6 IN AAAA 2001:db8::a", "v6 IN AAAA 2001:db8::b")
}

// newAlert parses args plus the server and its key; the alert's log
// goes to the returned builder.
func newAlert(t *testing.T, srv *testdns.Server, args ...string) (*Alert, *strings.Builder) {
	t.Helper()
	a, err := Parse(append([]string{"-Z", "example.test", "-S", srv.Addr, "-K", srv.KeyFile}, args...))
	if err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	a.Log = slog.New(slog.NewTextHandler(&log, nil))
	return a, &log
}

func event(typ decide.AlertType, summary string) alerts.Event {
	return alerts.Event{Group: "web", Service: "http", Type: typ, Hosts: []string{"127.0.0.2", "127.0.0.3"},
		Input: []byte(summary + "\ndetail\n")}
}

func send(t *testing.T, a *Alert, ev alerts.Event) {
	t.Helper()
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

func checkAddrs(t *testing.T, srv *testdns.Server, name string, want ...netip.Addr) {
	t.Helper()
	if got := srv.Addrs(t, name); !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", name, got, want)
	}
}

// A failure deletes the server's record and leaves the other; an upalert
// adds it back with -T's TTL. Each is idempotent: repeating it succeeds
// and changes nothing.
func TestSendDeletesAndAdds(t *testing.T) {
	srv := startZone(t)
	a, log := newAlert(t, srv, "-N", "www", "-A", "127.0.0.2", "-T", "30")
	for range 2 {
		send(t, a, event(decide.FailureAlert, "127.0.0.2"))
		checkAddrs(t, srv, "www", addr3)
	}
	for range 2 {
		send(t, a, event(decide.UpAlert, "127.0.0.2"))
		checkAddrs(t, srv, "www", addr2, addr3)
	}
	if ttl := srv.TTL(t, "www", dns.TypeA); ttl != 30 {
		t.Errorf("TTL %d, want 30", ttl)
	}
	// Ack, disable and startup alerts change nothing.
	for _, typ := range []decide.AlertType{decide.AckAlert, decide.DisableAlert, decide.StartupAlert} {
		send(t, a, event(typ, "127.0.0.2"))
	}
	checkAddrs(t, srv, "www", addr2, addr3)
	// Only the two real changes are logged, never the secret.
	if n := strings.Count(log.String(), "msg=\"dnsupdate alert\""); n != 2 {
		t.Errorf("%d changes logged, want 2:\n%s", n, log)
	}
	if strings.Contains(log.String(), srv.Secret) {
		t.Errorf("the secret is in the log:\n%s", log)
	}
}

// Without -A the failing hosts are the summary's words that are group
// members; AAAA records are kept the same way.
func TestSendFailingHostsAndAAAA(t *testing.T) {
	srv := startZone(t)
	a, _ := newAlert(t, srv, "-N", "www.example.test.")
	send(t, a, event(decide.FailureAlert, "127.0.0.3 127.0.0.9 timeout"))
	checkAddrs(t, srv, "www", addr2)
	send(t, a, event(decide.UpAlert, "127.0.0.3"))
	checkAddrs(t, srv, "www", addr2, addr3)
	if err := a.Send(context.Background(), event(decide.FailureAlert, "connection refused")); err == nil ||
		!strings.Contains(err.Error(), "no group member") {
		t.Errorf("a summary naming no member: %v", err)
	}

	v6, _ := newAlert(t, srv, "-N", "v6", "-A", "2001:db8::b")
	send(t, v6, event(decide.FailureAlert, "x"))
	checkAddrs(t, srv, "v6", v6a)
	send(t, v6, event(decide.UpAlert, "x"))
	checkAddrs(t, srv, "v6", v6a, v6b)
}

// A wrong key fails with the server's reason and changes nothing.
func TestSendWrongKey(t *testing.T) {
	srv := startZone(t)
	other := base64.StdEncoding.EncodeToString([]byte("not the key at all, not the key!"))
	for _, tc := range []struct{ key, why string }{
		{"gomon-key:" + other, "refused TSIG key gomon-key: BADSIG"},
		{"hmac-sha512:other-key:" + other, "refused TSIG key other-key: BADKEY"},
	} {
		a, err := Parse([]string{"-Z", "example.test", "-N", "www", "-A", "127.0.0.2", "-S", srv.Addr, "-k", tc.key})
		if err != nil {
			t.Fatal(err)
		}
		err = a.Send(context.Background(), event(decide.FailureAlert, "127.0.0.2"))
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("-k %s: error %v, want %q", tc.key, err, tc.why)
		} else {
			t.Logf("-k %s: %v", tc.key, err)
		}
		if err != nil && strings.Contains(err.Error(), other) {
			t.Errorf("the secret is in the error: %v", err)
		}
		checkAddrs(t, srv, "www", addr2, addr3)
	}
	// Unsigned: the zone takes updates only with the key.
	a, _ := Parse([]string{"-Z", "example.test", "-N", "www", "-A", "127.0.0.2", "-S", srv.Addr})
	if err := a.Send(context.Background(), event(decide.FailureAlert, "127.0.0.2")); err == nil ||
		!strings.Contains(err.Error(), "REFUSED") {
		t.Errorf("unsigned update: %v, want REFUSED", err)
	}
	checkAddrs(t, srv, "www", addr2, addr3)
}

// The last address stays (with a warning) unless -L.
func TestSendKeepsLastAddress(t *testing.T) {
	srv := startZone(t)
	a2, _ := newAlert(t, srv, "-N", "www", "-A", "127.0.0.2")
	a3, log := newAlert(t, srv, "-N", "www", "-A", "127.0.0.3")
	send(t, a2, event(decide.FailureAlert, "127.0.0.2"))
	send(t, a3, event(decide.FailureAlert, "127.0.0.3"))
	checkAddrs(t, srv, "www", addr3)
	if !strings.Contains(log.String(), "level=WARN") || !strings.Contains(log.String(), "keeping the last address") {
		t.Errorf("no warning:\n%s", log)
	}
	// Both at once: the lowest stays.
	send(t, a2, event(decide.UpAlert, "127.0.0.2"))
	both, _ := newAlert(t, srv, "-N", "www")
	send(t, both, event(decide.FailureAlert, "127.0.0.2 127.0.0.3"))
	checkAddrs(t, srv, "www", addr2)

	empty, _ := newAlert(t, srv, "-N", "www", "-L")
	send(t, empty, event(decide.FailureAlert, "127.0.0.2 127.0.0.3"))
	checkAddrs(t, srv, "www")
	send(t, empty, event(decide.UpAlert, "127.0.0.3"))
	checkAddrs(t, srv, "www", addr3)
}

// Without -S the update goes to the primary the zone's SOA names (here
// ns.example.test, 127.0.0.1, on the test server's port).
func TestSendFindsPrimary(t *testing.T) {
	srv := startZone(t)
	a, err := Parse([]string{"-Z", "example.test", "-N", "www", "-A", "127.0.0.2", "-K", srv.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	a.resolvers = []string{srv.Addr}
	_, a.primaryPort, _ = strings.Cut(srv.Addr, ":")
	send(t, a, event(decide.FailureAlert, "127.0.0.2"))
	checkAddrs(t, srv, "www", addr3)
}

// The built-in runs as the drop-in dnsupdate.alert under mon's argv.
func TestDropIn(t *testing.T) {
	srv := startZone(t)
	var stderr strings.Builder
	args := []string{"-s", "http", "-g", "web", "-h", "127.0.0.2 127.0.0.3", "-t", "0",
		"-Z", "example.test", "-N", "www", "-S", srv.Addr, "-K", srv.KeyFile}
	if code := alerts.RunDropIn("/usr/lib/mon/alert.d/dnsupdate.alert", args, strings.NewReader("127.0.0.3\n"),
		&stderr, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	checkAddrs(t, srv, "www", addr2)
}

func TestParse(t *testing.T) {
	a, err := Parse([]string{"-Z", "Example.Test", "-N", "www", "-A", "::ffff:192.0.2.1", "-k", "gomon:c2VjcmV0"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Zone != "example.test." || a.Name != "www.example.test." || a.Addr != netip.MustParseAddr("192.0.2.1") ||
		a.TTL != 60 || a.Server != "" || a.AllowEmpty || a.Key.Name != "gomon." || a.Key.Algorithm != dns.HmacSHA256 {
		t.Errorf("defaults: %+v %+v", a, a.Key)
	}
	a, err = Parse([]string{"-Z", "example.test.", "-N", "www.example.test", "-S", "[2001:db8::53]", "-T", "5", "-L",
		"-k", "hmac-sha512:k1:c2VjcmV0"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "www.example.test." || a.Server != "[2001:db8::53]:53" || a.TTL != 5 || !a.AllowEmpty ||
		a.Key.Algorithm != dns.HmacSHA512 {
		t.Errorf("parsed %+v %+v", a, a.Key)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-N", "www"}, "-Z ZONE and -N NAME are required"},
		{[]string{"-Z", "example.test"}, "-Z ZONE and -N NAME are required"},
		{[]string{"-Z", "example.test", "-N", "www", "-A", "web1"}, "-A"},
		{[]string{"-Z", "example.test", "-N", "www", "-T", "-1"}, "-T"},
		{[]string{"-Z", "example.test", "-N", "www", "-S", "a b"}, "-S"},
		{[]string{"-Z", "example.test", "-N", "www", "-S", "ns1:domain"}, "-S"},
		{[]string{"-Z", "example.test", "-N", "www", "-k", "k:c2VjcmV0", "-K", "/x"}, "not both"},
		{[]string{"-Z", "example.test", "-N", "www", "-k", "hmac-sha3:k:c2VjcmV0"}, "TSIG algorithm"},
		{[]string{"-Z", "example.test", "-N", "www", "-k", "k:not*base64"}, "not base64"},
		{[]string{"-Z", "example.test", "-N", "www", "-k", "secretonly"}, "[algorithm:]keyname:secret"},
		{[]string{"-Z", "example.test", "-N", "www", "-K", "/nonexistent"}, "-K"},
		{[]string{"-Z", "example.test", "-N", "www", "extra"}, "unexpected argument"},
		{[]string{"-Z", "example.test", "-N", "www", "-S"}, "needs a value"},
	} {
		_, err := Parse(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "not*base64") {
			t.Errorf("%q: the secret is in the error: %v", tc.args, err)
		}
	}
}

// A -k secret is hidden from the scheduler's log line and history.
func TestRedactArgs(t *testing.T) {
	raw := "-Z example.test -N www -k hmac-sha512:k1:c2VjcmV0"
	a, err := Parse(strings.Fields(raw))
	if err != nil {
		t.Fatal(err)
	}
	var r alerts.ArgsRedactor = a
	if got, want := r.RedactArgs(raw), "-Z example.test -N www -k hmac-sha512:k1:(secret)"; got != want {
		t.Errorf("redacted %q, want %q", got, want)
	}
}

// -K reads BIND's key statement (tsig-keygen's output, comments and all)
// and dnssec-keygen's K*.private.
func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path string
		want Key
	}{
		{write("tsig.key", "# made by tsig-keygen\nkey \"Ddns-Key.example\" {\n\talgorithm hmac-sha384; // strong\n\tsecret \"c2VjcmV0\";\n};\n"),
			Key{"ddns-key.example.", dns.HmacSHA384, "c2VjcmV0"}},
		{write("short.key", `key k1 { secret "c2VjcmV0"; algorithm "HMAC-SHA256"; };`),
			Key{"k1.", dns.HmacSHA256, "c2VjcmV0"}},
		// Base64 has "/": "//" inside a secret is not a comment.
		{write("slashes.key", "key \"k2\" { /* made\n by hand */ algorithm hmac-sha256; secret \"ab//cd/e\"; # end\n};\n"),
			Key{"k2.", dns.HmacSHA256, "ab//cd/e"}},
		{write("Kupdate.example.+165+01234.private", "Private-key-format: v1.3\nAlgorithm: 165 (HMAC_SHA512)\nKey: c2VjcmV0\nBits: AAA=\n"),
			Key{"update.example.", dns.HmacSHA512, "c2VjcmV0"}},
	} {
		k, err := readKeyFile(tc.path)
		if err != nil {
			t.Errorf("%s: %v", tc.path, err)
			continue
		}
		if *k != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.path, *k, tc.want)
		}
		var log strings.Builder
		slog.New(slog.NewTextHandler(&log, nil)).Info("x", "key", k)
		if strings.Contains(log.String(), "c2VjcmV0") || !strings.Contains(log.String(), k.Name) {
			t.Errorf("logged key: %s", log.String())
		}
	}
	for _, text := range []string{"", "key \"k\" { algorithm hmac-sha256; };", "key \"k\" { algorithm rot13; secret \"c2VjcmV0\"; };"} {
		if _, err := readKeyFile(write("bad.key", text)); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}

// Both names find the built-in.
func TestRegistered(t *testing.T) {
	b := alerts.Builtins()
	if b.Lookup("dnsupdate") == nil || b.Lookup("dnsupdate.alert") != b.Lookup("dnsupdate") {
		t.Error("dnsupdate and dnsupdate.alert are not the registered built-in")
	}
}
