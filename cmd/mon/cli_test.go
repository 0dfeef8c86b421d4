package main

import (
	"strings"
	"testing"
)

// TestCLI runs the binary's non-daemon command lines.
func TestCLI(t *testing.T) {
	t.Setenv("TZ", "UTC") // periods are local time
	dir := t.TempDir()
	const (
		monNoon = "1795435200" // Mon 2026-11-23 12:00 UTC
		sunNoon = "1795348800" // Sun 2026-11-22 12:00 UTC
		monEve  = "1795464000" // Mon 2026-11-23 20:00 UTC
	)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // exact, unless prefix is set
		prefix   bool
		inStderr string
	}{
		{"version", []string{"-v"}, 0, "mon-1.3.4 (gomon ", true, ""},
		{"version long", []string{"--version"}, 0, "mon-1.3.4", true, ""},
		{"help", []string{"-h"}, 0, "Usage: mon [options] [command]\n", true, ""},
		{"unknown option", []string{"--nosuch"}, 2, "", false, "unknown option --nosuch"},
		{"unknown short option", []string{"-x"}, 2, "", false, "Usage: mon"},
		{"unknown command", []string{"frob"}, 2, "", false, `unknown command "frob"`},
		{"period", []string{"period", "wd {Mon-Fri} hr {9am-5pm}", monNoon, sunNoon, monEve}, 0, "1\n0\n0\n", false, ""},
		{"period bad spec", []string{"period", "wd {Funday}", monNoon}, 1, "-1\n", false, "not a weekday"},
		// Time::Period stops at the first matching sub-period: inside on
		// the 1st-15th, malformed otherwise (the loader rejects it always).
		{"period bad sub-period after a match", []string{"period", "md {1-23}, foo {1}", monNoon, "1795780800"}, 1, "1\n-1\n", false, `sub-period 2 "foo {1}"`},
		{"period bad time", []string{"period", "wd {Mon}", "noon"}, 2, "", false, `"noon" is not a unix time`},
		{"period no spec", []string{"period"}, 2, "", false, "usage: mon period"},
		{"convert no file", []string{"convert"}, 2, "", false, "usage: mon convert FILE"},
		{"convert missing file", []string{"convert", dir + "/nope.cf"}, 1, "", false, "nope.cf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runMon(t, dir, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if tc.prefix && !strings.HasPrefix(stdout, tc.stdout) || !tc.prefix && stdout != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.inStderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.inStderr)
			}
		})
	}
}

// TestConvert: `mon convert` prints HCL that gomon loads back.
func TestConvert(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/flip.monitor", flipMonitor)
	d.script("alert.d/rec.alert", recAlert)
	cf := d.config(`
hostgroup g1 h1 h2

watch g1
    service s1
        interval 1m
        monitor flip.monitor
        period wd {Mon-Fri}
            alert rec.alert a "b c"
`)
	code, hcl, stderr := runMon(t, d.dir, "convert", cf)
	if code != 0 || stderr != "" {
		t.Fatalf("convert: status %d stderr %q", code, stderr)
	}
	for _, want := range []string{`hostgroup "g1" {`, `hosts = ["h1", "h2"]`, `watch "g1" {`, `service "s1" {`, `period "wd {Mon-Fri}" {`} {
		if !strings.Contains(hcl, want) {
			t.Errorf("HCL lacks %q:\n%s", want, hcl)
		}
	}
	d.write("mon.hcl", hcl, 0o644)
	code, stdout, stderr := runMon(t, d.dir, "--check-config", "-c", d.path("mon.hcl"))
	if code != 0 {
		t.Errorf("converted HCL does not load: %d %q %q\n%s", code, stdout, stderr, hcl)
	}
}
