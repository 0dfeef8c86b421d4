package syslog

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestHandler sends records through the handler to a unixgram
// socket standing in for /dev/log and checks priority and text.
func TestHandler(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "log")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	h, err := Dial("unixgram", sock, "local3", slog.LevelInfo)
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
		{func() { log.Warn("calling alert mail.alert for g/s (/x/mail.alert,a b) down", Key, "alert") }, local3 + 1,
			"calling alert mail.alert for g/s (/x/mail.alert,a b) down"},
		{func() { log.Info("ignoring alert for g,s", "syslog", "notice") }, local3 + 5, "ignoring alert for g,s"},
		{func() { log.Warn("monitor output truncated", "group", "g", "bytes", 12) }, local3 + 4, "monitor output truncated group=g bytes=12"},
		{func() { log.Error("no alert found", "err", "x y") }, local3 + 3, `no alert found err="x y"`},
		{func() { log.With("a", 1).WithGroup("g").Error("grouped", "b", 2) }, local3 + 3, "grouped a=1 g.b=2"},
		// The classic line stands for the structured record.
		{func() {
			log.Error("service state changed", "group", "g", "opstatus", "fail", Classic, "failure for g s 1795394883 100% down", Key, "crit")
		}, local3 + 2, "failure for g s 1795394883 100 down"},
		// Chatter goes to syslog at its priority although it is below the
		// handler's level.
		{func() {
			log.Log(context.Background(), LevelChatter, "client connected", "client", "127.0.0.1:9",
				Key, "info", Classic, "client connection from 127.0.0.1:9")
		}, local3 + 6, "client connection from 127.0.0.1:9"},
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

func TestFacility(t *testing.T) {
	if _, err := Dial("unixgram", "/nonexistent", "bogus", slog.LevelInfo); err == nil {
		t.Error("unknown facility accepted")
	}
	// Without a syslog daemon the logger is returned unchanged.
	if _, err := os.Stat("/dev/log"); err == nil {
		t.Skip("/dev/log exists")
	}
	log := slog.New(slog.DiscardHandler)
	if got, _ := Tee(log, "daemon", slog.LevelInfo); got != log {
		t.Error("Tee changed the logger without a syslog daemon")
	}
}
