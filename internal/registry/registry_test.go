package registry

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	var r Registry[int]
	r.Register(&Builtin[int]{Name: "one", Aliases: []string{"one.monitor"}})
	r.Register(&Builtin[int]{Name: "two"})
	if b := r.Lookup("one.monitor"); b == nil || b.Name != "one" {
		t.Errorf("Lookup(one.monitor) = %v", b)
	}
	if b := r.Lookup("builtin:two"); b == nil || b.Name != "two" {
		t.Errorf("Lookup(builtin:two) = %v", b)
	}
	if b := r.Lookup("three"); b != nil {
		t.Error("Lookup(three) found something")
	}
	if got := r.Names(); !slices.Equal(got, []string{"one", "one.monitor", "two"}) {
		t.Errorf("Names() = %q", got)
	}
	if got := r.DropIns(); !slices.Equal(got, []string{"one.monitor"}) {
		t.Errorf("DropIns() = %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("a duplicate name did not panic")
		}
	}()
	r.Register(&Builtin[int]{Name: "three", Aliases: []string{"two"}})
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"x.alert", "mail.alert"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var reg Registry[string]
	reg.Register(&Builtin[string]{Name: "mail", Aliases: []string{"mail.alert"}, New: func(args []string) (string, error) {
		if len(args) > 0 && args[0] == "--bogus" {
			return "", errors.New("unknown option --bogus")
		}
		return "built-in mail", nil
	}})
	r := &Resolver[string]{Kind: "alert", Builtins: &reg, Dirs: []string{dir}, Program: func(p string) string { return "program " + p }}
	for _, tc := range []struct {
		name string
		args []string
		impl string
		path string
		err  string
	}{
		{name: "mail.alert", impl: "built-in mail", path: "builtin:mail"},
		{name: "builtin:mail", impl: "built-in mail", path: "builtin:mail"},
		{name: "script:mail.alert", impl: "program " + dir + "/mail.alert", path: dir + "/mail.alert"},
		{name: "x.alert", impl: "program " + dir + "/x.alert", path: dir + "/x.alert"},
		{name: "mail.alert", args: []string{"--bogus"}, err: "alert mail.alert: unknown option --bogus"},
		{name: "builtin:nope", err: `no built-in alert "builtin:nope"`},
		{name: "nope.alert", err: "no alert found while trying to run nope.alert"},
	} {
		got, err := r.Resolve(tc.name, tc.args)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("Resolve(%s %q) error %v, want %q", tc.name, tc.args, err, tc.err)
			}
		case err != nil || got.Impl != tc.impl || got.Path != tc.path:
			t.Errorf("Resolve(%s %q) = %+v, %v; want %q at %q", tc.name, tc.args, got, err, tc.impl, tc.path)
		}
	}
	var nf *NotFound
	if _, err := r.Resolve("nope.alert", nil); !errors.As(err, &nf) {
		t.Errorf("a missing program is not a *NotFound: %v", err)
	}
}

func TestFindProgram(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(a, "x.monitor"), 0o644}, // not executable
		{filepath.Join(b, "x.monitor"), 0o755},
		{filepath.Join(a, "y.monitor"), 0o755},
	} {
		os.MkdirAll(filepath.Dir(f.path), 0o755)
		if err := os.WriteFile(f.path, []byte("#!/bin/sh\n"), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(a, "dir.monitor"), 0o755); err != nil {
		t.Fatal(err)
	}
	dirs := []string{filepath.Join(dir, "missing"), a, b}
	for name, want := range map[string]string{
		"x.monitor": filepath.Join(b, "x.monitor"),
		"y.monitor": filepath.Join(a, "y.monitor"),
	} {
		if got, err := FindProgram(dirs, name); err != nil || got != want {
			t.Errorf("FindProgram(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"dir.monitor", "z.monitor", ""} {
		if got, err := FindProgram(dirs, name); err == nil {
			t.Errorf("FindProgram(%q) = %q, want error", name, got)
		}
	}
}
