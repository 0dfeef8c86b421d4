package main

// End-to-end tests of gomon's engine extensions (docs/extensions.md):
// the real binary, real monitors, alert scripts writing a file.

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/testnet"
)

// typeRecAlert is an alert script that appends one line per call:
// "TYPE host=MON_HOST ARGS…".
const typeRecAlert = `echo "$MON_ALERTTYPE host=$MON_HOST $*" >> DIR/out/alerts`

// alertLines waits until the alert file has n lines and returns them.
func alertLines(t *testing.T, d *monDir, n int) []string {
	t.Helper()
	b := waitFile(t, d.path("out/alerts"), func(b []byte) bool { return strings.Count(string(b), "\n") >= n })
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestAlertPerHostEndToEnd: tcp.monitor on two hosts, one refusing;
// alert_per_host pages for that host alone, list opstatus names it, and
// its recovery sends its own upalert.
func TestAlertPerHostEndToEnd(t *testing.T) {
	d := newMonDir(t)
	port := testnet.Port(t)
	up, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	d.script("alert.d/rec.alert", typeRecAlert)
	cfg := d.config(fmt.Sprintf(`
hostgroup g 127.0.0.1 127.0.0.2

watch g
    service tcp
        interval 1s
        monitor tcp.monitor -p %d
        period wd {Sun-Sat}
            alert rec.alert
            upalert rec.alert
            alertevery 1h
            alert_per_host yes
`, port))
	p := d.start(nil, "-c", cfg)
	lines := alertLines(t, d, 1)
	if !strings.HasPrefix(lines[0], "failure host=127.0.0.2 -s tcp -g g -h 127.0.0.2 -t ") {
		t.Errorf("alert %q: want a failure for 127.0.0.2 alone", lines[0])
	}
	reply := p.command("list opstatus")
	if !strings.Contains(reply, " failing_hosts=127.0.0.2 host_first_failures=") {
		t.Errorf("list opstatus lacks the failing host:\n%s", reply)
	}
	down, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	lines = alertLines(t, d, 2)
	if !strings.HasPrefix(lines[1], "up host=127.0.0.2 -s tcp -g g -h 127.0.0.2 -t ") || !strings.HasSuffix(lines[1], " -u") {
		t.Errorf("upalert %q: want an upalert for 127.0.0.2 alone", lines[1])
	}
}

// TestFlapDetectionEndToEnd: a monitor alternating between failure and
// success starts flapping (one "flapping" alert, down and up alerts
// held) and, once steady, stops (one "flapstop").
func TestFlapDetectionEndToEnd(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/toggle.monitor", `f=DIR/out/runs
n=$(cat $f 2>/dev/null || echo 0)
echo $((n+1)) > $f
if [ ! -f DIR/out/steady ] && [ $((n % 2)) = 0 ]; then echo "h1 down"; exit 1; fi
echo ok`)
	d.script("alert.d/rec.alert", typeRecAlert)
	cfg := d.config(`
hostgroup g h1

watch g
    service s
        interval 1s
        monitor toggle.monitor
        flap_detection 5 20 50
        period wd {Sun-Sat}
            alert rec.alert
            upalert rec.alert
`)
	p := d.start(nil, "-c", cfg)
	lines := alertLines(t, d, 3)
	for i, want := range []string{"failure ", "up ", "flapping "} {
		if !strings.HasPrefix(lines[i], want) {
			t.Fatalf("alerts %q: want failure, up, flapping", lines)
		}
	}
	if reply := p.command("list opstatus"); !strings.Contains(reply, " flapping=1 flap_percent=53") {
		t.Errorf("list opstatus does not show the flapping:\n%s", reply)
	}
	d.write("out/steady", "", 0o644)
	lines = alertLines(t, d, 4)
	if !strings.HasPrefix(lines[3], "flapstop ") {
		t.Errorf("alerts %q: want flapstop after flapping, nothing in between", lines)
	}
}

// TestAlertOnPeriodStartEndToEnd: a service failing before its period
// opens is alerted when the period opens (a `sec {…}` window a few
// seconds after start), not at its next run a minute later.
func TestAlertOnPeriodStartEndToEnd(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/fail.monitor", `echo x >> DIR/out/runs; echo "h1 down"; exit 1`)
	d.script("alert.d/rec.alert", typeRecAlert)
	open := time.Now().Truncate(time.Second).Add(8 * time.Second)
	cfg := d.config(fmt.Sprintf(`randstart = 1s

hostgroup g h1

watch g
    service s
        interval 1m
        monitor fail.monitor
        period sec {%d-%d}
            alert rec.alert
            alert_on_period_start yes
`, open.Second(), (open.Second()+20)%60))
	d.start(nil, "-c", cfg)
	lines := alertLines(t, d, 1)
	// failure host= -s s -g g -h h1 -t TIME
	f := strings.Fields(lines[0])
	var at int64
	if len(f) == 10 {
		at, _ = strconv.ParseInt(f[9], 10, 64)
	}
	if f[0] != "failure" || at < open.Unix() {
		t.Fatalf("alert %q: want a failure at %d or later", lines[0], open.Unix())
	}
	runs, err := os.ReadFile(d.path("out/runs"))
	if err != nil || string(runs) != "x\n" {
		t.Errorf("monitor runs %q (%v): the alert must come from the opening, after the one run before it", runs, err)
	}
}
