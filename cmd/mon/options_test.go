package main

import (
	"testing"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{
		"-c", "/x/mon.cf", "-p", "2600", "--trapport=2601", "-d", "-d",
		"-l", "all", "-M", "-S", "--pidfile", "", "-a", "/a:/b", "--m4=/usr/bin/m4",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.configFile != "/x/mon.cf" || *o.port != 2600 || *o.trapPort != 2601 || o.debug != 2 ||
		o.loadState != "all" || !o.stopped || *o.pidFile != "" || *o.alertDir != "/a:/b" || *o.m4 != "/usr/bin/m4" {
		t.Errorf("parsed %+v", o)
	}
}

func TestParseOptionsOptionalValues(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		load string
		m4   *string
		args []string
	}{
		{[]string{"-l"}, "disabled", nil, nil},
		{[]string{"-l", "-S"}, "disabled", nil, nil},
		{[]string{"--loadstate=opstatus"}, "opstatus", nil, nil},
		{[]string{"-M", "period", "wd {Mon}"}, "", new(string), []string{"period", "wd {Mon}"}},
	} {
		o, err := parseOptions(tc.argv)
		if err != nil {
			t.Fatalf("%q: %v", tc.argv, err)
		}
		if o.loadState != tc.load {
			t.Errorf("%q: loadstate %q, want %q", tc.argv, o.loadState, tc.load)
		}
		if (o.m4 == nil) != (tc.m4 == nil) {
			t.Errorf("%q: m4 %v", tc.argv, o.m4)
		}
		if len(o.args) != len(tc.args) {
			t.Errorf("%q: args %q", tc.argv, o.args)
		}
	}
}

func TestParseOptionsErrors(t *testing.T) {
	for _, argv := range [][]string{
		{"-x"},
		{"--nosuch"},
		{"-c"},
		{"-p", "eighty"},
		{"-l", "everything"},
		{"-Sd"}, // no bundling, as in mon
		{"--stopped=yes"},
	} {
		if _, err := parseOptions(argv); err == nil {
			t.Errorf("%q: no error", argv)
		}
	}
}
