package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/web"
	"github.com/gomon/gomon/scheduler"
)

const testConfig = `
hostgroup g1 h1

hostgroup g2 h2 h3

watch g1
    service okay
        description all good
        interval 1s
        monitor ok.monitor

watch g2
    service broken
        description always fails
        interval 1s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert true.alert
            alertevery 1h
`

// statusServer is the status endpoints on a loopback test server, and a
// signal notified after every scheduler event.
type statusServer struct {
	*httptest.Server
	events await.Signal
}

// start runs a real scheduler with shell monitors and serves its status
// endpoints on a loopback test server.
func start(t *testing.T) (*scheduler.Scheduler, *statusServer) {
	t.Helper()
	return startWith(t, testConfig, map[string]string{
		"mon.d/ok.monitor":   "exit 0",
		"mon.d/fail.monitor": "echo 'h2 <b>down</b> \"quoted\"'; echo detail; exit 1",
		"alert.d/true.alert": "cat >/dev/null",
	})
}

// startWith is start with another configuration (after the paths) and
// other scripts, by path under the base directory, and extra collectors
// for /metrics.
func startWith(t *testing.T, config string, scripts map[string]string, extra ...prometheus.Collector) (*scheduler.Scheduler, *statusServer) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	head := fmt.Sprintf("basedir = %s\ncfbasedir = %s\nmondir = mon.d\nalertdir = alert.d\nstatedir = state\nlogdir = log\n", dir, dir)
	cfg, err := configfile.Parse("test.cf", []byte(head+config), configfile.LoadOptions{Cwd: dir})
	if err != nil {
		t.Fatal(err)
	}
	configfile.Resolve(cfg, dir)
	counters := web.NewCounters()
	srv := &statusServer{}
	s := scheduler.New(cfg, scheduler.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Events: func(e scheduler.Event) {
			counters.Observe(e)
			srv.events.Notify()
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	srv.Server = httptest.NewServer(web.Handler(s, counters, nil, nil, extra...))
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
	})
	return s, srv
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// waitMetrics reads /metrics at once and after every scheduler event
// until it contains want: whole sample lines, or the start of one for a
// want that ends in a blank.
func waitMetrics(t *testing.T, srv *statusServer, want ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var body, missing string
	err := srv.events.Until(ctx, func() bool {
		_, _, body = get(t, srv.URL+"/metrics")
		missing = ""
		for _, w := range want {
			if !strings.HasSuffix(w, " ") {
				w += "\n"
			}
			if !strings.Contains(body, w) {
				missing = w
			}
		}
		return missing == ""
	})
	if err != nil {
		t.Fatalf("metrics never showed %q:\n%s", missing, body)
	}
	return body
}

var (
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? [-+0-9.eE]+$`)
	typeRE   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary)$`)
)

// checkExposition checks every line against the text format: HELP and
// TYPE before the samples of a family, samples well formed.
func checkExposition(t *testing.T, body string) {
	t.Helper()
	typed := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "# HELP "):
		case strings.HasPrefix(l, "# TYPE "):
			m := typeRE.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("bad TYPE line %q", l)
				continue
			}
			typed[m[1]] = true
			if m[2] == "histogram" || m[2] == "summary" {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					typed[m[1]+suffix] = true
				}
			}
		default:
			m := sampleRE.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("bad sample line %q", l)
				continue
			}
			if !typed[m[1]] {
				t.Errorf("sample before its TYPE: %q", l)
			}
		}
	}
}

func TestMetrics(t *testing.T) {
	s, srv := start(t)
	body := waitMetrics(t, srv,
		`gomon_service_up{group="g2",service="broken"} 0`,
		`gomon_service_up{group="g1",service="okay"} 1`,
		`gomon_service_status{group="g2",service="broken"} 0`,
		`gomon_alerts_total{alert="true.alert",group="g2",service="broken",type="failure"} 1`,
		`gomon_service_status{group="g1",service="okay"} 1`,
		`gomon_scheduler_stopped 0`,
		`gomon_config_loads_total 1`,
		`gomon_monitor_runs_total{group="g2",service="broken"} `,
		`gomon_monitor_duration_seconds{group="g1",service="okay"} `,
		`gomon_service_last_check_timestamp_seconds{group="g1",service="okay"} `,
		`gomon_service_failures_total{group="g2",service="broken"} `,
	)
	checkExposition(t, body)
	// Every run so far started on time: the histogram counts each start,
	// in the smallest buckets.
	if !regexp.MustCompile(`(?m)^gomon_monitor_start_lateness_seconds_count [1-9]`).MatchString(body) ||
		!regexp.MustCompile(`(?m)^gomon_monitor_start_lateness_seconds_bucket\{le="\+Inf"\} [1-9]`).MatchString(body) ||
		!regexp.MustCompile(`(?m)^gomon_monitor_start_lateness_seconds_bucket\{le="0.1"\} [1-9]`).MatchString(body) {
		t.Errorf("lateness histogram missing or empty:\n%s", body)
	}
	promtool(t, body)
	_, ctype, _ := get(t, srv.URL+"/metrics")
	if !strings.HasPrefix(ctype, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ctype)
	}
	s.Stop()
	waitMetrics(t, srv, `gomon_scheduler_stopped 1`)
}

// promtool lints an exposition with Prometheus's own checker
// (scripts/install-test-deps.sh installs it).
func promtool(t *testing.T, body string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool (Debian package prometheus) is needed: run scripts/install-test-deps.sh")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestPage(t *testing.T) {
	_, srv := start(t)
	waitMetrics(t, srv, `gomon_service_up{group="g2",service="broken"} 0`)
	code, ctype, body := get(t, srv.URL+"/")
	if code != 200 || !strings.HasPrefix(ctype, "text/html") {
		t.Fatalf("GET /: %d %s", code, ctype)
	}
	broken, okay := strings.Index(body, `id="watch-g2"`), strings.Index(body, `id="watch-g1"`)
	if broken < 0 || okay < 0 || broken > okay {
		t.Errorf("failing watch not listed first (g2 at %d, g1 at %d):\n%s", broken, okay, body)
	}
	// The summary is escaped, the page is self-contained.
	for _, want := range []string{"h2 &lt;b&gt;down&lt;/b&gt; &#34;quoted&#34;", "1 failing", "always fails"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	// Its one script and stylesheet come from the daemon itself.
	for _, bad := range []string{"<b>down", "<script>", "http://", "https://", "style="} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if code, _, _ := get(t, srv.URL+"/nope"); code != http.StatusNotFound {
		t.Errorf("GET /nope: %d", code)
	}
	for _, a := range []string{"/assets/console.css", "/assets/console.js"} {
		if code, _, body := get(t, srv.URL+a); code != 200 || len(body) < 100 {
			t.Errorf("GET %s: %d, %d bytes", a, code, len(body))
		}
	}
}

func TestAPI(t *testing.T) {
	_, srv := start(t)
	waitMetrics(t, srv, `gomon_service_up{group="g2",service="broken"} 0`, `gomon_service_status{group="g1",service="okay"} 1`)

	_, ctype, body := get(t, srv.URL+"/api/status")
	if ctype != "application/json" {
		t.Errorf("Content-Type %q", ctype)
	}
	var rep struct {
		Stopped  bool
		Services []struct {
			Group, Service, Status, Summary, Detail, Description string
			Failing                                              bool
			LastCheck                                            *time.Time `json:"last_check"`
			StatusCode                                           int        `json:"status_code"`
		}
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	if len(rep.Services) != 2 {
		t.Fatalf("services: %+v", rep.Services)
	}
	b := rep.Services[1]
	if b.Group != "g2" || b.Service != "broken" || b.Status != "fail" || b.StatusCode != 0 || !b.Failing ||
		b.Summary != `h2 <b>down</b> "quoted"` || b.Detail != "detail\n" || b.Description != "always fails" || b.LastCheck == nil {
		t.Errorf("broken service: %+v", b)
	}
	if o := rep.Services[0]; o.Status != "ok" || o.Failing {
		t.Errorf("okay service: %+v", o)
	}

	code, _, body := get(t, srv.URL+"/api/decisions?group=g2&service=broken")
	var tr []struct {
		Rule string
		Sent bool
	}
	if err := json.Unmarshal([]byte(body), &tr); code != 200 || err != nil {
		t.Fatalf("decisions: %d %v:\n%s", code, err, body)
	}
	sent := false
	for _, d := range tr {
		sent = sent || d.Sent
	}
	if !sent {
		t.Errorf("no sent alert in the trace: %s", body)
	}
	_, _, body = get(t, srv.URL+"/api/history")
	var hist struct {
		Alerts []struct {
			Type, Group, Service, Alert, Summary string
			Time                                 time.Time
		}
		Failures []struct {
			Group, Service, Summary string
			Time                    time.Time
		}
	}
	if err := json.Unmarshal([]byte(body), &hist); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	if len(hist.Alerts) != 1 || hist.Alerts[0].Type != "alert" || hist.Alerts[0].Group != "g2" || hist.Alerts[0].Service != "broken" ||
		!strings.HasSuffix(hist.Alerts[0].Alert, "true.alert") || hist.Alerts[0].Time.IsZero() ||
		len(hist.Failures) == 0 || hist.Failures[0].Group != "g2" || hist.Failures[0].Summary != `h2 <b>down</b> "quoted"` {
		t.Errorf("history: %s", body)
	}

	for q, want := range map[string]int{
		"group=g2&service=nope": http.StatusNotFound,
		"group=nope&service=x":  http.StatusNotFound,
		"group=g2":              http.StatusBadRequest,
	} {
		if code, _, body := get(t, srv.URL+"/api/decisions?"+q); code != want || !strings.Contains(body, `"error"`) {
			t.Errorf("decisions?%s: %d %s, want %d", q, code, body, want)
		}
	}
}
