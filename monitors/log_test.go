package monitors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLogMonitor(t *testing.T) {
	dir := t.TempDir()
	state := t.TempDir()
	log := filepath.Join(dir, "app.log")
	appendFile(t, log, "old error before the first run\n")

	m := mustNew(t, "log", "-f", log, "-r", "(?i)error", "-x", "harmless", "-m", "2")
	req := Request{Group: "g", Service: "s", Env: []string{"MON_STATEDIR=" + state}}
	run := func() Result { return m.Check(context.Background(), req) }

	// The first run only notes where the file ends.
	if r := run(); r.Exit != 0 {
		t.Fatalf("first run: exit %d output %q", r.Exit, r.Output)
	}

	appendFile(t, log, "ok line\nERROR one\nharmless error\nerror two\nerror three\npartial error")
	r := run()
	want := log + "\n" + log + ": 3 new matching lines (first 2 shown)\n  ERROR one\n  error two\n"
	if r.Exit != 1 || string(r.Output) != want {
		t.Errorf("append: exit %d output\n%q\nwant\n%q", r.Exit, r.Output, want)
	}
	if !hasValue(r, "", log+":matches", 3) {
		t.Errorf("values %v", r.Values)
	}
	if r := run(); r.Exit != 0 {
		t.Errorf("nothing new: exit %d output %q", r.Exit, r.Output)
	}

	// The unfinished line counts once it is complete.
	appendFile(t, log, " finished\n")
	if r := run(); r.Exit != 1 || !strings.Contains(string(r.Output), "  partial error finished\n") {
		t.Errorf("completed line: exit %d output %q", r.Exit, r.Output)
	}

	// Rotation: the rest of the old file is read, then the new one.
	appendFile(t, log, "error in old file after last run\n")
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "error in new file\n")
	r = run()
	for _, s := range []string{"2 new matching lines", "  error in old file after last run\n", "  error in new file\n", "rotated to " + log + ".1"} {
		if !strings.Contains(string(r.Output), s) {
			t.Errorf("rotation: output lacks %q:\n%s", s, r.Output)
		}
	}

	// Truncation: read again from the start.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "error after truncate\n")
	r = run()
	if r.Exit != 1 || !strings.Contains(string(r.Output), "  error after truncate\n") || !strings.Contains(string(r.Output), "rewritten") {
		t.Errorf("truncation and refill: exit %d output %q", r.Exit, r.Output)
	}
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "error\n")
	r = run()
	if r.Exit != 1 || !strings.Contains(string(r.Output), "  error\n") || !strings.Contains(string(r.Output), "truncated (6 < 21 bytes)") {
		t.Errorf("truncation: exit %d output %q", r.Exit, r.Output)
	}

	// Another service on the same file keeps its own position.
	other := req
	other.Service = "other"
	if r := m.Check(context.Background(), other); r.Exit != 0 {
		t.Errorf("other service, first run: exit %d output %q", r.Exit, r.Output)
	}
}

func TestLogMonitorErrors(t *testing.T) {
	state := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing.log")
	r := mustNew(t, "log", "-S", state, "-r", "x", missing).Check(context.Background(), Request{})
	if r.Exit != 1 || !strings.HasPrefix(string(r.Output), missing+"\n"+missing+": open ") {
		t.Errorf("missing file: exit %d output %q", r.Exit, r.Output)
	}
	r = mustNew(t, "log", "-r", "x", missing).Check(context.Background(), Request{})
	if r.Exit != 1 || !strings.Contains(string(r.Output), "no state directory") {
		t.Errorf("no state dir: exit %d output %q", r.Exit, r.Output)
	}
	for _, args := range [][]string{{"-r", "x"}, {"-f", "a"}, {"-f", "a", "-r", "("}, {"-f", "a", "-r", "x", "-x", "["}, {"-f", "a", "-r", "x", "-m", "-1"}, {"-q"}} {
		if _, err := builtins.Lookup("log").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func TestLogLongLines(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "big.log")
	appendFile(t, log, "")
	m := mustNew(t, "log", "-S", dir, "-f", log, "-r", "^error")
	m.Check(context.Background(), Request{})
	appendFile(t, log, "error "+strings.Repeat("x", 200<<10)+"\nerror short\n")
	r := m.Check(context.Background(), Request{})
	lines := strings.Split(string(r.Output), "\n")
	if r.Exit != 1 || len(lines) != 5 || len(lines[2]) != 2+logMaxLine || lines[3] != "  error short" {
		t.Errorf("exit %d, %d lines, output head %.200q", r.Exit, len(lines), r.Output)
	}
}
