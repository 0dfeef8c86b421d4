package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/testnet"
)

// daemon is one gomon process of the real binary on loopback ports.
type daemon struct {
	t    *testing.T
	dir  string
	port int
	proc *gomonProc
}

// startDaemon builds gomon and runs it on cf (with statedir and logdir
// in a fresh directory), and waits until it answers.
func startDaemon(t *testing.T, dir, cf string, extra ...string) *daemon {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the gomon binary")
	}
	bin := filepath.Join(dir, "mon")
	if _, err := os.Stat(bin); err != nil {
		bin = goBuild(t, dir, "mon", "../cmd/mon")
	}
	os.MkdirAll(filepath.Join(dir, "state"), 0o755)
	os.MkdirAll(filepath.Join(dir, "log"), 0o755)
	writeFile(t, filepath.Join(dir, "auth.cf"), "command section\nlist: all\nack: all\ndisable: all\nenable: all\n\ntrap section\n127.0.0.1 * *\n")
	writeFile(t, filepath.Join(dir, "mon.cf"), "statedir = "+dir+"/state\nlogdir = "+dir+"/log\n"+cf)
	d := &daemon{t: t, dir: dir, port: testnet.Port(t)}
	argv := append([]string{bin, "-c", filepath.Join(dir, "mon.cf"), "-A", filepath.Join(dir, "auth.cf"),
		"-p", strconv.Itoa(d.port), "-t", strconv.Itoa(testnet.Port(t))}, extra...)
	d.proc = startGomon(t, dir, int(time.Now().UnixNano()%1000), argv...)
	d.until(10*time.Second, "gomon answers", func() bool {
		_, final := d.command("list state")
		return strings.HasPrefix(final, "220")
	})
	return d
}

// command sends one request and returns its data lines and final line.
func (d *daemon) command(cmd string) ([]string, string) { return protoCommand(d.port, cmd) }

// opstatus returns the `list opstatus` fields of one service.
func (d *daemon) opstatus(group, service string) map[string]string {
	lines, _ := d.command("list opstatus")
	for _, l := range lines {
		if kv := fields(l); kv["group"] == group && kv["service"] == service {
			return kv
		}
	}
	return nil
}

// until polls ok (a separate process has no event to wait for) until it
// holds or timeout passes.
func (d *daemon) until(timeout time.Duration, what string, ok func() bool) {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			d.t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// netSNMP runs one of net-snmp's tools with numeric OIDs and no MIBs.
func netSNMP(t *testing.T, tool string, args ...string) error {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed (Debian package snmp)", tool)
	}
	out, err := exec.Command(path, append([]string{"-m", "", "-M", "/nonexistent"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", tool, args, err, out)
	}
	return nil
}

// TestSNMPTrapsEndToEnd (issue 16, item 1): the real gomon binary receives
// traps and informs from net-snmp's snmptrap and snmpinform (v1, v2c, v3
// authPriv) on loopback; each feeds its service exactly as a mon trap
// does: opstatus, summary, alerts and upalerts, the traptimeout heartbeat.
func TestSNMPTrapsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	snmpPort := testnet.Port(t)
	addr := "127.0.0.1:" + strconv.Itoa(snmpPort)
	alerts := filepath.Join(dir, "alerts")
	web := testnet.Port(t)
	d := startDaemon(t, dir, `status_listen = 127.0.0.1:`+strconv.Itoa(web)+`
snmptrap_listen = `+addr+`
snmptrap_community = public
snmptrap_user = ops SHA256 authpass1 AES privpass1

hostgroup sw 127.0.0.1

watch sw
    service link
        snmptrap trap=1.3.6.1.6.3.1.1.5.3 status=fail summary=1.3.6.1.2.1.2.2.1.2.1
        snmptrap trap=1.3.6.1.6.3.1.1.5.4 status=ok
        period wd {Sun-Sat}
            alert file `+alerts+`
            upalert file `+alerts+`
    service ups
        snmptrap trap=1.3.6.1.4.1.8072.2.3.* from=127.0.0.0/8 status=1.3.6.1.4.1.8072.2.3.2.1
        traptimeout 2s
        period wd {Sun-Sat}
            alert file `+alerts+`
`)
	linkDown := []string{"", "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.2.1.2.2.1.2.1", "s", "eth0"}
	linkUp := []string{"", "1.3.6.1.6.3.1.1.5.4", "1.3.6.1.2.1.2.2.1.2.1", "s", "eth0"}
	v3 := []string{"-v", "3", "-u", "ops", "-l", "authPriv", "-a", "SHA-256", "-A", "authpass1", "-x", "AES", "-X", "privpass1"}
	waitStatus := func(service, opstatus, summary string) {
		t.Helper()
		d.until(5*time.Second, service+" opstatus "+opstatus, func() bool {
			st := d.opstatus("sw", service)
			return st["opstatus"] == opstatus && (summary == "" || protocol.Unescape(st["last_summary"]) == summary)
		})
	}
	alertLines := func() string {
		b, _ := os.ReadFile(alerts)
		return string(b)
	}

	// v2c linkDown: the service fails, with the ifDescr varbind as its
	// summary, and its alert goes out.
	if err := netSNMP(t, "snmptrap", append([]string{"-v", "2c", "-c", "public", addr}, linkDown...)...); err != nil {
		t.Fatal(err)
	}
	waitStatus("link", "0", "eth0")
	d.until(5*time.Second, "the link alert", func() bool { return strings.Contains(alertLines(), "trap sw link") })

	// v3 authPriv inform linkUp: acknowledged (snmpinform exits 0 only
	// then), the service recovers, and the upalert goes out.
	if err := netSNMP(t, "snmpinform", append(append(append([]string{}, v3...), "-r", "0", "-t", "3", addr), linkUp...)...); err != nil {
		t.Fatal(err)
	}
	waitStatus("link", "1", "")
	d.until(5*time.Second, "the link upalert", func() bool { return strings.Contains(alertLines(), "up sw link") })

	// v3 authPriv trap (the sender's own engine) fails it again.
	if err := netSNMP(t, "snmptrap", append(append(append([]string{}, v3...), "-e", "0x8000000001020304", addr), linkDown...)...); err != nil {
		t.Fatal(err)
	}
	waitStatus("link", "0", "eth0")

	// v2c inform linkUp.
	if err := netSNMP(t, "snmpinform", append([]string{"-v", "2c", "-c", "public", "-r", "0", "-t", "3", addr}, linkUp...)...); err != nil {
		t.Fatal(err)
	}
	waitStatus("link", "1", "")

	// v1 enterprise trap with the status in a varbind: 0 is OK; then the
	// traptimeout heartbeat fails the service when traps stop.
	if err := netSNMP(t, "snmptrap", "-v", "1", "-c", "public", addr, "1.3.6.1.4.1.8072.2.3", "127.0.0.1", "6", "1", "",
		"1.3.6.1.4.1.8072.2.3.2.1", "i", "0"); err != nil {
		t.Fatal(err)
	}
	waitStatus("ups", "1", "")
	waitStatus("ups", "0", "trap timeout")

	// Wrong community, unknown user: dropped and counted; nothing changes.
	netSNMP(t, "snmptrap", append([]string{"-v", "2c", "-c", "private", addr}, linkDown...)...)
	netSNMP(t, "snmptrap", append([]string{"-v", "3", "-u", "eve", "-l", "authPriv", "-a", "SHA-256", "-A", "authpass1", "-x", "AES", "-X", "privpass1", "-e", "0x8000000001020304", addr}, linkDown...)...)
	d.until(5*time.Second, "rejections counted", func() bool {
		lines, _ := d.command("list snmptraps")
		return len(lines) == 1 && strings.Contains(lines[0], "rejected_community=1 rejected_user=1")
	})
	if st := d.opstatus("sw", "link"); st["opstatus"] != "1" {
		t.Errorf("a rejected trap changed the service: %v", st)
	}
	// The same counters on /metrics (the collector cmd/mon hands the
	// status handler).
	metrics := httpBody(t, "http://127.0.0.1:"+strconv.Itoa(web)+"/metrics")
	for _, want := range []string{`gomon_snmptrap_rejected_total{reason="community"} 1`, `gomon_snmptrap_rejected_total{reason="user"} 1`, "gomon_snmptrap_received_total "} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	d.proc.stop(t)
}
