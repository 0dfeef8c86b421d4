package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSyslogHandler sends records through the handler to a unixgram
// socket standing in for /dev/log and checks priority and text.
func TestSyslogHandler(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h, err := dialSyslog("unixgram", sock, "local3", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	log := slog.New(h)

	const local3 = 19 << 3
	tests := []struct {
		log      func()
		pri      int
		wantText string
	}{
		{func() { log.Info("mon server started") }, local3 + 6, "mon server started"},
		{func() { log.Error("failure for g s 1795394883 100% down", "syslog", "crit") }, local3 + 2, "failure for g s 1795394883 100 down"},
		{func() { log.Warn("calling alert mail.alert for g/s (/x/mail.alert,a b) down", syslogKey, "alert") }, local3 + 1,
			"calling alert mail.alert for g/s (/x/mail.alert,a b) down"},
		{func() { log.Info("ignoring alert for g,s", "syslog", "notice") }, local3 + 5, "ignoring alert for g,s"},
		{func() { log.Warn("monitor output truncated", "group", "g", "bytes", 12) }, local3 + 4, "monitor output truncated group=g bytes=12"},
		{func() { log.Error("no alert found", "err", "x y") }, local3 + 3, `no alert found err="x y"`},
		{func() { log.With("a", 1).WithGroup("g").Error("grouped", "b", 2) }, local3 + 3, "grouped a=1 g.b=2"},
	}
	log.Debug("below the level: not sent")
	pid := strconv.Itoa(os.Getpid())
	// The local format, as for /dev/log: <PRI>Mmm dd hh:mm:ss TAG[PID]: MSG
	re := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d mon\[` + pid + `\]: (.*)\n$`)
	buf := make([]byte, 4096)
	for _, tc := range tests {
		tc.log()
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindStringSubmatch(string(buf[:n]))
		if m == nil {
			t.Errorf("datagram %q does not look like syslog from mon[%s]", buf[:n], pid)
			continue
		}
		if m[1] != strconv.Itoa(tc.pri) || m[2] != tc.wantText {
			t.Errorf("got <%s> %q, want <%d> %q", m[1], m[2], tc.pri, tc.wantText)
		}
	}
}

func TestSyslogFacility(t *testing.T) {
	if _, err := dialSyslog("unixgram", "/nonexistent", "bogus", slog.LevelInfo); err == nil {
		t.Error("unknown facility accepted")
	}
	// Without a syslog daemon the logger is returned unchanged.
	if _, err := os.Stat("/dev/log"); err == nil {
		t.Skip("/dev/log exists")
	}
	log := slog.New(slog.DiscardHandler)
	if got, _ := addSyslog(log, "daemon", slog.LevelInfo); got != log {
		t.Error("addSyslog changed the logger without a syslog daemon")
	}
}

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
	re := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d mon\[` + pid + `\]: (.*)\n$`)
	buf := make([]byte, 4096)
	deadline := time.Now().Add(30 * time.Second)
	for got["mon server started"] == 0 || got["failure for"] == 0 {
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
			if !strings.HasSuffix(msg, " disk 100 full") {
				t.Errorf("'%%' not removed: %q", msg)
			}
		}
	}
	if got["mon server started"] != local5+6 {
		t.Errorf("mon server started at priority %d, want info", got["mon server started"]&7)
	}
	p.signal(syscall.SIGTERM)
	p.wait()
}
