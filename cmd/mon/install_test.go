package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/monitors"
)

// TestInstalledDropInsExist checks that every drop-in name `make install`
// links to the mon binary is a registered built-in, so an installed
// NAME.monitor or NAME.alert never runs into "no such built-in".
func TestInstalledDropInsExist(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continuation lines, then read the two lists.
	text := strings.ReplaceAll(string(mk), "\\\n", " ")
	for _, list := range []struct {
		name   string
		exists func(string) bool
	}{
		{"DROPIN_MONITORS", func(n string) bool { return monitors.Lookup(n) != nil }},
		{"DROPIN_ALERTS", func(n string) bool { return alerts.Lookup(n) != nil }},
	} {
		m := regexp.MustCompile(`(?m)^` + list.name + ` :=(.*)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s in the Makefile", list.name)
		}
		for _, n := range strings.Fields(m[1]) {
			if !list.exists(n) {
				t.Errorf("%s names %s, which is not a built-in", list.name, n)
			}
		}
	}
}
