// Package testdns runs a real BIND named for tests: one primary zone on
// a free 127.0.0.1 port that takes RFC 2136 updates signed with a TSIG
// key, and reads the zone back.
package testdns

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
	"github.com/miekg/dns"
)

// Named is where Debian's bind9 package puts the server.
const Named = "/usr/sbin/named"

// KeyName is the TSIG key the zone accepts updates signed with.
const KeyName = "gomon-key"

// Server is a running named with one dynamic zone.
type Server struct {
	Addr    string // 127.0.0.1:PORT, UDP and TCP
	Port    int
	Zone    string // the zone's name, with the final dot
	Secret  string // the key's secret, base64 (hmac-sha256)
	KeyFile string // the key in BIND's format, as tsig-keygen writes it
	Log     *await.Output
}

// Start starts named serving zone (e.g. "example.test") with an SOA, an
// NS record ns.ZONE, its A record 127.0.0.1, and records (zone-file
// lines, names relative to the zone). It skips the test when named is
// not installed (scripts/install-test-deps.sh installs bind9) and stops
// named when the test ends.
func Start(t testing.TB, zone string, records ...string) *Server {
	t.Helper()
	if _, err := os.Stat(Named); err != nil {
		t.Skipf("no BIND named (%v): install bind9", err)
	}
	dir := t.TempDir()
	secret := make([]byte, 32)
	rand.Read(secret)
	s := &Server{Port: testnet.Port(t), Zone: dns.Fqdn(zone), Secret: base64.StdEncoding.EncodeToString(secret),
		KeyFile: filepath.Join(dir, "gomon.key"), Log: &await.Output{}}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("gomon.key", fmt.Sprintf("key %q {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", KeyName, s.Secret))
	write("zone.db", fmt.Sprintf("$TTL 60\n@ IN SOA ns.%[1]s admin.%[1]s 1 3600 600 86400 60\n@ IN NS ns.%[1]s\nns IN A 127.0.0.1\n%s\n",
		s.Zone, strings.Join(records, "\n")))
	// The zone file's directory must be writable: named keeps the
	// updates' journal beside it.
	write("named.conf", fmt.Sprintf(`include "%[1]s/gomon.key";
options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	listen-on port %[2]d { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
zone %[3]q {
	type primary;
	file "%[1]s/zone.db";
	allow-update { key %[4]q; };
};
`, dir, s.Port, strings.TrimSuffix(s.Zone, "."), KeyName))
	// -n 1: one worker thread is plenty, on a machine the tests share.
	cmd := exec.Command(unconfined(t, dir), "-g", "-n", "1", "-c", filepath.Join(dir, "named.conf"))
	cmd.Stdout, cmd.Stderr = s.Log, s.Log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("named log:\n%s", s.Log)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Log.Until(ctx, func(out string) bool {
		return strings.Contains(out, "running\n") || strings.Contains(out, "exiting\n")
	})
	if err != nil || !strings.Contains(s.Log.String(), "running\n") {
		t.Fatalf("named did not start: %v\n%s", err, s.Log)
	}
	return s
}

// unconfined returns a path to run named from. Debian's AppArmor profile
// for /usr/sbin/named keeps it to /etc/bind and /var/cache/bind, so where
// AppArmor is on, a copy in dir (which the profile does not attach to)
// runs instead; the test's named serves only its temporary zone.
func unconfined(t testing.TB, dir string) string {
	t.Helper()
	if b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err != nil || !strings.HasPrefix(string(b), "Y") {
		return Named
	}
	b, err := os.ReadFile(Named)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "named")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Addrs returns the addresses of name's A and AAAA records (name relative
// to the zone, "@" for its apex), sorted, read from the server.
func (s *Server) Addrs(t testing.TB, name string) []netip.Addr {
	t.Helper()
	addrs, err := s.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return addrs
}

// Lookup is Addrs for a caller that handles the error.
func (s *Server) Lookup(name string) ([]netip.Addr, error) {
	fqdn := s.Zone
	if name != "@" {
		fqdn = name + "." + s.Zone
	}
	var out []netip.Addr
	c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(fqdn, typ)
		r, _, err := c.Exchange(m, s.Addr)
		if err != nil {
			return nil, fmt.Errorf("query %s %s: %w", fqdn, dns.TypeToString[typ], err)
		}
		if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
			return nil, fmt.Errorf("query %s %s: %s", fqdn, dns.TypeToString[typ], dns.RcodeToString[r.Rcode])
		}
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				a, _ := netip.AddrFromSlice(rr.A.To4())
				out = append(out, a)
			case *dns.AAAA:
				a, _ := netip.AddrFromSlice(rr.AAAA)
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// TTL returns the TTL of name's RR set of type typ (0 when it has none).
func (s *Server) TTL(t testing.TB, name string, typ uint16) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name+"."+s.Zone, typ)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 5 * time.Second}).Exchange(m, s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, rr := range r.Answer {
		return rr.Header().Ttl
	}
	return 0
}
