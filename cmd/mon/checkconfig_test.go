package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runMon runs the mon binary to completion (bounded) and returns its
// exit status, stdout and stderr.
func runMon(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, monBinary(t), args...)
	cmd.Dir = dir
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mon %q did not finish", args)
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// badConfigs are configuration errors from config.md §11.3: the body
// (after the rig's globals and a valid hostgroup g1), the line of the
// error within the body, and mon's text; for time values, where mon shows
// the failed conversion (an empty string), gomon shows what was written.
var badConfigs = []struct {
	name, body string
	line       int
	text       string
}{
	{"unknown variable", "frobnicate = yes", 1, "cf error: unknown variable 'frobnicate'"},
	{"randstart", "randstart = soon", 1, "cf error: bad value 'soon' for randstart option (syntax: randstart = timeval)"},
	{"historictime", "historictime = x", 1, "cf error: bad value 'x' for historictime command (syntax: historictime = timeval)"},
	{"cltimeout", "cltimeout = abc", 1, "cf error: bad value 'abc' for cltimeout command (syntax: cltimeout = secs)"},
	{"exclude_period", "exclude_period = wd {Funday}", 1, "cf error: malformed exclude_period 'wd {Funday}'"},
	{"watch twice", "watch g1\n    service a\n        monitor m\n\nwatch g1", 5, "cf error: watch 'g1' already defined"},
	{"env without service", "watch g1\n    FOO=bar", 2, "cf error: environment variable defined without a service"},
	{"service twice", "watch g1\n    service a\n        monitor m\n    service a", 4, "cf error: service a already defined for watch group g1"},
	{"period twice", "watch g1\n    service a\n        monitor m\n        period p: wd {Mon}\n            alert x.alert\n        period p: wd {Tue}", 6,
		"cf error: period 'p' already defined for watch group g1 service a"},
	{"malformed period", "watch g1\n    service a\n        monitor m\n        period wd {Funday}", 4,
		"cf error: malformed period 'wd {Funday}' (the specified time period is not valid as per Time::Period::inPeriod)"},
	{"alertevery", "watch g1\n    service a\n        monitor m\n        period wd {Mon}\n            alertevery often", 5,
		"cf error: invalid time interval 'often' (syntax: alertevery {positive number}{smhd} [ strict | observe_detail | ignore_summary ])"},
	{"interval without unit", "watch g1\n    service a\n        interval 60", 3,
		"cf error: invalid time interval '60' (syntax: interval = {positive number}{smhd})"},
	{"numalerts", "watch g1\n    service a\n        monitor m\n        period wd {Mon}\n            numalerts x", 5,
		"cf error: -numeric arg 'x' (syntax: numalerts = {positive integer}"},
	{"failure_interval", "watch g1\n    service a\n        failure_interval x", 3,
		"cf error: invalid interval 'x' (syntax: failure_interval = {positive number}{smhd})"},
	{"traptimeout", "watch g1\n    service a\n        traptimeout x", 3,
		"cf error: invalid traptimeout interval 'x' (syntax: traptimeout = {positive number}{smhd})"},
	{"dep_behavior", "watch g1\n    service a\n        dep_behavior x", 3,
		"cf error: unknown dependency behavior 'x' (syntax: dep_behavior = {m|a})"},
	{"unknown service keyword", "watch g1\n    service a\n        bogus 1", 3, "cf error: unknown syntax [bogus 1]"},
	{"service keyword after period", "watch g1\n    service a\n        monitor m\n        period wd {Mon}\n            alert x.alert\n        interval 5m", 6,
		"cf error: unknown syntax [interval 5m]"},
	{"status_listen (gomon)", "status_listen = nonsense", 1, "cf error: bad value 'nonsense' for status_listen"},
}

// newMonDirWithPrograms is a mon directory with a monitor m and an alert
// x.alert, so that only the configuration under test can be wrong.
func newMonDirWithPrograms(t *testing.T) *monDir {
	d := newMonDir(t)
	d.script("mon.d/m", "exit 0")
	d.script("alert.d/x.alert", "exit 0")
	return d
}

// TestCheckConfigErrors: --check-config exits non-zero on every fatal
// configuration error and names FILE:LINE and mon's text.
func TestCheckConfigErrors(t *testing.T) {
	d := newMonDirWithPrograms(t)
	for _, tc := range badConfigs {
		t.Run(tc.name, func(t *testing.T) {
			globals, _ := os.ReadFile(d.config(""))
			line := strings.Count(string(globals), "\n") + 2 + tc.line
			cf := d.config("hostgroup g1 h1\n\n" + tc.body + "\n")
			code, stdout, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
			if code == 0 {
				t.Fatalf("exit status 0; stdout %q stderr %q", stdout, stderr)
			}
			where := cf + ":" + strconv.Itoa(line) + ":"
			if !strings.Contains(stderr, where) || !strings.Contains(stderr, tc.text) {
				t.Errorf("stderr does not name %s and %q:\n%s", where, tc.text, stderr)
			}
		})
	}
}

// TestCheckConfigFixtures runs the project's malformed fixtures: fatal
// ones fail naming the file and line; the ones mon only warns about
// pass with a warning that names the line.
func TestCheckConfigFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "config", "malformed")
	tests := map[string]struct {
		fatal bool
		line  int
		text  string
	}{
		"bad_interval.cf":            {true, 8, "invalid time interval"},
		"bad_period.cf":              {true, 10, "malformed period 'wd {Funday}'"},
		"unknown_global.cf":          {true, 3, "unknown variable 'frobnicate'"},
		"unknown_period_keyword.cf":  {true, 12, "unknown syntax [escalate 2]"},
		"unknown_service_keyword.cf": {true, 10, "unknown syntax [retries 3]"},
		"missing_monitor.cf":         {true, 7, "no monitor found while trying to run [no-such.monitor]"},
		"service_outside_watch.cf":   {false, 6, "line ignored: 'service svc'"},
		"undefined_hostgroup.cf":     {false, 0, "Warning: watch group nosuchgroup defined with no corresponding hostgroup."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path, err := filepath.Abs(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Skipf("fixture missing: %v", err)
			}
			code, stdout, stderr := runMon(t, t.TempDir(), "--check-config", "-c", path)
			if tc.fatal == (code == 0) {
				t.Errorf("exit status %d, fatal %v; stdout %q stderr %q", code, tc.fatal, stdout, stderr)
			}
			if !strings.Contains(stderr, tc.text) {
				t.Errorf("stderr lacks %q:\n%s", tc.text, stderr)
			}
			if tc.line > 0 && !strings.Contains(stderr, path+":"+strconv.Itoa(tc.line)+":") {
				t.Errorf("stderr does not name %s:%d:\n%s", path, tc.line, stderr)
			}
			if !tc.fatal && !strings.Contains(stdout, "configuration OK") {
				t.Errorf("stdout %q", stdout)
			}
		})
	}
}

// TestCheckConfigMissingPrograms: a monitor or alert program that is not
// installed fails the check (the daemon only warns and runs the rest).
func TestCheckConfigMissingPrograms(t *testing.T) {
	d := newMonDir(t)
	cf := d.config("hostgroup g1 h1\n\nwatch g1\n    service s\n        monitor nope.monitor\n" +
		"        period wd {Sun-Sat}\n            alert nope.alert\n")
	code, stdout, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
	if code != 1 || strings.Contains(stdout, "configuration OK") {
		t.Errorf("status %d stdout %q, want 1 and no verdict OK", code, stdout)
	}
	for _, want := range []string{"no monitor found while trying to run [nope.monitor]", "no alert found while trying to run nope.alert",
		cf + ": 2 programs not found"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "(warning)") {
		t.Errorf("a missing program shown as a warning:\n%s", stderr)
	}
}

// TestCheckConfigWarningsWithErrors: the warnings are printed also when
// the file has errors, since they may explain them.
func TestCheckConfigWarningsWithErrors(t *testing.T) {
	d := newMonDirWithPrograms(t)
	cf := d.config("hostgroup g1 h1\n\nwatch g1\n    service s\n        monitor m\n\n        interval 5m\nmaxproc = 3\n")
	code, _, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
	for _, want := range []string{"warning: line ignored: 'interval 5m'", "blank lines are not allowed inside a watch", "unknown variable 'maxproc'; did you mean 'maxprocs'?"} {
		if code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("status %d, stderr lacks %q:\n%s", code, want, stderr)
		}
	}
}

// TestCheckConfigGood: a good configuration exits 0.
func TestCheckConfigGood(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/flip.monitor", flipMonitor)
	d.script("alert.d/rec.alert", recAlert)
	cf := d.config(`
hostgroup g1 h1 h2

watch g1
    service s1
        interval 1m
        monitor flip.monitor
        period wd {Mon-Fri} hr {9am-5pm}
            alert rec.alert
            alertevery 1h
`)
	code, stdout, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
	if code != 0 || stdout != cf+": configuration OK\n" || stderr != "" {
		t.Errorf("status %d stdout %q stderr %q", code, stdout, stderr)
	}
}

// TestCheckConfigDNSUpdate: the dnsupdate alert's flags are checked at
// load, as every built-in's: a bad one fails --check-config naming it.
func TestCheckConfigDNSUpdate(t *testing.T) {
	d := newMonDirWithPrograms(t)
	for _, tc := range []struct{ args, text string }{
		{"-Z example.test -N www -A 127.0.0.2 -S 127.0.0.1:5353 -k gomon-key:c2VjcmV0", ""},
		{"-Z example.test -N www -A web1", "dnsupdate alert: -A"},
		{"-N www", "-Z ZONE and -N NAME are required"},
		{"-Z example.test -N www -K /nonexistent/gomon.key", "dnsupdate alert: -K"},
	} {
		cf := d.config("hostgroup g1 127.0.0.2\n\nwatch g1\n    service s\n        monitor m\n        period wd {Sun-Sat}\n" +
			"            alert dnsupdate.alert " + tc.args + "\n            upalert dnsupdate.alert " + tc.args + "\n")
		code, stdout, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
		if tc.text == "" {
			if code != 0 || !strings.Contains(stdout, "configuration OK") {
				t.Errorf("%s: status %d stdout %q stderr %q", tc.args, code, stdout, stderr)
			}
			continue
		}
		if code == 0 || !strings.Contains(stderr, tc.text) {
			t.Errorf("%s: status %d, stderr lacks %q:\n%s", tc.args, code, tc.text, stderr)
		}
	}
}

// TestNoConfigFile: without a configuration file the daemon stops with a
// message that names the file it looked for and the two ways on; only
// --embedded-config runs the built-in configuration.
func TestNoConfigFile(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runMon(t, dir, "-B", dir)
	want := "no configuration file: " + filepath.Join(dir, "mon.cf") + " does not exist; name one with -c FILE, " +
		"or run the built-in configuration that watches this host with --embedded-config\n"
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("status %d stdout %q stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = runMon(t, dir, "--check-config", "--embedded-config", "-b", dir)
	if code != 0 || !strings.Contains(stdout, "configuration OK") {
		t.Errorf("--embedded-config: status %d stdout %q stderr %q", code, stdout, stderr)
	}
}
