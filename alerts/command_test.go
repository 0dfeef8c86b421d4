package alerts

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestCommandArgvStdinEnv(t *testing.T) {
	dir := t.TempDir()
	ev := testEvent(dir)
	ev.Env = append(ev.Env, "REC_EXIT=0")
	a := newBuiltin(t, "exec", "testdata/record.sh", "one", "two words", "*")
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "argv")); got != "[one]\n[two words]\n[*]\n" {
		t.Errorf("argv = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "stdin")); got != string(ev.Input) {
		t.Errorf("stdin = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "env")); got == "" {
		t.Error("no MON_* environment")
	}
}

func TestCommandFailure(t *testing.T) {
	if _, err := builtins.Lookup("exec").New(nil); err == nil {
		t.Error("want an error without a program")
	}
	err := newBuiltin(t, "exec", "/bin/sh", "-c", "echo oops >&2; exit 4").Send(context.Background(), testEvent(""))
	var xe *ExitError
	if !errors.As(err, &xe) || xe.Result.Exit != 4 || string(xe.Result.Output) != "oops\n" {
		t.Errorf("got %v", err)
	}
}
