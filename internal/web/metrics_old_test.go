package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// The /metrics handler as it was before the per-service families were
// written straight to the response (commit cf13e67): every series a
// const metric gathered by client_golang's registry. The tests hold the
// new exposition to what this one says, and the benchmarks compare the
// two.

func oldMetricsHandler(src Source, c *Counters, extra []prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		&oldCollector{src: src, c: c},
	)
	for _, x := range extra {
		if x != nil {
			reg.MustRegister(x)
		}
	}
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

var (
	oldSvc      = []string{"group", "service"}
	oldSvcAlert = []string{"group", "service", "alert", "type"}

	oldDescStopped   = oldDesc("gomon_scheduler_stopped", "1 while the scheduler is stopped (mon's stop command).")
	oldDescUp        = oldDesc("gomon_service_up", "0 while the service is failing (fail, linkdown, timeout), else 1.", oldSvc...)
	oldDescStatus    = oldDesc("gomon_service_status", "mon's opstatus code: 0 fail, 1 ok, 2 coldstart, 3 warmstart, 4 linkdown, 5 unknown, 6 timeout, 7 untested, 8 depend, 9 warn.", oldSvc...)
	oldDescDisabled  = oldDesc("gomon_service_disabled", "1 while the service is disabled.", oldSvc...)
	oldDescAcked     = oldDesc("gomon_service_acked", "1 while the service's failure is acknowledged (mon's ack command).", oldSvc...)
	oldDescLastCheck = oldDesc("gomon_service_last_check_timestamp_seconds", "When the last monitor run finished (unix time).", oldSvc...)
	oldDescDuration  = oldDesc("gomon_monitor_duration_seconds", "Duration of the last monitor run.", oldSvc...)
	oldDescOverdue   = oldDesc("gomon_monitor_overdue", "1 while the service's monitor has been running for 3 intervals or more: the service is not being checked.", oldSvc...)
	oldDescFailures  = oldDesc("gomon_service_failures_total", "Failures seen since the service was loaded (mon's _failure_count).", oldSvc...)
	oldDescFlapping  = oldDesc("gomon_service_flapping", "1 while the service is flapping (flap_detection; only services that have it).", oldSvc...)
	oldDescFlapPct   = oldDesc("gomon_service_flap_percent", "The weighted percent state change over the last flap_detection results (only services that have it).", oldSvc...)
	oldDescHostUp    = oldDesc("gomon_host_up", "The last run's verdict on each host, for built-in monitors that check hosts one by one: 1 ok, 0 failed.", "group", "service", "host")
	oldDescValue     = oldDesc("gomon_monitor_value", "Every number the last monitor run reported: Nagios perfdata, free space, SNMP values, process counts, load, response times (name response_seconds). host is empty for a value of the monitoring machine or the run as a whole.", "group", "service", "host", "name")
	oldDescRuns      = oldDesc("gomon_monitor_runs_total", "Finished monitor runs.", oldSvc...)
	oldDescAlerts    = oldDesc("gomon_alerts_total", "Alerts started, by alert program and type (failure, up, trap, ...).", oldSvcAlert...)
	oldDescAlertFail = oldDesc("gomon_alert_failures_total", "Alert attempts that failed (each retry counts), by alert program.", oldSvcAlert...)
	oldDescTraps     = oldDesc("gomon_traps_total", "Accepted traps.", oldSvc...)
	oldDescLoads     = oldDesc("gomon_config_loads_total", "Configuration loads: the start and every reset.")
	oldDescLateness  = oldDesc("gomon_monitor_start_lateness_seconds", "How long after falling due monitor runs started (timer latency, or waiting for a maxprocs slot or the previous run).")
)

func oldDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector turns the scheduler's state and the event counters into
// samples when scraped, so nothing is kept twice and a scrape sees one
// consistent snapshot.
type oldCollector struct {
	src Source
	c   *Counters
}

func (*oldCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{oldDescStopped, oldDescUp, oldDescStatus, oldDescDisabled, oldDescAcked, oldDescLastCheck,
		oldDescDuration, oldDescOverdue, oldDescFailures, oldDescFlapping, oldDescFlapPct, oldDescHostUp, oldDescValue, oldDescRuns, oldDescAlerts, oldDescAlertFail,
		oldDescTraps, oldDescLoads, oldDescLateness} {
		ch <- d
	}
}

func (col *oldCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	stopped, _ := col.src.Stopped()
	gauge(oldDescStopped, boolValue(stopped))
	for _, st := range col.src.StatusAll() {
		g, s := st.Group, st.Service
		gauge(oldDescUp, boolValue(!st.State.OpStatus.IsFailure()), g, s)
		gauge(oldDescStatus, float64(st.State.OpStatus), g, s)
		gauge(oldDescDisabled, boolValue(st.State.Disabled), g, s)
		gauge(oldDescAcked, boolValue(st.State.Ack != 0), g, s)
		if !st.LastCheck.IsZero() {
			gauge(oldDescLastCheck, float64(st.LastCheck.UnixMilli())/1000, g, s)
		}
		if st.Ran {
			gauge(oldDescDuration, st.Duration.Seconds(), g, s)
		}
		gauge(oldDescOverdue, boolValue(st.Overdue), g, s)
		counter(oldDescFailures, uint64(st.State.FailureCount), g, s)
		if p, flapping, ok := flapOf(st); ok {
			gauge(oldDescFlapping, boolValue(flapping), g, s)
			gauge(oldDescFlapPct, p, g, s)
		}
		// A host listed twice in a group, or a name a monitor reports
		// twice, would be a duplicate series the registry refuses: the
		// last one wins.
		up := map[string]bool{}
		var hosts []string
		for _, h := range st.Hosts {
			if _, dup := up[h.Host]; !dup {
				hosts = append(hosts, h.Host)
			}
			up[h.Host] = h.OK
		}
		for _, h := range hosts {
			gauge(oldDescHostUp, boolValue(up[h]), g, s, h)
		}
		type hostName struct{ host, name string }
		vals := map[hostName]float64{}
		var order []hostName
		for _, v := range st.Values {
			k := hostName{v.Host, v.Name}
			if _, dup := vals[k]; !dup {
				order = append(order, k)
			}
			vals[k] = v.Value
		}
		for _, k := range order {
			gauge(oldDescValue, vals[k], g, s, k.host, k.name)
		}
	}

	c := col.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.runs {
		counter(oldDescRuns, n, k.group, k.service)
	}
	for k, n := range c.alerts {
		counter(oldDescAlerts, n, k.group, k.service, k.alert, k.typ)
	}
	for k, n := range c.failed {
		counter(oldDescAlertFail, n, k.group, k.service, k.alert, k.typ)
	}
	for k, n := range c.traps {
		counter(oldDescTraps, n, k.group, k.service)
	}
	counter(oldDescLoads, c.loads)
	buckets := make(map[float64]uint64, len(latenessBuckets))
	var cum uint64
	for i, le := range latenessBuckets {
		cum += c.late.counts[i]
		buckets[le] = cum
	}
	ch <- prometheus.MustNewConstHistogram(oldDescLateness, c.late.n, c.late.sum, buckets)
}

// nastySource is services whose names, hosts and value names need
// escaping (quotes, backslashes, newlines, UTF-8), with duplicate hosts
// and value names, every opstatus, flapping, odd numbers, and counters
// for all of them.
func nastySource(t *testing.T) (*fakeSource, *Counters) {
	t.Helper()
	var flap decide.State
	if err := json.Unmarshal([]byte(`{"OpStatus":0,"Flapping":true,"FlapPercent":37.5,"FailureCount":12}`), &flap); err != nil {
		t.Fatal(err)
	}
	flapCfg := &config.Service{ServiceSpec: &config.ServiceSpec{Flap: &config.FlapDetection{Window: 10, Low: 20, High: 50}}}
	now := time.Unix(1_800_000_000, 123_456_789)
	var many []monitors.HostResult // more than eachLast looks through by hand
	for i := range 40 {
		many = append(many, monitors.HostResult{Host: fmt.Sprintf("h%d", i%25), OK: i%3 == 0})
	}
	src := &fakeSource{all: []scheduler.Status{
		{ServiceRef: scheduler.ServiceRef{Group: `g"quoted"`, Service: `back\slash`}, State: decide.State{OpStatus: decide.OK},
			LastCheck: now, Ran: true, Duration: 1500 * time.Millisecond,
			Hosts: []monitors.HostResult{{Host: "a", OK: true}, {Host: `b"\` + "\n", OK: false}, {Host: "a", OK: false}},
			Values: []monitors.Value{
				{Host: "", Name: "time", Value: 0.25}, {Host: "a", Name: "time", Value: 1}, {Host: "", Name: "time", Value: 2},
				{Host: "a", Name: "nan", Value: math.NaN()}, {Host: "a", Name: "inf", Value: math.Inf(1)},
				{Host: "a", Name: "-inf", Value: math.Inf(-1)}, {Host: "a", Name: "negzero", Value: math.Copysign(0, -1)},
				{Host: "a", Name: "tiny", Value: 5e-324}, {Host: "a", Name: "huge", Value: 1.7976931348623157e308},
				{Host: "a", Name: "-1", Value: -1}, {Host: "a", Name: "big int", Value: 12345678901234567890},
				{Host: "a", Name: "'quoted name'=\"x\"\\", Value: 3},
			}},
		{ServiceRef: scheduler.ServiceRef{Group: "new\nline", Service: "ünïcødé ✓ 日本"}, Config: flapCfg, State: flap,
			Overdue: true, LastCheck: now.Add(-time.Hour), Hosts: many},
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "never ran"}, State: decide.State{OpStatus: decide.Untested}},
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "acked"}, Config: flapCfg,
			State: decide.State{OpStatus: decide.Timeout, Ack: 1_800_000_000, Disabled: true, FailureCount: 3}},
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "warn"}, State: decide.State{OpStatus: decide.Warn}, Ran: true},
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "linkdown"}, State: decide.State{OpStatus: decide.LinkDown}},
	}}
	c := NewCounters()
	for i, st := range src.all {
		g, s := st.Group, st.Service
		for range i + 1 {
			c.Observe(scheduler.Event{Kind: "monitor-done", Group: g, Service: s})
			c.Observe(scheduler.Event{Kind: "monitor-start", Group: g, Service: s, Time: now, Due: now.Add(-time.Duration(i*i) * time.Millisecond)})
		}
		c.Observe(scheduler.Event{Kind: "alert", Group: g, Service: s, Alert: `mail"\.alert`, AlertType: "failure"})
		c.Observe(scheduler.Event{Kind: "alert-failed", Group: g, Service: s, Alert: "página.alert", AlertType: "up"})
		c.Observe(scheduler.Event{Kind: "trap", Group: g, Service: s})
	}
	// Counters outlive the services a reload removed.
	c.Observe(scheduler.Event{Kind: "monitor-done", Group: "gone", Service: "old"})
	c.Observe(scheduler.Event{Kind: "load"})
	c.Observe(scheduler.Event{Kind: "load"})
	return src, c
}

// scrape serves one GET /metrics, with Accept-Encoding enc (none if
// empty), and returns the Content-Type and the body, unzipped.
func scrape(t *testing.T, h http.Handler, enc string) (string, []byte) {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if enc != "" {
		req.Header.Set("Accept-Encoding", enc)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Header().Get("Content-Type"), body
}

// parseExposition parses a text exposition as Prometheus's Go library
// does, and checks what the parser lets through: one TYPE line per
// family, every family's samples together and after it.
func parseExposition(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	if !utf8.Valid(body) {
		t.Error("exposition is not UTF-8")
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}
	var cur string
	seen := map[string]bool{}
	for l := range strings.SplitSeq(strings.TrimSuffix(string(body), "\n"), "\n") {
		if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
			cur, _, _ = strings.Cut(name, " ")
			if seen[cur] {
				t.Errorf("family %s twice", cur)
			}
			seen[cur] = true
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		name := l[:strings.IndexAny(l, "{ ")]
		if name != cur && strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count") != cur {
			t.Errorf("sample of %s among family %s: %q", name, cur, l)
		}
	}
	return mfs
}

// series renders a family's samples by their labels, for comparison.
func series(mf *dto.MetricFamily) map[string]string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	out := map[string]string{}
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
		}
		slices.Sort(ls)
		k := strings.Join(ls, ",")
		var v string
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			v = f(m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			v = f(m.GetGauge().GetValue())
		case dto.MetricType_HISTOGRAM:
			h := m.GetHistogram()
			v = fmt.Sprint(h.GetSampleCount(), " ", f(h.GetSampleSum()))
			for _, b := range h.GetBucket() {
				v += fmt.Sprint(" ", f(b.GetUpperBound()), ":", b.GetCumulativeCount())
			}
		default:
			v = m.String()
		}
		if _, dup := out[k]; dup {
			k += " (again)"
		}
		out[k] = v
	}
	return out
}

// The streamed exposition says what the registry-based collector said for
// the same snapshot: the same families with the same help and type, and
// for gomon's own the same series with the same values (the runtime's and
// the process's change between scrapes), in identity and gzip.
func TestMetricsMatchRegistry(t *testing.T) {
	src, c := nastySource(t)
	trap := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gomon_snmptrap_received_total", Help: "Traps received."},
		func() float64 { return 7 })
	oldType, oldBody := scrape(t, oldMetricsHandler(src, c, []prometheus.Collector{trap}), "")
	want := parseExposition(t, oldBody)
	for _, enc := range []string{"", "gzip"} {
		ctype, body := scrape(t, metricsHandler(src, c, []prometheus.Collector{trap, nil}), enc)
		if ctype != oldType {
			t.Errorf("Content-Type %q, was %q", ctype, oldType)
		}
		got := parseExposition(t, body)
		for name, w := range want {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: family missing", name)
				continue
			}
			if g.GetHelp() != w.GetHelp() || g.GetType() != w.GetType() {
				t.Errorf("%s: help %q type %v, was %q %v", name, g.GetHelp(), g.GetType(), w.GetHelp(), w.GetType())
			}
			if strings.HasPrefix(name, "gomon_") {
				if gs, ws := series(g), series(w); !maps.Equal(gs, ws) {
					t.Errorf("%s: series\n%v\nwere\n%v", name, gs, ws)
				}
			}
		}
		for name := range got {
			if want[name] == nil {
				t.Errorf("%s: a family the registry did not have", name)
			}
		}
		// The families come in name order, as the registry gathers
		// them.
		var names []string
		for l := range strings.SplitSeq(string(body), "\n") {
			if name, ok := strings.CutPrefix(l, "# TYPE "); ok {
				names = append(names, name[:strings.IndexByte(name, ' ')])
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("families not in name order: %q", names)
		}
		// Byte for byte, gomon's lines are the ones expfmt wrote, only
		// the series within a family are in another order.
		if got, want := gomonLines(body), gomonLines(oldBody); !slices.Equal(got, want) {
			t.Errorf("gomon lines\n%q\nwere\n%q", got, want)
		}
	}
	// Each family is there, with the duplicates resolved as before.
	_, body := scrape(t, metricsHandler(src, c, nil), "")
	for _, want := range []string{
		`gomon_host_up{group="g\"quoted\"",host="a",service="back\\slash"} 0` + "\n",
		`gomon_host_up{group="g\"quoted\"",host="b\"\\\n",service="back\\slash"} 0` + "\n",
		`gomon_monitor_value{group="g\"quoted\"",host="",name="time",service="back\\slash"} 2` + "\n",
		`gomon_service_flap_percent{group="new\nline",service="ünïcødé ✓ 日本"} 37.5` + "\n",
		`gomon_monitor_value{group="g\"quoted\"",host="a",name="negzero",service="back\\slash"} 0` + "\n",
		`gomon_monitor_value{group="g\"quoted\"",host="a",name="inf",service="back\\slash"} +Inf` + "\n",
		`gomon_alert_failures_total{alert="página.alert",group="g",service="acked",type="up"} 1` + "\n",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
}

// gomonLines are the lines of gomon's families, sorted.
func gomonLines(body []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(l, "# HELP "), "# TYPE "), "gomon_") {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}

// A label value that is not UTF-8 (a monitor's perfdata label, say) would
// make Prometheus refuse the whole scrape: that one series is left out.
// (client_golang's MustNewConstMetric panicked on it.)
func TestMetricsSkipInvalidUTF8(t *testing.T) {
	src := &fakeSource{all: []scheduler.Status{
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "s"}, Ran: true,
			Hosts:  []monitors.HostResult{{Host: "bad\xff", OK: true}, {Host: "good", OK: true}},
			Values: []monitors.Value{{Name: "bad\xc3", Value: 1}, {Name: "good", Value: 2}}},
		{ServiceRef: scheduler.ServiceRef{Group: "g", Service: "\xfe"}},
	}}
	_, body := scrape(t, metricsHandler(src, NewCounters(), nil), "")
	mfs := parseExposition(t, body)
	for fam, want := range map[string][]string{
		"gomon_host_up":       {`group="g",host="good",service="s"`},
		"gomon_monitor_value": {`group="g",host="",name="good",service="s"`},
		"gomon_service_up":    {`group="g",service="s"`},
	} {
		if got := slices.Sorted(maps.Keys(series(mfs[fam]))); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", fam, got, want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"deflate, gzip;q=0.5":    true,
		"gzip;q=0":               false,
		"gzip; q=0.000":          false,
		"identity":               false,
		"br, x-gzip":             false,
		"deflate ,  gzip ; q=1 ": true,
	} {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: gzip %v", h, got)
		}
	}
}
