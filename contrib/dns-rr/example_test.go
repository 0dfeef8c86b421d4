// Package dnsrr_test checks the DNS round-robin example in this
// directory: both config files load to the same configuration, the key
// and zone files are what BIND and the alert read, and the example's
// dnsupdate lines keep the zone's records against a real named.
package dnsrr_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/dnsupdate"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/testdns"
	"github.com/gomon/gomon/scheduler/decide"
	"github.com/miekg/dns"
)

func load(t *testing.T, name string) (*config.Config, string) {
	t.Helper()
	c, err := configfile.Load(name, configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var hcl strings.Builder
	if err := configfile.WriteHCL(&hcl, c); err != nil {
		t.Fatal(err)
	}
	return c, hcl.String()
}

// mon.cf and mon.hcl are one configuration, and its hostgroup is the
// zone's round robin.
func TestContribDNSConfigs(t *testing.T) {
	cf, fromCF := load(t, "mon.cf")
	if _, fromHCL := load(t, "mon.hcl"); fromCF != fromHCL {
		t.Errorf("mon.cf loads as\n%s\nmon.hcl as\n%s", fromCF, fromHCL)
	}
	if n := len(cf.Watches[0].Services[0].Periods); n != 2 {
		t.Errorf("%d periods, want 2 (a blank line inside the watch drops them)", n)
	}
	var members []string
	for _, h := range cf.HostGroups {
		members = append(members, h.Hosts...)
	}
	if got := zoneAddrs(t); !slices.Equal(got, members) {
		t.Errorf("db.example.com's www has %v, the hostgroup %v", got, members)
	}
}

// zoneAddrs reads www.example.com's addresses from db.example.com.
func zoneAddrs(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("db.example.com")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, "example.com.", "db.example.com")
	var out []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if a, isA := rr.(*dns.A); isA && rr.Header().Name == "www.example.com." {
			out = append(out, a.A.String())
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The example's dnsupdate lines, with its key file, against a real named
// serving the zone's round robin (on a test port, with the test's key).
func TestContribDNSExample(t *testing.T) {
	cf, _ := load(t, "mon.cf")
	var records []string
	for _, a := range zoneAddrs(t) {
		records = append(records, "www IN A "+a)
	}
	srv := testdns.Start(t, "example.com", records...)
	lines := map[string]*dnsupdate.Alert{}
	for _, p := range cf.Watches[0].Services[0].Periods {
		for kind, list := range map[string][]config.AlertLine{"alert": p.Alerts, "upalert": p.UpAlerts} {
			for _, l := range list {
				if l.Name != "dnsupdate.alert" {
					continue
				}
				args := slices.Clone(l.Args)
				for i := range args[:len(args)-1] {
					switch args[i] {
					case "-S":
						args[i+1] = srv.Addr
					case "-K":
						// The example's own key file must read too.
						if _, err := dnsupdate.Parse(append(slices.Clone(l.Args[:i]), "-K", "gomon.key")); err != nil {
							t.Errorf("gomon.key: %v", err)
						}
						args[i+1] = srv.KeyFile
					}
				}
				a, err := dnsupdate.Parse(args)
				if err != nil {
					t.Fatalf("%s: %v", l, err)
				}
				lines[kind] = a
			}
		}
	}
	if lines["alert"] == nil || lines["upalert"] == nil {
		t.Fatal("mon.cf has no dnsupdate alert and upalert lines")
	}
	members := zoneAddrs(t)
	send := func(kind string, typ decide.AlertType, summary string, want ...string) {
		t.Helper()
		ev := alerts.Event{Group: "web", Service: "http", Hosts: members, Type: typ, Input: []byte(summary + "\n")}
		if err := lines[kind].Send(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range srv.Addrs(t, "www") {
			got = append(got, a.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("after the %s for %q: www %v, want %v", kind, summary, got, want)
		}
	}
	send("alert", decide.FailureAlert, members[1], members[0])
	send("alert", decide.FailureAlert, members[0]+" "+members[1], members[0]) // the last one stays
	send("upalert", decide.UpAlert, members[1], members...)
	if ttl := srv.TTL(t, "www", dns.TypeA); ttl != 60 {
		t.Errorf("TTL %d, want -T 60", ttl)
	}
}
