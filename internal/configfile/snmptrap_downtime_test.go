package configfile

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestExtensionsFixture reads the issue-16 extensions into the model.
func TestExtensionsFixture(t *testing.T) {
	c := parseFixture(t, "extensions.cf")
	st := c.Globals.SNMPTrap
	if st.Listen != "127.0.0.1:16200" || strings.Join(st.Communities, ",") != "public,monitoring" || st.EngineID != "80001f8804676f6d6f6e" {
		t.Errorf("snmptrap globals = %+v", st)
	}
	if len(st.Users) != 2 || st.Users[0].Name != "ops" || st.Users[0].AuthProto != "SHA256" || st.Users[0].PrivProto != "AES" ||
		st.Users[1].AuthProto != "MD5" || st.Users[1].PrivProto != "" {
		t.Errorf("users = %+v", st.Users)
	}
	link := c.Watches[0].Services[0]
	if len(link.SNMPTraps) != 2 {
		t.Fatalf("link rules = %+v", link.SNMPTraps)
	}
	r := link.SNMPTraps[0]
	if r.TrapOID != "1.3.6.1.6.3.1.1.5.3" || r.TrapPrefix || r.Status != "fail" || r.Summary != "1.3.6.1.2.1.2.2.1.2" ||
		len(r.From) != 1 || r.From[0] != netip.MustParsePrefix("192.0.2.0/24") {
		t.Errorf("rule 0 = %+v", r)
	}
	if len(link.Downtimes) != 1 || link.Downtimes[0].Length != 2*time.Hour || link.Downtimes[0].Reason != "weekly patching" {
		t.Errorf("downtimes = %+v", link.Downtimes)
	}
	ups := c.Watches[0].Services[1].SNMPTraps[0]
	if !ups.TrapPrefix || ups.TrapOID != "1.3.6.1.4.1.318" || len(ups.Match) != 1 || !ups.Match[0].RE.MatchString("on battery") ||
		ups.Status != "1.3.6.1.4.1.318.2.3.1.0" {
		t.Errorf("ups rule = %+v", ups)
	}
}

// TestExtensionErrors: every mistake in the new keywords is a positioned
// diagnostic that says what the syntax is.
func TestExtensionErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"listen", "snmptrap_listen = 162\n", "mon.cf:1: cf error: bad value '162' for snmptrap_listen (syntax: snmptrap_listen = [ADDR]:PORT)"},
		{"user fields", "snmptrap_user = a SHA\n", "mon.cf:1: cf error: bad snmptrap_user 'a SHA' (syntax: snmptrap_user = NAME"},
		{"user auth proto", "snmptrap_user = a SHA1 12345678\n", "mon.cf:1: cf error: unknown authentication protocol 'SHA1' in snmptrap_user"},
		{"user short pass", "snmptrap_user = a SHA short\n", "mon.cf:1: cf error: the authentication passphrase of snmptrap_user a is shorter than 8 characters"},
		{"user priv proto", "snmptrap_user = a SHA 12345678 3DES 12345678\n", "mon.cf:1: cf error: unknown privacy protocol '3DES' in snmptrap_user"},
		{"user twice", "snmptrap_user = a\nsnmptrap_user = a\n", "mon.cf:2: cf error: snmptrap_user a is defined twice"},
		{"engine id", "snmptrap_engineid = 0102\n", "mon.cf:1: cf error: bad value '0102' for snmptrap_engineid"},
		{"rule word", svcHeader + "  snmptrap linkDown\n", "mon.cf:5: cf error: invalid snmptrap rule 'linkDown' (syntax: snmptrap [trap=OID[.*]]"},
		{"rule oid", svcHeader + "  snmptrap trap=IF-MIB::linkDown\n", "trap=IF-MIB::linkDown is not an OID"},
		{"rule from", svcHeader + "  snmptrap from=10.0.0.0/33\n", "from=10.0.0.0/33: '10.0.0.0/33' is neither an address nor a CIDR prefix"},
		{"rule regex", svcHeader + "  snmptrap match=1.3.6~(\n", "match=1.3.6~(: error parsing regexp"},
		{"rule status", svcHeader + "  snmptrap status=bad\n", "status=bad: expected fail, ok or the OID"},
		{"rule key", svcHeader + "  snmptrap oid=1.3\n", "unknown key 'oid'"},
		{"downtime cron", svcHeader + "  downtime {0 2 * * 0} 2h\n", "mon.cf:5: cf error: invalid downtime '{0 2 * * 0} 2h' (syntax: downtime cron {MIN HOUR DOM MON DOW} DURATION [reason TEXT])"},
		{"downtime fields", svcHeader + "  downtime cron {0 2 * *} 2h\n", "five fields"},
		{"downtime length", svcHeader + "  downtime cron {0 2 * * 0} 2\n", "'2' is not a positive duration"},
		{"downtime reason", svcHeader + "  downtime cron {0 2 * * 0} 2h because\n", "after the duration comes reason TEXT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseErr(t, tc.src).Error(); !strings.Contains(got, tc.want) {
				t.Errorf("error = %q\nwant it to contain %q", got, tc.want)
			}
		})
	}
}

// TestExtensionsOffByDefault: without the new keywords nothing changes.
func TestExtensionsOffByDefault(t *testing.T) {
	c := parseOK(t, svcHeader+"  interval 5m\n")
	if st := c.Globals.SNMPTrap; st.Listen != "" || st.Users != nil || st.Communities != nil {
		t.Errorf("SNMPTrap = %+v", st)
	}
	if s := c.Watches[0].Services[0]; s.SNMPTraps != nil || s.Downtimes != nil {
		t.Errorf("service = %+v", s)
	}
}

// TestExtensionsHCL: the HCL forms are lists of the mon.cf lines.
func TestExtensionsHCL(t *testing.T) {
	src := `snmptrap_listen = ":16200"
snmptrap_community = ["public"]
snmptrap_user = ["ops SHA authpass1 AES privpass1"]
hostgroup "g" { hosts = ["h"] }
watch "g" {
  service "s" {
    snmptrap = ["trap=1.3.6.1.6.3.1.1.5.3 status=fail", "trap=1.3.6.1.6.3.1.1.5.4 status=ok"]
    downtime = ["cron {0 2 * * 0} 2h reason patching"]
  }
}
`
	c, err := ParseHCL("x.hcl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Watches[0].Services[0]
	if c.Globals.SNMPTrap.Listen != "127.0.0.1:16200" || len(c.Globals.SNMPTrap.Users) != 1 || len(s.SNMPTraps) != 2 || s.SNMPTraps[1].Status != "ok" || s.Downtimes[0].Reason != "patching" {
		t.Errorf("globals %+v, service %+v", c.Globals.SNMPTrap, s)
	}
	_, err = ParseHCL("x.hcl", []byte(`hostgroup "g" { hosts = ["h"] }
watch "g" {
  service "s" {
    snmptrap = ["trap=x"]
  }
}
`))
	if err == nil || !strings.Contains(err.Error(), "x.hcl:4: cf error: invalid snmptrap rule") {
		t.Errorf("err = %v", err)
	}
}
