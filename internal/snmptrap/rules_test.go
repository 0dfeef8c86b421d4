package snmptrap

import (
	"net/netip"
	"regexp"
	"testing"

	"github.com/gomon/gomon/internal/config"
)

func TestMatch(t *testing.T) {
	linkDown := &Trap{From: netip.MustParseAddr("192.0.2.7"), Version: "v2c", TrapOID: "1.3.6.1.6.3.1.1.5.3",
		Varbinds: []Varbind{{"1.3.6.1.2.1.2.2.1.2.3", "eth2"}, {"1.3.6.1.4.1.9.9.1", "0"}, {"1.3.6.1.4.1.9.9.2", "down hard"}}}
	net := netip.MustParsePrefix
	for _, tc := range []struct {
		name    string
		rule    config.SNMPTrapRule
		trap    *Trap
		wantOK  bool
		wantSta string
	}{
		{"any trap fails by default", config.SNMPTrapRule{Status: "fail"}, linkDown, true, "1"},
		{"exact trap OID", config.SNMPTrapRule{TrapOID: "1.3.6.1.6.3.1.1.5.3", Status: "fail"}, linkDown, true, "1"},
		{"other trap OID", config.SNMPTrapRule{TrapOID: "1.3.6.1.6.3.1.1.5.4", Status: "ok"}, linkDown, false, ""},
		{"an exact OID is not a prefix", config.SNMPTrapRule{TrapOID: "1.3.6.1.6.3.1.1.5", Status: "fail"}, linkDown, false, ""},
		{"prefix", config.SNMPTrapRule{TrapOID: "1.3.6.1.6.3.1.1.5", TrapPrefix: true, Status: "fail"}, linkDown, true, "1"},
		{"prefix stops at a dot", config.SNMPTrapRule{TrapOID: "1.3.6.1.6.3.1.1.5.", TrapPrefix: true}, &Trap{TrapOID: "1.3.6.1.6.3.1.1.55"}, false, ""},
		{"ok rule", config.SNMPTrapRule{Status: "ok"}, linkDown, true, "0"},
		{"from inside", config.SNMPTrapRule{From: []netip.Prefix{net("10.0.0.0/8"), net("192.0.2.0/24")}, Status: "fail"}, linkDown, true, "1"},
		{"from outside", config.SNMPTrapRule{From: []netip.Prefix{net("10.0.0.0/8")}, Status: "fail"}, linkDown, false, ""},
		{"varbind matches", config.SNMPTrapRule{Match: []config.VarbindMatch{{OID: "1.3.6.1.4.1.9.9.2", RE: regexp.MustCompile(`^down`)}}, Status: "fail"}, linkDown, true, "1"},
		{"varbind differs", config.SNMPTrapRule{Match: []config.VarbindMatch{{OID: "1.3.6.1.4.1.9.9.2", RE: regexp.MustCompile(`^up`)}}, Status: "fail"}, linkDown, false, ""},
		{"varbind missing", config.SNMPTrapRule{Match: []config.VarbindMatch{{OID: "1.3.6.1.4.1.9.9.3", RE: regexp.MustCompile(``)}}, Status: "fail"}, linkDown, false, ""},
		{"status from a varbind: 0 is OK", config.SNMPTrapRule{Status: "1.3.6.1.4.1.9.9.1"}, linkDown, true, "0"},
		{"status from a varbind: text fails", config.SNMPTrapRule{Status: "1.3.6.1.4.1.9.9.2"}, linkDown, true, "down hard"},
		{"status varbind missing fails", config.SNMPTrapRule{Status: "1.3.6.1.4.1.9.9.9"}, linkDown, true, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sta, ok := Match(&tc.rule, tc.trap)
			if ok != tc.wantOK || sta != tc.wantSta {
				t.Errorf("Match = %q, %v; want %q, %v", sta, ok, tc.wantSta, tc.wantOK)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tr := &Trap{From: netip.MustParseAddr("192.0.2.7"), Version: "v2c", TrapOID: "1.3.6.1.6.3.1.1.5.3",
		Varbinds: []Varbind{{"1.3.6.1.2.1.2.2.1.2.3", "eth2\nsecond line"}}}
	sum, dtl := Describe(&config.SNMPTrapRule{}, tr)
	if sum != "SNMP v2c 1.3.6.1.6.3.1.1.5.3 from 192.0.2.7" || dtl != "1.3.6.1.2.1.2.2.1.2.3 = eth2 second line\n" {
		t.Errorf("Describe = %q, %q", sum, dtl)
	}
	sum, _ = Describe(&config.SNMPTrapRule{Summary: "1.3.6.1.2.1.2.2.1.2.3"}, tr)
	if sum != "eth2" {
		t.Errorf("summary from a varbind = %q, want its first line", sum)
	}
	tr.Inform = true
	if sum, _ = Describe(&config.SNMPTrapRule{Summary: "1.9"}, tr); sum != "SNMP v2c inform 1.3.6.1.6.3.1.1.5.3 from 192.0.2.7" {
		t.Errorf("summary without its varbind = %q", sum)
	}
}
