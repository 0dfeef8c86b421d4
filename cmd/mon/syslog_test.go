package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSyslogDaemon runs the real binary with a /dev/log of the test's
// own: in a private mount namespace a tmpfs replaces /dev, holding only
// null and log (bind mounts of /dev/null and the test's socket).
func TestSyslogDaemon(t *testing.T) {
	d := newMonDir(t)
	sock := d.path("syslog.sock")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	os.Mkdir(d.path("realdev"), 0o755)
	mount := fmt.Sprintf("mount --bind /dev %[1]s/realdev && mount -t tmpfs tmpfs /dev && touch /dev/null /dev/log && "+
		"mount --bind %[1]s/realdev/null /dev/null && mount --bind %[2]s /dev/log", d.dir, sock)
	if out, err := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", mount).CombinedOutput(); err != nil {
		t.Skipf("cannot set up /dev/log in a private mount namespace (needs root and unshare): %v %s", err, out)
	}
	d.script("mon.d/full.monitor", `echo "disk 100% full"; exit 1`)
	cf := d.config(`syslog_facility = local3

hostgroup g1 h1

watch g1
    service disk
        interval 1s
        monitor full.monitor
`)
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", mount+` && exec "$@"`, "sh",
		monBinary(t), "-c", cf, "-O", "local5")
	p := d.startCmd(cmd, nil)
	pid := strconv.Itoa(p.cmd.Process.Pid)

	const local5 = 21 << 3
	got := map[string]int{} // message → priority
	failures := 0
	re := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d mon\[` + pid + `\]: (.*)\n$`)
	buf := make([]byte, 4096)
	deadline := time.Now().Add(30 * time.Second)
	// Two failures: the second changes no state and is only debug on
	// stderr, but mon syslogs every failure. So are client commands.
	for got["mon server started"] == 0 || failures < 2 || got["client command"] == 0 {
		pc.SetReadDeadline(deadline)
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("syslog so far %v: %v", got, err)
		}
		m := re.FindStringSubmatch(string(buf[:n]))
		if m == nil {
			t.Fatalf("datagram %q is not from mon[%s]", buf[:n], pid)
		}
		pri, _ := strconv.Atoi(m[1])
		if pri&^7 != local5 {
			t.Errorf("facility %d in %q, want local5 (-O overrides syslog_facility)", pri>>3, buf[:n])
		}
		switch msg := m[2]; {
		case strings.HasPrefix(msg, "mon server started"):
			got["mon server started"] = pri
		case strings.HasPrefix(msg, "failure for g1 disk "):
			got["failure for"] = pri
			if failures++; failures == 2 {
				p.command("list opstatus")
			}
			if !strings.HasSuffix(msg, " disk 100 full") {
				t.Errorf("'%%' not removed: %q", msg)
			}
		case msg == `client command "list opstatus"`:
			got["client command"] = pri
		case strings.Contains(msg, "state changed") || strings.Contains(msg, "client connected"):
			t.Errorf("a structured message, not mon's line, in syslog: %q", msg)
		}
	}
	if got["failure for"] != local5+2 {
		t.Errorf("failure for … at priority %d, want crit", got["failure for"]&7)
	}
	if got["client command"] != local5+6 {
		t.Errorf("client command at priority %d, want info", got["client command"]&7)
	}
	if got["mon server started"] != local5+6 {
		t.Errorf("mon server started at priority %d, want info", got["mon server started"]&7)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}
