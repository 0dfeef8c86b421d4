package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
)

// invalidButParsable are configurations mon.cf's grammar accepts but
// gomon cannot run as written; each must be refused alike by
// --check-config, at start and by a reload.
var invalidButParsable = []struct{ name, body, text string }{
	{"built-in monitor flag", "    service s\n        interval 1m\n        monitor tcp.monitor -Z\n", "unknown option: -Z"},
	{"built-in monitor regex", "    service s\n        interval 1m\n        monitor tcp.monitor -e (?=x)\n", "tcp.monitor"},
	{"built-in alert flag", "    service s\n        interval 1m\n        monitor m\n        period\n            alert mail.alert --bogus root\n", "unknown option --bogus"},
	{"authtype pam", "    service s\n        interval 1m\n        monitor m\n", "authtype pam is not supported"},
	{"reversed exit range", "    service s\n        interval 1m\n        monitor m\n        period\n            alert exit=5-2 x.alert\n", "invalid exit code range '5-2'"},
	{"clientallow pattern", "    service s\n        interval 1m\n        monitor m\n", "clientallow"},
	{"interval below the minimum", "    service s\n        interval 0.0001s\n        monitor m\n", "below the minimum"},
}

func invalidConfig(d *monDir, name, body string) string {
	head := "hostgroup g h1\n\nwatch g\n"
	switch name {
	case "authtype pam":
		head = "authtype = pam\n\n" + head
	case "clientallow pattern":
		head = "clientallow = 10.0.0.(\n\n" + head
	}
	return d.config(head + body)
}

// TestOneValidationPath: what --check-config rejects, the daemon refuses
// to start with (naming the file and line, exit status 1), and a reload
// refuses to apply while the running configuration carries on.
func TestOneValidationPath(t *testing.T) {
	d := newMonDirWithPrograms(t)
	for _, tc := range invalidButParsable {
		t.Run(tc.name, func(t *testing.T) {
			cf := invalidConfig(d, tc.name, tc.body)
			code, _, stderr := runMon(t, d.dir, "--check-config", "-c", cf)
			if code == 0 || !strings.Contains(stderr, tc.text) || !strings.Contains(stderr, cf+":") {
				t.Errorf("--check-config: status %d, stderr:\n%s", code, stderr)
			}
			code, _, stderr = runMon(t, d.dir, "-c", cf)
			if code != 1 || !strings.Contains(stderr, tc.text) || !strings.Contains(stderr, cf+":") {
				t.Errorf("start: status %d, stderr:\n%s", code, stderr)
			}
		})
	}

	good := d.config("hostgroup g h1\n\nwatch g\n    service ok\n        interval 1m\n        monitor m\n")
	p := d.start(nil, "-c", good)
	for _, tc := range invalidButParsable {
		invalidConfig(d, tc.name, tc.body)
		if got := p.command("reset"); !strings.Contains(got, "520 reset") {
			t.Errorf("%s: reset applied: %q", tc.name, got)
		}
		if got := p.command("list opstatus"); !strings.Contains(got, "group=g service=ok ") {
			t.Errorf("%s: the running configuration is gone: %q", tc.name, got)
		}
	}
}

// TestReloadWithoutServicesNeedsForce: a configuration file emptied by
// mistake (or cut to its globals) is not applied by a reset or SIGHUP;
// `reset force` applies it.
func TestReloadWithoutServicesNeedsForce(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/m", "exit 0")
	cf := d.config("hostgroup g h1\n\nwatch g\n    service ok\n        interval 1m\n        monitor m\n")
	p := d.start(nil, "-c", cf)
	globals, err := os.ReadFile(d.config(""))
	if err != nil {
		t.Fatal(err)
	}
	d.write("mon.cf", string(globals), 0o644) // globals only
	if got := p.command("reset"); !strings.Contains(got, "520 reset") || !strings.Contains(got, "reset force") {
		t.Errorf("reset of a configuration without services: %q", got)
	}
	if got := p.command("list opstatus"); !strings.Contains(got, "group=g service=ok ") {
		t.Errorf("services dropped: %q", got)
	}
	if got := p.command("reset force"); !strings.Contains(got, "220 reset") {
		t.Errorf("reset force: %q", got)
	}
	if got := p.command("list opstatus"); strings.Contains(got, "group=g") {
		t.Errorf("reset force kept the old services: %q", got)
	}
}

// TestServerbindAnyIPv4IsIPv4Only: serverbind 0.0.0.0 listens on every
// IPv4 address and not on IPv6, as mon does.
func TestServerbindAnyIPv4IsIPv4Only(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/m", "exit 0")
	cf := d.config("hostgroup g h1\n\nwatch g\n    service ok\n        interval 1m\n        monitor m\n")
	text, _ := os.ReadFile(cf)
	d.write("mon.cf", strings.Replace(strings.Replace(string(text), "serverbind = 127.0.0.1", "serverbind = 0.0.0.0", 1),
		"trapbind = 127.0.0.1", "trapbind = 0.0.0.0", 1), 0o644)
	p := d.start(nil, "-c", cf)
	if got := p.command("list opstatus"); !strings.Contains(got, "220 list opstatus completed") {
		t.Fatalf("IPv4 client: %q", got)
	}
	c, err := net.Dial("tcp6", fmt.Sprintf("[::1]:%d", d.port))
	if err == nil {
		c.Close()
		t.Error("serverbind 0.0.0.0 accepts IPv6 connections")
	}
}
