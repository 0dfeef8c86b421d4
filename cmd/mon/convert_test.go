package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// debianExamples are Debian's shipped configurations for mon (the mon
// package's /etc/mon/mon.cf and /usr/share/doc/mon/examples), copied
// unchanged for the fault suite.
var debianExamples = filepath.Join("..", "..", "faults", "testdata", "debian")

// TestConvertDebianExamples: `mon convert` of each of Debian's example
// configurations keeps every comment, writes only settings the file has
// (no defaults, no paths derived from basedir and the like), and its
// output passes --check-config exactly when the input does.
func TestConvertDebianExamples(t *testing.T) {
	// The attributes HCL needs for what mon.cf says positionally.
	structural := map[string]bool{"hosts": true, "when": true, "members": true, "lines": true, "env": true}
	attrRE := regexp.MustCompile(`(?m)^\s*([a-z_]+)\s+= `)
	passed := 0
	for _, name := range []string{"etc-mon.cf", "example.cf", "example.m4", "very-simple.cf"} {
		t.Run(name, func(t *testing.T) {
			in, err := filepath.Abs(filepath.Join(debianExamples, name))
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			code, hcl, stderr := runMon(t, dir, "convert", in)
			if code != 0 {
				t.Fatalf("convert: status %d stderr %q", code, stderr)
			}
			for _, l := range strings.Split(string(src), "\n") {
				if c := strings.TrimSpace(l); strings.HasPrefix(c, "#") && !strings.Contains(hcl, c+"\n") {
					t.Errorf("comment %q lost", c)
				}
			}
			for _, m := range attrRE.FindAllStringSubmatch(hcl, -1) {
				if !structural[m[1]] && !strings.Contains(string(src), m[1]) {
					t.Errorf("%s written, but %s does not set it", m[1], name)
				}
			}
			if strings.Contains(hcl, "/var/log/mon/dtlog") || strings.Contains(hcl, "/var/lib/mon") && !strings.Contains(string(src), "/var/lib/mon") {
				t.Errorf("a derived path written:\n%s", hcl)
			}
			out := filepath.Join(dir, "mon.hcl")
			if err := os.WriteFile(out, []byte(hcl), 0o644); err != nil {
				t.Fatal(err)
			}
			inCode, _, inErr := runMon(t, dir, "--check-config", "-c", in)
			outCode, _, outErr := runMon(t, dir, "--check-config", "-c", out)
			if inCode == 0 && outCode != 0 {
				t.Errorf("the input passes --check-config, the output (status %d) does not:\n%s\n%s", outCode, outErr, hcl)
			}
			if inCode == 0 {
				passed++
			} else {
				t.Logf("the input does not pass --check-config here (status %d): %s", inCode, firstLines(inErr, 3))
			}
		})
	}
	if passed == 0 {
		t.Error("no example passes --check-config: nothing compared")
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}
