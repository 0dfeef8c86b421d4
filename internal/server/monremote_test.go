package server_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
)

func TestMonRemoteRunsWithoutShell(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "remote")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done > \""+out+"\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Shell syntax in the command stays literal: no shell runs it.
	remote, err := server.RemoteCommand(script+` --peer 'a b' ;echo`, log)
	if err != nil {
		t.Fatal(err)
	}
	remote("disable", "host", "h1")
	want := "[--peer]\n[a b]\n[;echo]\n[disable]\n[host]\n[h1]\n"
	for i := 0; i < 500; i++ {
		if b, _ := os.ReadFile(out); string(b) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	b, _ := os.ReadFile(out)
	t.Fatalf("remote argv %q, want %q", b, want)
}

func TestMonRemoteUnsetOrBad(t *testing.T) {
	if remote, err := server.RemoteCommand("  ", slog.Default()); remote != nil || err != nil {
		t.Errorf("an empty monremote gives a hook (%v)", err)
	}
	if remote, err := server.RemoteCommand(`prog 'unterminated`, slog.Default()); remote != nil || err == nil {
		t.Error("a monremote that does not parse gives a hook and no error")
	}
}
