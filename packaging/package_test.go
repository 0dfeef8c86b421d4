// Package packaging_test builds the .deb with `make deb`, checks it with
// lintian, unpacks it with dpkg into a scratch root and runs what it
// installed there: mon --check-config on the example configuration, the
// unit's paths, the man pages, and the init script starting and really
// stopping gomon.
package packaging_test

import (
	"fmt"
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

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the package")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg", "lintian", "man", "start-stop-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed: run scripts/install-test-deps.sh", tool)
		}
	}
	top, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// A private bin dir, so a parallel build elsewhere is not disturbed.
	bin := t.TempDir()
	run(t, top, nil, "make", "deb", "BIN="+bin)
	debs, _ := filepath.Glob(filepath.Join(bin, "gomon_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("make deb made %v", debs)
	}
	deb := debs[0]

	if out, err := exec.Command("lintian", "--fail-on", "error,warning", deb).CombinedOutput(); err != nil {
		t.Errorf("lintian: %v\n%s", err, out)
	}

	// dpkg's own install into a scratch root: unpack only, so no
	// maintainer script runs (they would act on this machine).
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	run(t, root, nil, "dpkg", "--root="+root, "--force-not-root", "--force-bad-path", "--force-depends",
		"--log=/dev/null", "--unpack", deb)
	at := func(p string) string { return filepath.Join(root, p) }
	// Unpacked conffiles wait as NAME.dpkg-new for the configure step,
	// which would run postinst: put them in place as it does.
	filepath.WalkDir(at("etc"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".dpkg-new") {
			err = os.Rename(p, strings.TrimSuffix(p, ".dpkg-new"))
		}
		return err
	})
	for _, p := range []string{"usr/sbin/mon", "usr/sbin/moncmd", "usr/lib/gomon/mon.d/tcp.monitor", "usr/lib/gomon/alert.d/mail.alert",
		"etc/mon/mon.cf", "etc/mon/auth.cf", "etc/init.d/gomon", "etc/logrotate.d/gomon",
		"usr/share/man/man8/mon.8.gz", "usr/share/man/man1/moncmd.1.gz", "usr/share/doc/gomon/copyright"} {
		if _, err := os.Stat(at(p)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}

	// The installed binary checks the installed example configuration,
	// with its own auth.cf and drop-in directories.
	out := run(t, root, nil, at("usr/sbin/mon"), "--check-config", "-c", at("etc/mon/mon.cf"), "-A", at("etc/mon/auth.cf"),
		"-s", at("usr/lib/gomon/mon.d"), "-a", at("usr/lib/gomon/alert.d"))
	if !strings.Contains(out, "configuration OK") {
		t.Errorf("mon --check-config: %s", out)
	}

	// The unit runs what the package installed.
	unit, err := os.ReadFile(at("usr/lib/systemd/system/gomon.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ExecStart", "ExecStop"} {
		m := regexp.MustCompile(`(?m)^` + key + `=-?(\S+)(.*)$`).FindStringSubmatch(string(unit))
		if m == nil {
			t.Fatalf("no %s in the unit", key)
		}
		if _, err := os.Stat(at(m[1])); err != nil {
			t.Errorf("%s runs %s, not installed: %v", key, m[1], err)
		}
		if key == "ExecStart" && !strings.Contains(m[2], "-c /etc/mon/mon.cf") {
			t.Errorf("ExecStart=%s%s does not read the installed configuration", m[1], m[2])
		}
	}
	for _, want := range []string{"Type=notify", "WatchdogSec="} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %s", want)
		}
	}

	for _, page := range []string{"usr/share/man/man8/mon.8.gz", "usr/share/man/man1/moncmd.1.gz"} {
		cmd := exec.Command("man", "--warnings", "-l", at(page))
		cmd.Env = append(os.Environ(), "MANPAGER=cat", "LC_ALL=C.UTF-8")
		out, err := cmd.CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning") || !strings.Contains(string(out), "NAME") {
			t.Errorf("man -l %s: %v\n%s", page, err, out)
		}
	}

	testInitScript(t, root)
}

// testInitScript starts gomon with the installed init script and stops
// it again: the process must be gone afterwards (Debian's
// /etc/init.d/mon looks for a perl process and leaves gomon running).
func testInitScript(t *testing.T, root string) {
	at := func(p string) string { return filepath.Join(root, p) }
	work := t.TempDir()
	cf, err := os.ReadFile(at("etc/mon/mon.cf"))
	if err != nil {
		t.Fatal(err)
	}
	// Private ports and directories instead of the system's.
	port, status := freePort(t), freePort(t)
	conf := regexp.MustCompile(`(?m)^(statedir|logdir|historicfile|status_listen|authfile) = .*$`).ReplaceAllStringFunc(string(cf), func(l string) string {
		switch k, _, _ := strings.Cut(l, " "); k {
		case "status_listen":
			return fmt.Sprintf("status_listen = 127.0.0.1:%d", status)
		case "authfile":
			return "authfile = " + at("etc/mon/auth.cf")
		case "historicfile":
			return "historicfile = " + filepath.Join(work, "history.log")
		default:
			return k + " = " + work
		}
	})
	conf = strings.ReplaceAll(conf, "/var/log/mon", work)
	if err := os.WriteFile(filepath.Join(work, "mon.cf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(work, "gomon.pid")
	env := []string{
		"DAEMON=" + at("usr/sbin/mon"), "MON_CONFIG=" + filepath.Join(work, "mon.cf"), "PIDFILE=" + pidfile,
		fmt.Sprintf("DAEMON_OPTS=-p %d -t %d", port, port),
		"_SYSTEMCTL_SKIP_REDIRECT=1", // run the script itself, even under systemd
	}
	script := at("etc/init.d/gomon")
	run(t, work, env, script, "start")
	var pid int
	deadline := time.Now().Add(20 * time.Second)
	for {
		// Sleep: mon -f writes its pid file when it has started; nothing
		// announces that.
		b, _ := os.ReadFile(pidfile)
		if pid, _ = strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid file after start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if out := run(t, work, env, script, "status"); !strings.Contains(out, "is running") {
		t.Errorf("status after start: %s", out)
	}
	run(t, work, env, script, "stop")
	// start-stop-daemon --retry waits for the process to end.
	if err := syscall.Kill(pid, 0); err == nil {
		if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); !strings.Contains(string(st), ") Z ") {
			t.Errorf("gomon (pid %d) still running after the init script's stop", pid)
		}
	}
	cmd := exec.Command(script, "status")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Run(); err == nil {
		t.Errorf("status says running after stop")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
