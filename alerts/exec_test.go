package alerts

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/scheduler/decide"
)

func testEvent(dir string) Event {
	return Event{
		Group:   "g1",
		Service: "s1",
		Hosts:   []string{"h1", "h2", "h3"},
		Time:    time.Unix(1795394883, 0),
		Type:    decide.FailureAlert,
		Args:    []string{"arg1", "arg 2", "$HOME;`x`"},
		Input:   []byte("h1 h2 failed\ndetail line 1\ndetail line 2\n"),
		Env: []string{
			"REC_DIR=" + dir,
			"MON_GROUP=g1", "MON_SERVICE=s1", "MON_ALERTTYPE=failure",
			"MON_RETVAL=1", "MON_OPSTATUS=0", "MON_DESCRIPTION=first service",
			"TESTVAR=hello world",
		},
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExternalArgvStdinEnv(t *testing.T) {
	dir := t.TempDir()
	ev := testEvent(dir)
	ev.Env = append(ev.Env, "REC_EXIT=3")
	x := &External{Path: "testdata/record.sh"}
	err := x.Send(context.Background(), ev)

	var xe *ExitError
	if !errors.As(err, &xe) || xe.Result.Exit != 3 {
		t.Fatalf("want exit status 3, got %v", err)
	}
	// stdout and stderr share one pipe, as in mon.
	if got := string(xe.Result.Output); got != "out\nerr\n" {
		t.Errorf("output = %q", got)
	}
	wantArgv := "[-s]\n[s1]\n[-g]\n[g1]\n[-h]\n[h1 h2 h3]\n[-t]\n[1795394883]\n[arg1]\n[arg 2]\n[$HOME;`x`]\n"
	if got := readFile(t, filepath.Join(dir, "argv")); got != wantArgv {
		t.Errorf("argv:\n%s\nwant:\n%s", got, wantArgv)
	}
	if got := readFile(t, filepath.Join(dir, "stdin")); got != string(ev.Input) {
		t.Errorf("stdin = %q", got)
	}
	wantEnv := "MON_ALERTTYPE=failure\nMON_DESCRIPTION=first service\nMON_GROUP=g1\n" +
		"MON_OPSTATUS=0\nMON_RETVAL=1\nMON_SERVICE=s1\nTESTVAR=hello world\n"
	if got := readFile(t, filepath.Join(dir, "env")); got != wantEnv {
		t.Errorf("env:\n%s\nwant:\n%s", got, wantEnv)
	}
}

func TestExternalUpalertFlag(t *testing.T) {
	dir := t.TempDir()
	ev := testEvent(dir)
	ev.Type = decide.UpAlert
	ev.Args = []string{"-U", "up"}
	if err := (&External{Path: "testdata/record.sh"}).Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := "[-s]\n[s1]\n[-g]\n[g1]\n[-h]\n[h1 h2 h3]\n[-t]\n[1795394883]\n[-u]\n[-U]\n[up]\n"
	if got := readFile(t, filepath.Join(dir, "argv")); got != want {
		t.Errorf("argv:\n%s\nwant:\n%s", got, want)
	}
}

func TestExternalMissingProgram(t *testing.T) {
	err := (&External{Path: filepath.Join(t.TempDir(), "nope")}).Send(context.Background(), testEvent(""))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("want error naming the program, got %v", err)
	}
}

// A hung alert and the children it started are killed when ctx ends.
func TestExternalKilledOnCancel(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hang.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nsleep 300 &\necho $! > \"$REC_DIR/child\"\nsleep 300\n"), 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()

	start := time.Now()
	err := (&External{Path: script}).Send(ctx, testEvent(dir))
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Send took %v after a 500ms deadline", took)
	}
	var xe *ExitError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &xe) || xe.Result.Signal != "SIGTERM" {
		t.Fatalf("want deadline error and SIGTERM, got %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dir, "child"))))
	waitGone(t, pid)
}

// waitGone waits until pid is dead (gone or a zombie nobody reaped yet).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := await.Exit(ctx, pid); err != nil {
		t.Errorf("background child %d still alive: %v", pid, err)
	}
}

func TestExternalOutputBounded(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "loud.sh")
	os.WriteFile(script, []byte("#!/bin/sh\nhead -c 100000 /dev/zero\nexit 1\n"), 0o755)
	err := (&External{Path: script, MaxOutput: 1000}).Send(context.Background(), testEvent(dir))
	var xe *ExitError
	if !errors.As(err, &xe) || len(xe.Result.Output) != 1000 || !xe.Result.Truncated {
		t.Errorf("got %v", err)
	}
}

// A program that ignores its stdin still gets it without blocking Send.
func TestExternalIgnoresStdin(t *testing.T) {
	ev := testEvent(t.TempDir())
	ev.Input = make([]byte, 1<<20)
	if err := (&External{Path: "/bin/true"}).Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}
