package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/gomon/gomon/internal/syslog"
)

// logRecord is one line of --log-format json.
type logRecord map[string]any

func (r logRecord) str(k string) string { s, _ := r[k].(string); return s }

func (r logRecord) strs(k string) []string {
	var out []string
	l, _ := r[k].([]any)
	for _, v := range l {
		s, _ := v.(string)
		out = append(out, s)
	}
	return out
}

// jsonRecords parses mon's stderr, failing on a line that is not JSON.
func jsonRecords(t *testing.T, out string) []logRecord {
	t.Helper()
	var recs []logRecord
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r logRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestStructuredLogs runs the daemon with JSON logs: a service that
// fails on every run is one state-change record, its alert a start and
// a done record with the alert's fields, an operator's disable one
// operator-action record; client commands and connections are not
// logged at info, and nothing carries the syslog-only attributes.
func TestStructuredLogs(t *testing.T) {
	d := newMonDir(t)
	d.script("mon.d/down.monitor", `echo run >> DIR/runs; echo "h1 down"; exit 1`)
	d.script("alert.d/rec.alert", recAlert)
	cf := d.config(`
hostgroup g1 h1 h2

watch g1
    service s1
        interval 1s
        monitor down.monitor
        period wd {Sun-Sat}
            alert rec.alert
            alertevery 1h
`)
	p := d.start(nil, "-c", cf, "--log-format", "json")
	// Three failures: the first changes the state, the others do not.
	waitFile(t, d.path("runs"), func(b []byte) bool { return bytes.Count(b, []byte("\n")) >= 3 })
	p.waitFor(`"msg":"alert done"`)
	p.command("list opstatus")
	if r := p.command("disable service g1 s1"); !strings.HasPrefix(r, "220") {
		t.Fatalf("disable: %q", r)
	}
	p.waitFor(`"msg":"operator action"`)
	p.signal(syscall.SIGTERM)
	p.wait()

	var changes, started, done, actions []logRecord
	for _, r := range jsonRecords(t, p.out.String()) {
		if _, ok := r[syslog.Key]; ok {
			t.Errorf("record with the syslog priority attribute: %v", r)
		}
		if _, ok := r[syslog.Classic]; ok {
			t.Errorf("record with the classic syslog line: %v", r)
		}
		msg := r.str("msg")
		if strings.Contains(msg, "client") || strings.Contains(msg, "failure for") || strings.Contains(msg, "calling") {
			t.Errorf("chatter or a classic line at %s: %v", r.str("level"), r)
		}
		switch msg {
		case "service state changed":
			changes = append(changes, r)
		case "alert started":
			started = append(started, r)
		case "alert done":
			done = append(done, r)
		case "operator action":
			actions = append(actions, r)
		}
	}

	if len(changes) != 1 {
		t.Fatalf("%d state-change records, want 1: %v", len(changes), changes)
	}
	c := changes[0]
	if c.str("level") != "ERROR" || c.str("group") != "g1" || c.str("service") != "s1" || c.str("opstatus") != "fail" ||
		c.str("prev_opstatus") != "untested" || c.str("summary") != "h1 down" || !slices.Equal(c.strs("hosts"), []string{"h1"}) {
		t.Errorf("state change %v: want ERROR g1/s1 hosts [h1] fail (was untested), summary \"h1 down\"", c)
	}

	alertFields := func(what string, r logRecord) {
		t.Helper()
		if r.str("group") != "g1" || r.str("service") != "s1" || r.str("alert") != "rec.alert" || r.str("alert_type") != "failure" ||
			r.str("opstatus") != "fail" || !slices.Equal(r.strs("hosts"), []string{"h1", "h2"}) {
			t.Errorf("%s %v: want g1/s1 alert rec.alert alert_type failure opstatus fail hosts [h1 h2]", what, r)
		}
	}
	if len(started) != 1 || len(done) != 1 {
		t.Fatalf("alert records: %d started, %d done; want 1 each", len(started), len(done))
	}
	alertFields("alert started", started[0])
	if started[0].str("summary") != "h1 down" {
		t.Errorf("alert started without the summary: %v", started[0])
	}
	alertFields("alert done", done[0])

	if len(actions) != 1 {
		t.Fatalf("%d operator-action records, want 1 (list is not an action): %v", len(actions), actions)
	}
	a := actions[0]
	if a.str("level") != "INFO" || a.str("command") != "disable service g1 s1" || a.str("group") != "g1" || a.str("service") != "s1" ||
		a.str("client") != "127.0.0.1" || a.str("result") != "220" || a["user"] != "" {
		t.Errorf("operator action %v: want INFO, user \"\" from 127.0.0.1, disable service g1 s1, result 220", a)
	}
}

// TestChatterIsDebug: with -d a record that is only syslog's at info
// shows on stderr as DEBUG, without the syslog-only attributes.
func TestChatterIsDebug(t *testing.T) {
	var b bytes.Buffer
	log := newLogger(&options{debug: 1, logFormat: "json"}, &b)
	log.Log(context.Background(), syslog.LevelChatter, "client connected", "client", "127.0.0.1:1",
		syslog.Key, "info", syslog.Classic, "client connection from 127.0.0.1:1")
	var r logRecord
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.str("level") != "DEBUG" || r.str("msg") != "client connected" || r[syslog.Key] != nil || r[syslog.Classic] != nil {
		t.Errorf("got %s", b.Bytes())
	}
	b.Reset()
	newLogger(&options{logFormat: "json"}, &b).Log(context.Background(), syslog.LevelChatter, "x")
	if b.Len() != 0 {
		t.Errorf("chatter on stderr without -d: %s", b.Bytes())
	}
}
