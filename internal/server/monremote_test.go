package server_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
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
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := await.File(ctx, out, func(b []byte) bool { return string(b) == want }); err != nil {
		b, _ := os.ReadFile(out)
		t.Fatalf("remote argv %q, want %q: %v", b, want, err)
	}
}

func TestMonRemoteUnsetOrBad(t *testing.T) {
	if remote, err := server.RemoteCommand("  ", slog.Default()); remote != nil || err != nil {
		t.Errorf("an empty monremote gives a hook (%v)", err)
	}
	if remote, err := server.RemoteCommand(`prog 'unterminated`, slog.Default()); remote != nil || err == nil {
		t.Error("a monremote that does not parse gives a hook and no error")
	}
}
