package await

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestSignalWakesUntil(t *testing.T) {
	var s Signal
	n := 0
	done := make(chan error)
	go func() { done <- s.Until(ctxFor(t), func() bool { n++; return n == 3 }) }()
	for {
		s.Notify()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			return
		default:
		}
	}
}

func TestSignalUntilEndsWithContext(t *testing.T) {
	var s Signal
	if err := s.Until(cancelled(), func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestOutputContains(t *testing.T) {
	var o Output
	cmd := exec.Command("/bin/sh", "-c", "echo one; read x; echo two $x")
	cmd.Stdout = &o
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if err := o.Contains(ctxFor(t), "one\n"); err != nil {
		t.Fatal(err)
	}
	in.Write([]byte("three\n"))
	in.Close()
	if err := o.Contains(ctxFor(t), "two three\n"); err != nil {
		t.Fatal(err)
	}
	if err := o.Contains(cancelled(), "four"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// TestFileSeesAWriterInAnotherProcess: a file written and then renamed
// into place by another process is seen, content and all.
func TestFileSeesAWriterInAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	cmd := exec.Command("/bin/sh", "-c", `printf partial > "$1.tmp"; read x; printf done > "$1.tmp"; mv "$1.tmp" "$1"`, "sh", path)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	go func() {
		// The wait has begun or not; either way the rename is seen.
		in.Write([]byte("go\n"))
		in.Close()
	}()
	b, err := File(ctxFor(t), path, func(b []byte) bool { return string(b) == "done" })
	if err != nil || string(b) != "done" {
		t.Fatalf("File = %q, %v", b, err)
	}
	if _, err := File(cancelled(), filepath.Join(dir, "never"), nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("a file that never appears: %v", err)
	}
}

func TestExit(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "read x")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := Exit(cancelled(), pid); !errors.Is(err, context.Canceled) {
		t.Fatalf("a running process: %v", err)
	}
	in.Close()
	// Not reaped yet: a zombie has exited.
	if err := Exit(ctxFor(t), pid); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if err := Exit(ctxFor(t), pid); err != nil {
		t.Fatalf("a reaped process: %v", err)
	}
	if err := Exit(cancelled(), os.Getpid()); !errors.Is(err, context.Canceled) {
		t.Fatalf("own process: %v, want it still running", err)
	}
}
