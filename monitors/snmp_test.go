package monitors

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/gomon/gomon/internal/await"
)

// freeUDPPort returns a loopback UDP port that was free a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startSnmpd runs a real snmpd on 127.0.0.1 with testdata/snmp/snmpd.conf.in
// and returns its port once it answers.
func startSnmpd(t *testing.T) int {
	t.Helper()
	bin, err := exec.LookPath("snmpd")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/snmpd"); err != nil {
			t.Skip("snmpd not installed (apt-get install snmpd)")
		}
		bin = "/usr/sbin/snmpd"
	}
	tmpl, err := os.ReadFile("testdata/snmp/snmpd.conf.in")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	port := freeUDPPort(t)
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(tmpl), "@PORT@", strconv.Itoa(port))), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", "-Lf", filepath.Join(dir, "log"), "-C", "-c", conf,
		"-p", filepath.Join(dir, "pid"), "--persistentDir="+filepath.Join(dir, "persist"))
	cmd.Env = append(os.Environ(), "MIBS=", "SNMP_PERSISTENT_DIR="+filepath.Join(dir, "persist"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	// snmpd logs its version once its agent listens.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	logFile := filepath.Join(dir, "log")
	_, err = await.File(ctx, logFile, func(b []byte) bool { return bytes.Contains(b, []byte("NET-SNMP version")) })
	if err == nil {
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Community: "public",
			Version: gosnmp.Version2c, Timeout: 5 * time.Second, MaxOids: 1}
		if err = g.Connect(); err == nil {
			_, err = g.Get([]string{".1.3.6.1.2.1.1.3.0"})
			g.Conn.Close()
		}
	}
	if err != nil {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("snmpd did not answer on port %d: %v; log:\n%s", port, err, log)
	}
	return port
}

func TestSnmp(t *testing.T) {
	port := startSnmpd(t)
	p := strconv.Itoa(port)
	hosts := []string{"127.0.0.1"}
	check := func(args ...string) Result {
		t.Helper()
		return mustNew(t, "snmp", append([]string{"-p", p}, args...)...).Check(context.Background(), Request{Hosts: hosts})
	}

	r := check("-get", ".1.3.6.1.4.1.99999.1.0,name=answer,min=40,max=50", "-get", "1.3.6.1.4.1.99999.2.0,eq=hello,match=^h")
	if r.Exit != 0 || len(r.Output) != 0 || !hasValue(r, "127.0.0.1", "answer", 42) || !r.Hosts[0].OK {
		t.Errorf("in range: exit %d output %q values %v", r.Exit, r.Output, r.Values)
	}
	r = check("-get", ".1.3.6.1.4.1.99999.1.0,name=answer,max=41", "-get", "1.3.6.1.4.1.99999.2.0,eq=bye")
	if want := "127.0.0.1\n\n127.0.0.1: answer = 42 > max 41\n127.0.0.1: .1.3.6.1.4.1.99999.2.0 = \"hello\" != \"bye\"\n"; r.Exit != 1 || string(r.Output) != want {
		t.Errorf("violations: exit %d output %q, want %q", r.Exit, r.Output, want)
	}
	// A walk applies the thresholds to every row: UCD dskPercent.
	r = check("-v", "1", "-walk", ".1.3.6.1.4.1.2021.9.1.9,name=dskPercent,min=0,max=100")
	if r.Exit != 0 || len(r.Values) == 0 {
		t.Errorf("walk: exit %d output %q values %v", r.Exit, r.Output, r.Values)
	}
	r = check("-get", ".1.3.6.1.4.1.99999.3.0")
	if r.Exit != 2 || !strings.Contains(string(r.Output), "NoSuch") {
		t.Errorf("missing OID: exit %d output %q", r.Exit, r.Output)
	}

	// SNMPv3 with authentication and privacy, then a wrong passphrase.
	v3 := []string{"-v", "3", "-u", "gomonv3", "-a", "SHA", "-A", "gomon-auth-pass", "-x", "AES", "-X", "gomon-priv-pass", "-t", "1", "-r", "0"}
	r = check(append(v3, "-get", ".1.3.6.1.4.1.99999.1.0,min=42,max=42")...)
	if r.Exit != 0 {
		t.Errorf("v3: exit %d output %q", r.Exit, r.Output)
	}
	v3[7] = "wrong-pass-phrase"
	r = check(append(v3, "-get", ".1.3.6.1.4.1.99999.1.0")...)
	if r.Exit != 2 {
		t.Errorf("v3 wrong passphrase: exit %d output %q", r.Exit, r.Output)
	}
}

func TestSnmpNoAgent(t *testing.T) {
	silent := fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t))
	m := mustNew(t, "snmp", "-t", "0.3", "-r", "0", "-get", ".1.3.6.1.2.1.1.3.0")
	r := m.Check(context.Background(), Request{Hosts: []string{silent}})
	if r.Exit != 2 || !strings.HasPrefix(string(r.Output), silent+"\n\n"+silent+": could not get SNMP info: ") {
		t.Errorf("exit %d output %q", r.Exit, r.Output)
	}
}

func TestSnmpBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-get", "sysUpTime.0"}, {"-get", "1.3.6.1,max=x"}, {"-get", "1.3.6.1,foo=1"},
		{"-v", "4", "-get", "1.3.6.1"}, {"-v", "3", "-get", "1.3.6.1"},
		{"-v", "3", "-u", "u", "-l", "authPriv", "-A", "a", "-get", "1.3.6.1"}, {"-bogus"},
	} {
		if _, err := builtins.Lookup("snmp").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
	for _, args := range [][]string{{"--free", "lots"}, {"--usemib", "perf"}, {"--config", "/nonexistent/snmpdiskspace.cf"}} {
		if _, err := builtins.Lookup("snmpdiskspace.monitor").New(args); err == nil {
			t.Errorf("snmpdiskspace %q: want an error", args)
		}
	}
}

func TestSnmpdiskspace(t *testing.T) {
	port := startSnmpd(t)
	hosts := []string{"127.0.0.1"}
	check := func(args ...string) Result {
		t.Helper()
		args = append([]string{"--port", strconv.Itoa(port), "--community", "public"}, args...)
		return mustNew(t, "snmpdiskspace.monitor", args...).Check(context.Background(), Request{Hosts: hosts})
	}
	for _, mib := range []string{"host", "ucd"} {
		if r := check("--usemib", mib, "--free", "0", "--ifree", "0"); r.Exit != 0 {
			t.Errorf("%s, no thresholds: exit %d output %q", mib, r.Exit, r.Output)
		}
		r := check("--usemib", mib, "--free", "100%")
		re := regexp.MustCompile(`^127\.0\.0\.1\n\n127\.0\.0\.1: filesystem /\S* is \(\d+\.\d% full\), \d+MB free \(below threshold 100% free\)\n`)
		if r.Exit != 1 || !re.Match(r.Output) {
			t.Errorf("%s, 100%% free: exit %d output %q", mib, r.Exit, r.Output)
		}
	}
	r := check("--usemib", "ucd", "--free", "0", "--ifree", "100")
	if r.Exit != 1 || !regexp.MustCompile(`: filesystem / has \d+\.\d% inodes free \(below threshold 100% inodes free\)\n`).Match(r.Output) {
		t.Errorf("inodes: exit %d output %q", r.Exit, r.Output)
	}
	cf := filepath.Join(t.TempDir(), "snmpdiskspace.cf")
	rules := "# host filesystem free [ifree]\nnomatch\\..* .* 1%\n127\\.0\\.0\\.1 / 1000000gb 0\n"
	if err := os.WriteFile(cf, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	r = check("--usemib", "ucd", "--config", cf)
	if r.Exit != 1 || !strings.Contains(string(r.Output), "MB free (below threshold 1024000000MB free)") {
		t.Errorf("config rule: exit %d output %q", r.Exit, r.Output)
	}
}
