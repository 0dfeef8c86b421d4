package e2e

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTimedDowntimesEndToEnd (issue 16, item 4): the real moncmd sets
// timed disables and a timed ack with a reason on the real gomon binary;
// they show who set them and why, end by themselves, and survive a
// restart; a downtime line of the configuration disables its service.
func TestTimedDowntimesEndToEnd(t *testing.T) {
	moncmd, err := exec.LookPath("moncmd")
	if err != nil {
		t.Skip("moncmd (Debian package mon) not installed")
	}
	dir := t.TempDir()
	cf := `hostgroup web 127.0.0.2 127.0.0.3

watch web
    service a
        description trap-fed
    service b
        interval 1s
        monitor tcp.monitor -p 1
        period wd {Sun-Sat}
            alert file ` + dir + `/alerts
    service c
        downtime cron {* * * * *} 1h reason "weekly patching"
`
	d := startDaemon(t, dir, cf)
	mc := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(moncmd, append([]string{"-s", "127.0.0.1", "-p", strconv.Itoa(d.port)}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("moncmd %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	downtimes := func() []string {
		lines, _ := d.command("list downtimes")
		return lines
	}
	has := func(prefix string) func() bool {
		return func() bool {
			for _, l := range downtimes() {
				if strings.HasPrefix(l, prefix) {
					return true
				}
			}
			return false
		}
	}

	// The configured window is open: c is disabled, by the configuration.
	d.until(5*time.Second, "the scheduled downtime", has("service web c "))
	if l := downtimes(); !strings.Contains(strings.Join(l, "\n"), `by=config source=config reason=weekly\20patching`) {
		t.Errorf("list downtimes = %q", l)
	}

	// moncmd sends gomon's forms as any other command line.
	mc("disable", "service", "web", "a", "for", "1h", "reason", "kernel upgrade")
	mc("disable", "host", "127.0.0.3", "for", "5s", "reason", "reboot")
	if lines, _ := d.command("list disabled"); !strings.Contains(strings.Join(lines, "\n"), "web service a") || !strings.Contains(strings.Join(lines, "\n"), "127.0.0.3") {
		t.Errorf("list disabled = %q", lines)
	}
	if !has("service web a ")() || !strings.Contains(strings.Join(downtimes(), "\n"), `by=anonymous@127.0.0.1 source=command reason=kernel\20upgrade`) {
		t.Errorf("list downtimes = %q", downtimes())
	}
	// The host's five seconds end by themselves.
	d.until(10*time.Second, "the host disable to end", func() bool {
		lines, _ := d.command("list disabled")
		return !strings.Contains(strings.Join(lines, "\n"), "127.0.0.3") && !has("host 127.0.0.3")()
	})

	// A timed ack of the failing b ends after its time.
	d.until(10*time.Second, "web b failing", func() bool { return d.opstatus("web", "b")["opstatus"] == "0" })
	mc("ack", "web", "b", "for", "2s", "looking into it")
	d.until(5*time.Second, "the ack", func() bool { return d.opstatus("web", "b")["ack"] != "0" })
	d.until(6*time.Second, "the ack to end", func() bool { return d.opstatus("web", "b")["ack"] == "0" })

	// A restart with -l disabled keeps the timed disable, its end and why.
	before := strings.Join(downtimes(), "\n")
	d.proc.stop(t)
	d = startDaemon(t, dir, cf, "-l", "disabled")
	after := strings.Join(downtimes(), "\n")
	line := func(all, prefix string) string {
		for _, l := range strings.Split(all, "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		return ""
	}
	if l := line(after, "service web a "); l == "" || l != line(before, "service web a ") {
		t.Errorf("after the restart %q\nbefore %q", after, before)
	}
	if lines, _ := d.command("list disabled"); !strings.Contains(strings.Join(lines, "\n"), "web service a") {
		t.Errorf("list disabled after the restart = %q", lines)
	}
	// mon's enable ends it.
	mc("enable", "service", "web", "a")
	if has("service web a ")() {
		t.Errorf("enable left the downtime: %q", downtimes())
	}
	d.proc.stop(t)
}
