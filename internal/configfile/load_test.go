package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func needM4(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("m4"); err != nil {
		t.Skip("m4 is not installed (apt-get install m4)")
	}
}

const m4Config = "define(`_GROUP_', `web')dnl\ndefine(`_EVERY_', `5m')dnl\nhostgroup _GROUP_ h1\n\nwatch _GROUP_\n    service ping\n        interval _EVERY_\n"

func TestLoadM4BySuffix(t *testing.T) {
	needM4(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf.m4")
	writeFile(t, p, m4Config, 0o644)
	c, err := Load(p, LoadOptions{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Watch("web"); w == nil || w.Service("ping").Interval.String() != "5m0s" {
		t.Errorf("watches = %+v", c.Watches)
	}
}

func TestLoadM4ByOption(t *testing.T) {
	needM4(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf")
	writeFile(t, p, m4Config, 0o644)
	// Without m4 the define lines are top-level garbage (warnings) and the
	// macros stay unexpanded.
	c, err := Load(p, LoadOptions{Cwd: dir})
	if err == nil {
		t.Fatalf("without m4 the config should fail, got %+v", c.Watches)
	}
	// Empty M4Command means m4 from PATH (Q-CFG-4).
	if c, err = Load(p, LoadOptions{Cwd: dir, M4: true}); err != nil || c.Watch("web") == nil {
		t.Fatalf("Load with M4 = %v", err)
	}
	m4, _ := exec.LookPath("m4")
	if c, err = Load(p, LoadOptions{Cwd: dir, M4: true, M4Command: m4}); err != nil || c.Watch("web") == nil {
		t.Fatalf("Load with M4Command = %v", err)
	}
}

func TestLoadM4Failures(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf")
	writeFile(t, p, "hostgroup g h\n", 0o644)
	_, err := Load(p, LoadOptions{Cwd: dir, M4: true, M4Command: filepath.Join(dir, "no-such-m4")})
	if e, ok := err.(*Error); !ok || e.Legacy() != "could not open m4 pipe of cf file: "+p+": No such file or directory" {
		t.Errorf("missing m4: %v", err)
	}
	fail := filepath.Join(dir, "fail-m4")
	writeFile(t, fail, "#!/bin/sh\necho broken >&2\nexit 1\n", 0o755)
	_, err = Load(p, LoadOptions{Cwd: dir, M4: true, M4Command: fail})
	e, ok := err.(*Error)
	if !ok || !strings.HasPrefix(e.Legacy(), "Could not open pipe to m4 (check that m4 is properly installed and in your PATH): ") || e.Diags[0].Hint != "broken" {
		t.Errorf("failing m4: %v", err)
	}
}

// TestLoadM4Runaway: a macro that expands without end is stopped by m4's
// memory bound (or its output bound) with an error naming the file,
// instead of eating the machine's memory.
func TestLoadM4Runaway(t *testing.T) {
	if _, err := exec.LookPath("m4"); err != nil {
		t.Skip("m4 is not installed (apt-get install m4)")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf.m4")
	writeFile(t, p, "define(`x', `x x')x\n", 0o644)
	_, err := Load(p, LoadOptions{Cwd: dir})
	if err == nil || !strings.Contains(err.Error(), "m4 failed on "+p) {
		t.Fatalf("runaway m4: %v", err)
	}
}

func TestLoadRelativePathAndResolve(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "etc", "mon.cf"), "basedir = base/\ncfbasedir = etc\nstatedir = state\nlogdir = /var/log/x/\n"+
		"mondir = mon.d : /abs/mon.d/\nalertdir = alert.d\nauthfile = auth.cf\nhistoricfile = hist.log\ndtlogfile = /dt.log\n"+
		"userfile = users.cf\nauthtype = userfile\n", 0o644)
	writeFile(t, filepath.Join(dir, "etc", "auth.cf"), "", 0o644)
	writeFile(t, filepath.Join(dir, "etc", "users.cf"), "", 0o644)
	c, err := Load(filepath.Join("etc", "mon.cf"), LoadOptions{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	g := c.Globals
	base := filepath.Join(dir, "base")
	for _, tc := range []struct{ got, want string }{
		{c.Source, filepath.Join(dir, "etc", "mon.cf")},
		{g.BaseDir, base},
		{g.CfBaseDir, filepath.Join(dir, "etc")},
		{g.StateDir, filepath.Join(base, "state")},
		{g.LogDir, "/var/log/x"},
		{g.AuthFile, filepath.Join(dir, "etc", "auth.cf")},
		{g.UserFile, filepath.Join(dir, "etc", "users.cf")},
		{g.HistoricFile, "/var/log/x/hist.log"},
		{g.DtLogFile, "/dt.log"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if want := []string{filepath.Join(base, "mon.d"), "/abs/mon.d"}; !reflect.DeepEqual(g.MonDir, want) {
		t.Errorf("mondir = %q, want %q", g.MonDir, want)
	}
	if !hasWarning(c, filepath.Join(base, "state")+" does not exist") ||
		!hasWarning(c, "/abs/mon.d does not exist, check your alertdir and mondir paths") {
		t.Errorf("warnings = %q", warnings(c))
	}
}

func TestAuthFileChecked(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf")
	// Relative to cfbasedir, even when cfbasedir comes later (Q-CFG-2).
	writeFile(t, p, "authfile = auth.cf\ncfbasedir = "+dir+"\n", 0o644)
	if _, err := Load(p, LoadOptions{Cwd: "/"}); err == nil {
		t.Fatal("missing authfile accepted")
	} else if e := err.(*Error); e.Legacy() != "cf error: authfile 'auth.cf' does not exist or is not readable, line 1" {
		t.Errorf("err = %q", e.Legacy())
	}
	writeFile(t, filepath.Join(dir, "auth.cf"), "", 0o644)
	if _, err := Load(p, LoadOptions{Cwd: "/"}); err != nil {
		t.Errorf("Load = %v", err)
	}
	// The userfile is checked only when the userfile authtype uses it.
	writeFile(t, p, "userfile = users.cf\ncfbasedir = "+dir+"\n", 0o644)
	if _, err := Load(p, LoadOptions{Cwd: "/"}); err != nil {
		t.Errorf("unused userfile: %v", err)
	}
	writeFile(t, p, "userfile = users.cf\ncfbasedir = "+dir+"\nauthtype = userfile\n", 0o644)
	if _, err := Load(p, LoadOptions{Cwd: "/"}); err == nil || err.(*Error).Legacy() != "cf error: userfile 'users.cf' does not exist or is not readable, line 1" {
		t.Errorf("missing userfile: %v", err)
	}
}

func TestOverrideAppliedAfterEveryRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "mon.cf")
	writeFile(t, p, "maxprocs = 3\nmondir = rel.d\n", 0o644)
	c, err := Load(p, LoadOptions{Cwd: dir, Override: func(g *config.Globals) { g.MaxProcs = 7; g.BaseDir = "base" }})
	if err != nil {
		t.Fatal(err)
	}
	// The override wins over the file and is resolved like a file value.
	if c.Globals.MaxProcs != 7 || c.Globals.MonDir[0] != filepath.Join(dir, "base", "rel.d") {
		t.Errorf("globals = %+v", c.Globals)
	}
}

func TestParseTimevalExported(t *testing.T) {
	if d, err := ParseTimeval("1.5m"); err != nil || d.Seconds() != 90 {
		t.Errorf("ParseTimeval = %v, %v", d, err)
	}
	if _, err := ParseTimeval("60"); err == nil {
		t.Error("a timeval without unit was accepted")
	}
}
