// Package prometheus_test checks the files in this directory: the
// alerting rules pass `promtool check rules`, the Grafana dashboard is
// JSON, and every metric either of them names is one gomon exports.
package prometheus_test

import (
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/web"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

func TestRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool (Debian package prometheus) is needed: run scripts/install-test-deps.sh")
	}
	if out, err := exec.Command(promtool, "check", "rules", "gomon.rules.yml").CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	rules, err := os.ReadFile("gomon.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	checkNames(t, "gomon.rules.yml", string(rules))
}

func TestDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	var exprs []string
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	if len(exprs) == 0 {
		t.Fatal("no panels")
	}
	// The template variables name metrics too.
	checkNames(t, "grafana-dashboard.json", strings.Join(exprs, "\n")+"\n"+string(b))
}

var metricRE = regexp.MustCompile(`\b(?:gomon|go|process)_[a-z_]+\b`)

// checkNames fails for every gomon_, go_ or process_ name in text that
// gomon's /metrics does not serve.
func checkNames(t *testing.T, file, text string) {
	t.Helper()
	served := exposition(t)
	for _, name := range metricRE.FindAllString(text, -1) {
		if !regexp.MustCompile(`(?m)^` + name + `[{ ]`).MatchString(served) {
			t.Errorf("%s uses %s, which /metrics does not serve", file, name)
		}
	}
}

// exposition is /metrics for one service with every kind of sample.
func exposition(t *testing.T) string {
	t.Helper()
	now := time.Now()
	c := web.NewCounters()
	for _, e := range []scheduler.Event{
		{Kind: "load"},
		{Kind: "monitor-start", Group: "g", Service: "s", Time: now, Due: now},
		{Kind: "monitor-done", Group: "g", Service: "s"},
		{Kind: "alert", Group: "g", Service: "s", Alert: "mail.alert", AlertType: decide.AlertType("failure")},
		{Kind: "alert-failed", Group: "g", Service: "s", Alert: "mail.alert", AlertType: decide.AlertType("failure")},
		{Kind: "trap", Group: "g", Service: "s"},
	} {
		c.Observe(e)
	}
	srv := httptest.NewServer(web.Handler(fakeSource{{
		ServiceRef: scheduler.ServiceRef{Group: "g", Service: "s"},
		LastCheck:  now, Ran: true, Duration: time.Second,
		Hosts:  []monitors.HostResult{{Host: "h", OK: true}},
		Values: []monitors.Value{{Name: "response_seconds", Host: "h", Value: 0.1}},
	}}, c, nil, nil))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type fakeSource []scheduler.Status

func (f fakeSource) StatusAll() []scheduler.Status              { return f }
func (fakeSource) Stopped() (bool, time.Time)                   { return false, time.Time{} }
func (fakeSource) Trace(string, string) ([]decide.Trace, error) { return nil, nil }
func (fakeSource) AlertHistory() []string                       { return nil }
func (fakeSource) FailureHistory() []string                     { return nil }
func (fakeSource) GroupMembers(string) ([]string, bool)         { return []string{"h"}, true }
func (fakeSource) DisabledList() scheduler.Disabled             { return scheduler.Disabled{} }
func (fakeSource) Downtimes() []scheduler.Downtime              { return nil }
func (fakeSource) StateHistory(string, string) ([]scheduler.StateChange, error) {
	return nil, nil
}
