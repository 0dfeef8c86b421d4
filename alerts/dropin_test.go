package alerts

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/scheduler/decide"
)

func TestRunDropInFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MON_ALERTTYPE", "up")
	t.Setenv("MON_OPSTATUS", "1")
	t.Setenv("MON_DESCRIPTION", "web")
	var stderr bytes.Buffer
	args := []string{"-s", "s1", "-g", "g1", "-h", "h1 h2", "-t", "1795394883", "-u", "-d", dir, "out"}
	code := RunDropIn("/usr/lib/mon/alert.d/file.alert", args, strings.NewReader("h1\nwas down\n"), &stderr, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "up g1 s1 1795394883 (Mon Nov 23 00:48:03) h1\nDESCR=web\nOPSTATUS=1\nwas down\n.\n"
	if got := readFile(t, filepath.Join(dir, "out")); got != want {
		t.Errorf("record %q, want %q", got, want)
	}
}

func TestRunDropInErrors(t *testing.T) {
	var stderr bytes.Buffer
	if RunDropIn("nosuch.alert", nil, strings.NewReader(""), &stderr, &stderr) == 0 {
		t.Error("unknown alert: want a non-zero status")
	}
	if RunDropIn("mail.alert", []string{"-s", "s", "-g", "g", "-h", "", "-t", "1"}, strings.NewReader(""), &stderr, &stderr) == 0 {
		t.Error("mail without a recipient: want a non-zero status")
	}
	if !strings.Contains(stderr.String(), "no recipient") {
		t.Errorf("stderr %q does not explain", stderr.String())
	}
}

func TestParseMonArgs(t *testing.T) {
	ev, rest := parseMonArgs([]string{"-s", "s", "-g", "g", "-h", "a  b", "-t", "12", "-T", "-S", "x", "root"})
	if ev.Service != "s" || ev.Group != "g" || strings.Join(ev.Hosts, ",") != "a,b" || ev.Time.Unix() != 12 ||
		ev.Type != decide.TrapAlert || strings.Join(rest, " ") != "-S x root" {
		t.Errorf("got %+v rest %q", ev, rest)
	}
}

// The real Perl mon runs this test binary as file.alert (see TestMain)
// next to the original Perl file.alert; both records must be identical.
func TestDropInUnderPerlMon(t *testing.T) {
	const monBin = "/usr/sbin/mon"
	const perlAlert = "/usr/lib/mon/alert.d/file.alert"
	for _, p := range []string{monBin, perlAlert} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s not installed (apt-get install mon)", p)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"alert.d", "mon.d", "state", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(self, filepath.Join(dir, "alert.d", "file.alert")))
	perl, err := os.ReadFile(perlAlert)
	must(err)
	must(os.WriteFile(filepath.Join(dir, "alert.d", "perlfile.alert"), perl, 0o755))
	must(os.WriteFile(filepath.Join(dir, "mon.d", "fail.monitor"),
		[]byte("#!/bin/sh\necho 127.0.0.2\necho \"127.0.0.2: connection refused\"\nexit 1\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "auth.cf"), []byte("list: all\n"), 0o644))
	cfg := fmt.Sprintf(`serverbind = 127.0.0.1
trapbind = 127.0.0.1

hostgroup web 127.0.0.1 127.0.0.2

watch web
    service http
        description drop-in test
        interval 2s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert file.alert -d %[1]s go.log
            alert perlfile.alert -d %[1]s perl.log
`, dir)
	must(os.WriteFile(filepath.Join(dir, "mon.cf"), []byte(cfg), 0o644))

	port := freePort(t)
	cmd := exec.Command(monBin, "-c", filepath.Join(dir, "mon.cf"), "-b", dir, "-B", dir,
		"-D", filepath.Join(dir, "state"), "-L", filepath.Join(dir, "log"), "-P", filepath.Join(dir, "mon.pid"),
		"-p", port, "-t", port, "-a", filepath.Join(dir, "alert.d"), "-s", filepath.Join(dir, "mon.d"),
		"-A", filepath.Join(dir, "auth.cf"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TZ=UTC"}
	var out await.Output // mon writes while the test may read
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(cmd.Start())
	// Always stop mon and whatever it started.
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})

	goLog, perlLog := filepath.Join(dir, "go.log"), filepath.Join(dir, "perl.log")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := await.Change(ctx, []string{dir}, func() bool { return complete(goLog) && complete(perlLog) }); err != nil {
		t.Fatalf("no alert records: %v; mon said:\n%s", err, out.String())
	}
	goRec, perlRec := firstRecord(t, goLog), firstRecord(t, perlLog)
	wantRe := regexp.MustCompile(`^failure web http \d+ \(\w{3} \w{3} \d+ \d\d:\d\d:\d\d\) 127\.0\.0\.2\n` +
		`DESCR=drop-in test\nOPSTATUS=0\n127\.0\.0\.2: connection refused\n\.\n$`)
	if !wantRe.MatchString(goRec) {
		t.Errorf("record from the drop-in:\n%s", goRec)
	}
	// The two alerts may be launched in different seconds.
	stamp := regexp.MustCompile(`\d+ \(\w{3} \w{3} \d+ \d\d:\d\d:\d\d\)`)
	if stamp.ReplaceAllString(goRec, "T") != stamp.ReplaceAllString(perlRec, "T") {
		t.Errorf("drop-in record:\n%s\nPerl file.alert record:\n%s", goRec, perlRec)
	}
}

// complete reports whether path holds at least one whole record.
func complete(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte("\n.\n"))
}

func firstRecord(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, _, _ := strings.Cut(string(b), "\n.\n")
	return rec + "\n.\n"
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
