package alerts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomon/gomon/scheduler/decide"
)

func newBuiltin(t *testing.T, name string, args ...string) Alert {
	t.Helper()
	b := builtins.Lookup(name)
	if b == nil {
		t.Fatalf("%s not registered", name)
	}
	a, err := b.New(args)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestFileRecord(t *testing.T) {
	dir := t.TempDir()
	ev := testEvent(dir)
	a := newBuiltin(t, "file.alert", "-d", dir, "alerts.log")
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	ev.Input = []byte("no newline at end")
	ev.Env = []string{"MON_DESCRIPTION=d"}
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := "failure g1 s1 1795394883 (Mon Nov 23 00:48:03) h1 h2 failed\n" +
		"DESCR=first service\nOPSTATUS=0\ndetail line 1\ndetail line 2\n.\n" +
		"UNKNOWN ALERT g1 s1 1795394883 (Mon Nov 23 00:48:03) no newline at end\n" +
		"DESCR=d\nOPSTATUS=UNKNOWN OPSTATUS\n.\n"
	if got := readFile(t, filepath.Join(dir, "alerts.log")); got != want {
		t.Errorf("record:\n%s\nwant:\n%s", got, want)
	}
}

func TestFileSummaryOverrideDefaultName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ev := testEvent(dir)
	if err := newBuiltin(t, "file", "-S", "custom summary").Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(dir, "file"))
	if !strings.HasPrefix(got, "failure g1 s1 1795394883 (Mon Nov 23 00:48:03) custom summary\n") {
		t.Errorf("record = %q", got)
	}
}

func TestFileUnwritable(t *testing.T) {
	a := newBuiltin(t, "file", "-d", filepath.Join(t.TempDir(), "missing"), "x")
	if err := a.Send(context.Background(), testEvent("")); err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

// The built-in writes byte for byte what the original Perl script writes
// for the same call (skipped where mon's scripts are not installed).
func TestFileMatchesPerlScript(t *testing.T) {
	const script = "/usr/lib/mon/alert.d/file.alert"
	if _, err := os.Stat(script); err != nil {
		t.Skip("original file.alert not installed (apt-get install mon)")
	}
	for _, ev := range []Event{testEvent(""), upEvent()} {
		dir := t.TempDir()
		ev.Args = []string{"-d", dir, "perl.log"}
		cmd := exec.Command(script, ev.Argv()...)
		cmd.Env = append([]string{"TZ=UTC", "PATH=/usr/bin:/bin"}, ev.Env...)
		cmd.Stdin = strings.NewReader(string(ev.Input))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("file.alert: %v: %s", err, out)
		}
		if err := newBuiltin(t, "file", "-d", dir, "go.log").Send(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if p, g := readFile(t, filepath.Join(dir, "perl.log")), readFile(t, filepath.Join(dir, "go.log")); p != g {
			t.Errorf("perl:\n%s\ngo:\n%s", p, g)
		}
	}
}

func upEvent() Event {
	ev := testEvent("")
	ev.Type = decide.UpAlert
	ev.Hosts = nil
	ev.Input = []byte("h1\n")
	ev.Env = []string{"MON_ALERTTYPE=up", "MON_OPSTATUS=1"}
	return ev
}
