package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/monitors"
)

// TestInstallDropIns runs `mon install-dropins` as `make install` does and
// checks that it links exactly the registered drop-in names, that a link
// runs its built-in, and that a second run replaces the links.
func TestInstallDropIns(t *testing.T) {
	bin := monBinary(t)
	dir := t.TempDir()
	monDir, alertDir := filepath.Join(dir, "mon.d"), filepath.Join(dir, "alert.d")
	for range 2 {
		out, err := exec.Command(bin, "install-dropins", "--target", bin, monDir, alertDir).CombinedOutput()
		if err != nil {
			t.Fatalf("install-dropins: %v\n%s", err, out)
		}
	}
	for _, set := range []struct {
		dir  string
		want []string
	}{
		{monDir, monitors.Builtins().DropIns()},
		{alertDir, alerts.Builtins().DropIns()},
	} {
		entries, err := os.ReadDir(set.dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
			if target, err := os.Readlink(filepath.Join(set.dir, e.Name())); err != nil || target != bin {
				t.Errorf("%s links to %q (%v), want %s", e.Name(), target, err, bin)
			}
		}
		if !slices.Equal(got, set.want) || len(got) < 4 {
			t.Errorf("%s holds %q, want the registry's drop-ins %q", set.dir, got, set.want)
		}
	}
	// The lvs and dnsupdate alerts register from their own packages: the
	// binary must link them.
	for _, name := range []string{"lvs.alert", "dnsupdate.alert"} {
		if _, err := os.Lstat(filepath.Join(alertDir, name)); err != nil {
			t.Errorf("%s not installed: %v", name, err)
		}
	}
	// A linked name runs the built-in: tcp.monitor with a bad flag
	// prints the built-in's usage.
	out, err := exec.Command(filepath.Join(monDir, "tcp.monitor"), "-Z", "localhost").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "usage: tcp.monitor") {
		t.Errorf("tcp.monitor -Z: %v\n%s", err, out)
	}
}
