package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/gomon/gomon/internal/testnet"
)

// Debian's mon package installs the original scripts here.
const (
	debianMonDir   = "/usr/lib/mon/mon.d"
	debianAlertDir = "/usr/lib/mon/alert.d"
)

func needDebianScripts(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		for _, dir := range []string{debianMonDir, debianAlertDir} {
			if _, err := os.Stat(dir + "/" + n); err == nil {
				goto found
			}
		}
		t.Skipf("%s not installed (apt-get install mon fping)", n)
	found:
	}
}

// debianConfig watches loopback with the original fping.monitor and
// tcp.monitor (an open port: mon's own; a closed one) and alerts through
// the original file.alert, plus the extra alert lines given.
func (d *monDir) debianConfig(closedPort int, extraAlerts string) string {
	return d.config(fmt.Sprintf(`
hostgroup local 127.0.0.1

watch local
    service ping
        description fping to loopback
        interval 1s
        monitor script:fping.monitor
        period wd {Sun-Sat}
            alert script:file.alert -d DIR/log ping.log
    service open
        interval 1s
        monitor script:tcp.monitor -p %d
        period wd {Sun-Sat}
            alert script:file.alert -d DIR/log open.log
    service closed
        description nothing listens here
        interval 1s
        monitor script:tcp.monitor -p %d
        period wd {Sun-Sat}
            alert script:file.alert -d DIR/log closed.log
%s            alertevery 1h
`, d.port, closedPort, extraAlerts))
}

// TestDebianScripts runs the original monitor and alert scripts of
// Debian's mon package unchanged (forced with script:, since gomon has
// built-ins of the same names).
func TestDebianScripts(t *testing.T) {
	needDebianScripts(t, "fping.monitor", "tcp.monitor", "file.alert")
	if _, err := exec.LookPath("fping"); err != nil {
		t.Skip("fping not installed")
	}
	d := newMonDir(t)
	cf := d.debianConfig(testnet.Port(t), "")
	p := d.start(nil, "-c", cf, "-s", debianMonDir, "-a", debianAlertDir)

	p.waitStatus("local/ping", "ok")
	p.waitStatus("local/open", "ok")
	closed := p.waitStatus("local/closed", "fail")
	if !strings.Contains(closed.Summary, "127.0.0.1") {
		t.Errorf("tcp.monitor summary %q does not name the host", closed.Summary)
	}
	log := waitFile(t, d.path("log/closed.log"), func(b []byte) bool { return bytes.HasSuffix(b, []byte(".\n")) })
	re := regexp.MustCompile(`^failure local closed \d+ \([A-Z][a-z]{2} [A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d\) ` +
		regexp.QuoteMeta(closed.Summary) + "\nDESCR=nothing listens here\nOPSTATUS=0\n(?s:.*)\\.\n$")
	if !re.Match(log) {
		t.Errorf("file.alert wrote:\n%s", log)
	}
	for _, f := range []string{"log/ping.log", "log/open.log"} {
		if _, err := os.Stat(d.path(f)); err == nil {
			t.Errorf("%s exists: a passing service alerted", f)
		}
	}
}

// TestDebianMailAlert runs the original mail.alert, which pipes into the
// hard-coded /usr/lib/sendmail. mon runs in a private mount namespace in
// which an overlay adds a fake sendmail to /usr/lib; the real /usr/lib
// is not touched.
func TestDebianMailAlert(t *testing.T) {
	needDebianScripts(t, "tcp.monitor", "file.alert", "mail.alert")
	if _, err := os.Stat("/usr/lib/sendmail"); err == nil {
		t.Skip("/usr/lib/sendmail exists: not replacing a real mailer")
	}
	d := newMonDir(t)
	for _, sub := range []string{"upper", "work"} {
		os.Mkdir(d.path(sub), 0o755)
	}
	d.script("upper/sendmail", `printf '%s\n' "$@" > DIR/out/sendmail.argv
cat > DIR/out/mail.tmp && mv DIR/out/mail.tmp DIR/out/mail`)
	mount := fmt.Sprintf("mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=%s,workdir=%s /usr/lib", d.path("upper"), d.path("work"))
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", mount+" && test -x /usr/lib/sendmail").CombinedOutput(); err != nil {
		t.Skipf("cannot overlay /usr/lib in a private mount namespace (needs root and unshare): %v %s", err, out)
	}
	cf := d.debianConfig(testnet.Port(t), "            alert script:mail.alert root@localhost ops@localhost\n")
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", mount+` && exec "$@"`, "sh",
		monBinary(t), "-c", cf, "-s", debianMonDir, "-a", debianAlertDir)
	p := d.startCmd(cmd, nil)
	closed := p.waitStatus("local/closed", "fail")

	mail := waitFile(t, d.path("out/mail"), nil)
	argv, _ := os.ReadFile(d.path("out/sendmail.argv"))
	if string(argv) != "-oi\n-t\n" {
		t.Errorf("sendmail argv %q", argv)
	}
	re := regexp.MustCompile(`^To: root@localhost,ops@localhost\nSubject: ALERT local/closed: ` + regexp.QuoteMeta(closed.Summary) +
		` \([A-Z][a-z]{2} [A-Z][a-z]{2} +\d+ \d\d:\d\d:\d\d\)\nX-Mailer: ` + debianAlertDir + `/mail.alert\n\n\n` +
		`Group                 : local\nService               : closed\n(?s:.*)Members\s+: 127.0.0.1\n(?s:.*)-------------------------------\n\n127.0.0.1 could not connect: Connection refused\n$`)
	if !re.Match(mail) {
		t.Errorf("mail.alert sent:\n%s", mail)
	}
}
