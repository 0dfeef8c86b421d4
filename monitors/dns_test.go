package monitors

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// dnsZone is the data a test DNS server answers from.
type dnsZone struct {
	serial        uint32
	authoritative bool
}

var dnsRecords = map[string]string{
	"www.example.test.":   "www.example.test. 60 IN A 192.0.2.10",
	"alias.example.test.": "alias.example.test. 60 IN A 192.0.2.10",
	"other.example.test.": "other.example.test. 60 IN A 192.0.2.99",
	"v6.example.test.":    "v6.example.test. 60 IN AAAA 2001:db8::1",
	"example.test.":       "example.test. 60 IN MX 10 mail.example.test.",
}

func (z dnsZone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := new(dns.Msg)
	resp.SetReply(req)
	resp.Authoritative = z.authoritative
	q := req.Question[0]
	if q.Qtype == dns.TypeSOA && q.Name == "example.test." {
		rr, _ := dns.NewRR("example.test. 60 IN SOA ns.example.test. admin.example.test. " +
			strconv.FormatUint(uint64(z.serial), 10) + " 3600 600 86400 60")
		resp.Answer = append(resp.Answer, rr)
	} else if text, ok := dnsRecords[q.Name]; ok {
		if rr, _ := dns.NewRR(text); rr.Header().Rrtype == q.Qtype {
			resp.Answer = append(resp.Answer, rr)
		}
	} else {
		resp.Rcode = dns.RcodeNameError
	}
	w.WriteMsg(resp)
}

// startDNS serves z over UDP on addr (host:port, port may be 0) and
// returns the port.
func startDNS(t *testing.T, addr string, z dnsZone) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: z}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	return port
}

// dnsServers starts, on one port: 127.0.0.1 master (serial 100),
// 127.0.0.2 good slave, 127.0.0.3 stale slave (98), 127.0.0.4
// non-authoritative; 127.0.0.5 has nothing listening.
func dnsServers(t *testing.T) string {
	port := startDNS(t, "127.0.0.1:0", dnsZone{serial: 100, authoritative: true})
	startDNS(t, "127.0.0.2:"+port, dnsZone{serial: 100, authoritative: true})
	startDNS(t, "127.0.0.3:"+port, dnsZone{serial: 98, authoritative: true})
	startDNS(t, "127.0.0.4:"+port, dnsZone{serial: 100})
	return port
}

func runDNS(t *testing.T, args []string, servers ...string) Result {
	t.Helper()
	m, err := newDNS(args)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return m.Check(context.Background(), Request{Hosts: servers})
}

func TestDNSZoneMode(t *testing.T) {
	port := dnsServers(t)
	zone := []string{"-port", port, "-zone", "example.test", "-master", "127.0.0.1", "-retry", "1", "-retransmit", "2"}
	cases := []struct {
		extra   []string
		servers []string
		exit    int
		output  string
	}{
		{nil, []string{"127.0.0.1", "127.0.0.2"}, 0, ""},
		{nil, []string{"127.0.0.2", "127.0.0.3"}, 1,
			"127.0.0.3(example.test) \nZone 'example.test': failed servers: 127.0.0.3\n\n" +
				"Query to 127.0.0.3 about example.test failed\nAuthoritative = yes\nAnswer count = 1\nAnswer Type = SOA\n" +
				"Serial number = 98, should have been 100\n\n"},
		{[]string{"-serial_threshold", "2"}, []string{"127.0.0.3"}, 0, ""},
		{nil, []string{"127.0.0.4", "127.0.0.5", "127.0.0.2"}, 2,
			"127.0.0.4 127.0.0.5(example.test) \nZone 'example.test': failed servers: 127.0.0.4 127.0.0.5\n\n" +
				"Query to 127.0.0.4 about example.test failed\nAuthoritative = no\nAnswer count = 1\nAnswer Type = SOA\n" +
				"Serial number = 100, should have been 100\n\n" +
				"SOA query for example.test from 127.0.0.5 failed Connection refused\n\n"},
		{[]string{"-master", "127.0.0.3"}, []string{"127.0.0.2"}, 252,
			"127.0.0.3(example.test) \nZone 'example.test': failed servers: 127.0.0.3\n\n" +
				"Query to 127.0.0.3 about example.test failed\nSerial number = 98, should have been 100\n\n"},
		{[]string{"-master", "127.0.0.5", "-failsingle"}, []string{"127.0.0.2"}, 251,
			"127.0.0.5(example.test) \nZone 'example.test': failed servers: 127.0.0.5\n" +
				"SOA query for example.test from 127.0.0.5 failed Connection refused\n\n"},
	}
	for _, c := range cases {
		res := runDNS(t, append(append([]string{}, zone...), c.extra...), c.servers...)
		if res.Exit != c.exit || string(res.Output) != c.output {
			t.Errorf("%q %q: exit %d output %q, want %d %q", c.extra, c.servers, res.Exit, res.Output, c.exit, c.output)
		}
	}
	// All masters down.
	res := runDNS(t, []string{"-port", port, "-zone", "example.test", "-master", "127.0.0.5"}, "127.0.0.2")
	if res.Exit != 252 || !strings.HasPrefix(string(res.Output), "(example.test) \n") {
		t.Errorf("masters down: exit %d output %q", res.Exit, res.Output)
	}
}

func TestDNSCachingMode(t *testing.T) {
	port := dnsServers(t)
	ok := []string{
		"www.example.test",
		"www.example.test:A:192.0.2.10",
		"www.example.test:a:alias.example.test", // the script's form: same data as another name
		"v6.example.test:AAAA:2001:db8::1",
		"example.test:MX:10 mail.example.test",
	}
	for _, q := range ok {
		res := runDNS(t, []string{"-caching_only", "-port", port, "-query", q}, "127.0.0.1", "127.0.0.2")
		if res.Exit != 0 || len(res.Output) != 0 || len(res.Hosts) != 2 || !res.Hosts[0].OK {
			t.Errorf("%s: exit %d output %q hosts %+v", q, res.Exit, res.Output, res.Hosts)
		}
	}
	// -query alone is the simple form.
	if res := runDNS(t, []string{"-port", port, "-query", "www.example.test"}, "127.0.0.1"); res.Exit != 0 {
		t.Errorf("simple form: exit %d output %q", res.Exit, res.Output)
	}

	res := runDNS(t, []string{"-port", port, "-query", "nx.example.test", "-query", "www.example.test:A:other.example.test", "-retry", "1"},
		"127.0.0.1", "127.0.0.5")
	want := "nx.example.test@127.0.0.1 nx.example.test@127.0.0.5  www.example.test@127.0.0.1 www.example.test@127.0.0.5  \n" +
		"\nA query for nx.example.test from 127.0.0.1 failed NXDOMAIN\n\nA query for nx.example.test from 127.0.0.5 failed Connection refused\n\n" +
		"Query www.example.test:A failed to match other.example.test\n\nA query for www.example.test from 127.0.0.5 failed Connection refused\n\n"
	if res.Exit != 2 || string(res.Output) != want {
		t.Errorf("exit %d output %q, want %q", res.Exit, res.Output, want)
	}
}

func TestDNSTCPAndTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: ln, Handler: dnsZone{serial: 1, authoritative: true}}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	port := portOf(ln.Addr())
	if res := runDNS(t, []string{"-tcp", "-port", port, "-query", "www.example.test"}, "127.0.0.1"); res.Exit != 0 {
		t.Errorf("tcp: exit %d output %q", res.Exit, res.Output)
	}

	// A UDP socket nobody reads: the query times out.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	_, deaf, _ := net.SplitHostPort(pc.LocalAddr().String())
	res := runDNS(t, []string{"-port", deaf, "-query", "www.example.test", "-retry", "2", "-retransmit", "1"}, "127.0.0.1")
	if res.Exit != 1 || !strings.Contains(string(res.Output), "A query for www.example.test from 127.0.0.1 failed query timed out\n") {
		t.Errorf("timeout: exit %d output %q", res.Exit, res.Output)
	}
}

func TestDNSBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"-nope"},
		{"-caching_only"},
		{"-zone", "example.test"},
		{"-master", "127.0.0.1"},
		{"-query", "x:BOGUS"},
		{"-query", ":A"},
		{"-query", "x", "-zone", "y", "-master", "z"},
		{"-query", "x", "-port", "99999"},
		{"-retry", "many"},
	} {
		if _, err := newDNS(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if out, code := dropIn(t, "dns.monitor", "-query", "x"); code != 255 || out == "" {
		t.Errorf("no servers: exit %d output %q", code, out)
	}
}

// The script always talks to port 53, so this comparison needs
// binding 127.0.0.77:53 and 127.0.0.78:53 (root); it is skipped otherwise.
func TestDNSMatchesPerl(t *testing.T) {
	for _, addr := range []string{"127.0.0.77:53", "127.0.0.78:53"} {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Skipf("cannot bind %s: %v", addr, err)
		}
		pc.Close()
	}
	startDNS(t, "127.0.0.77:53", dnsZone{serial: 100, authoritative: true})
	startDNS(t, "127.0.0.78:53", dnsZone{serial: 98, authoritative: true})
	for _, args := range [][]string{
		{"-zone", "example.test", "-master", "127.0.0.77", "127.0.0.77", "127.0.0.78"},
		{"-zone", "example.test", "-master", "127.0.0.77", "-serial_threshold", "5", "127.0.0.78"},
		{"-caching_only", "-query", "www.example.test", "127.0.0.77", "127.0.0.78"},
		{"-caching_only", "-query", "nx.example.test", "-query", "www.example.test:MX", "127.0.0.77", "127.0.0.78"},
		{"-caching_only", "-query", "www.example.test:A:alias.example.test", "127.0.0.77"},
	} {
		want, wantCode := perlOriginal(t, "dns.monitor", args...)
		got, code := dropIn(t, "dns.monitor", args...)
		if got != want || code != wantCode {
			t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
		}
	}
	// dns-query.monitor: the failure summary and exit status.
	args := []string{"-n", "nx.example.test", "127.0.0.77", "127.0.0.78"}
	want, wantCode := perlOriginal(t, "dns-query.monitor", args...)
	got, code := dropIn(t, "dns-query.monitor", args...)
	if firstLine(got) != firstLine(want) || code != wantCode {
		t.Errorf("%q: gomon exit %d %q, perl exit %d %q", args, code, got, wantCode, want)
	}
}

func TestDNSQueryMonitor(t *testing.T) {
	port := dnsServers(t)
	out, code := dropIn(t, "dns-query.monitor", "-P", port, "-n", "www.example.test", "-t", "2", "127.0.0.2", "127.0.0.1")
	want := "\nsuccesses:\n" +
		"    127.0.0.1: successfull lookup for www.example.test. IN A 192.0.2.10 (www.example.test)\n" +
		"    127.0.0.2: successfull lookup for www.example.test. IN A 192.0.2.10 (www.example.test)\n"
	if out != want || code != 0 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
	out, code = dropIn(t, "dns-query.monitor", "-P", port, "-t", "2", "127.0.0.5", "127.0.0.1")
	want = "127.0.0.1 127.0.0.5\nfailures:\n" +
		"    127.0.0.1: NXDOMAIN (mailhost)\n" +
		"    127.0.0.5: Connection refused (mailhost)\n\n"
	if out != want || code != 1 {
		t.Errorf("exit %d output %q, want %q", code, out, want)
	}
}
