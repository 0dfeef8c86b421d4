package web

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gomon/gomon/internal/version"
	"github.com/gomon/gomon/scheduler"
)

// metricsHandler serves /metrics: the Go runtime and process collectors,
// gomon_build_info, the gomon_* families read from the scheduler's
// snapshot and the event counters on every scrape, and extra, the
// collectors of other parts of the daemon (the SNMP trap receiver's),
// handed in by cmd/mon; nil ones are skipped.
//
// The families with a series per service (over a million at 100,000
// services) are written straight from the snapshot in the text format:
// gathered as client_golang const metrics (a protobuf message each,
// all held and sorted before the first byte went out) they cost 870 MB
// of allocations and 4 s per scrape (BenchmarkMetricsScrape). The few
// others go through a registry and expfmt as usual.
func metricsHandler(src Source, c *Counters, extra []prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		newCollector(src, c),
	)
	for _, x := range extra {
		if x != nil {
			reg.MustRegister(x)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// At 100,000 services a scrape writes over a million series:
		// on a busy machine that outlasted the status server's write
		// timeout, which cut the answer off (the client saw EOF).
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(metricsWriteTimeout))
		serveMetrics(w, r, reg, src, c)
	})
}

// metricsWriteTimeout bounds writing one /metrics answer (the scraper's
// own timeout is usually shorter).
const metricsWriteTimeout = 5 * time.Minute

// metricsFormat is the only format /metrics answers in: the text format
// 0.0.4, which every Prometheus accepts whatever it asks for first.
// There is no negotiation of protobuf (which Prometheus asks for only for
// native histograms; there are none here) or OpenMetrics (client_golang
// did not offer it here either). The escaping parameter is what
// client_golang's handler sent; every name here is a legacy one anyway.
var metricsFormat = expfmt.NewFormat(expfmt.TypeTextPlain).WithEscapingScheme(model.UnderscoreEscaping)

func serveMetrics(w http.ResponseWriter, r *http.Request, reg *prometheus.Registry, src Source, c *Counters) {
	// One bad series (a label value the registry refuses) must not cost
	// the whole scrape: what was gathered is served (promhttp's
	// ContinueOnError).
	mfs, err := reg.Gather()
	if err != nil && len(mfs) == 0 {
		http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
		return
	}
	// StatusAll's copy of every service (448 bytes each: 45 MB at
	// 100,000) is now most of what a scrape allocates.
	snap := snapshot{services: src.StatusAll(), counts: c.copyCounts()}

	w.Header().Set("Content-Type", string(metricsFormat))
	out := &errWriter{w: w}
	var dst io.Writer = out
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(out)
		defer gz.Close()
		dst = gz
	}
	bw := bufio.NewWriterSize(dst, 64<<10)
	defer bw.Flush()
	enc := expfmt.NewEncoder(bw, metricsFormat)
	e := &exposition{w: bw}

	// Families in name order, as the registry gathers them: its own
	// merged with the streamed ones. Encoding errors are skipped
	// (ContinueOnError); a failed write ends the answer.
	i := 0
	for _, f := range streamed {
		for ; i < len(mfs) && mfs[i].GetName() < f.name; i++ {
			enc.Encode(mfs[i])
		}
		f.write(e, &snap)
		if out.err != nil {
			return
		}
	}
	for ; i < len(mfs); i++ {
		enc.Encode(mfs[i])
	}
}

// errWriter keeps the first error writing the answer, so that a scrape
// whose client has gone (or whose deadline passed) stops early.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err != nil {
		return 0, ew.err
	}
	n, err := ew.w.Write(p)
	ew.err = err
	return n, err
}

// acceptsGzip says whether the request's Accept-Encoding allows gzip
// (Prometheus sends "gzip"; the answer is about 18 times smaller).
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(h, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
				continue
			}
			q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
			if !ok {
				return true
			}
			v, err := strconv.ParseFloat(q, 64)
			return err == nil && v > 0
		}
	}
	return false
}

// buildInfo is gomon_build_info: always 1, the version in its labels.
func buildInfo() prometheus.Collector {
	revision := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "gomon_build_info",
		Help:        "Always 1; the labels say which gomon this is.",
		ConstLabels: prometheus.Labels{"version": version.Gomon, "revision": revision},
	}, func() float64 { return 1 })
}

// family is a metric family's name, help, type and label names, the
// labels in the order they are written: by name, as client_golang
// writes them.
type family struct {
	name, help, typ string
	labels          []string
}

func (f *family) desc() *prometheus.Desc {
	return prometheus.NewDesc(f.name, f.help, f.labels, nil)
}

var (
	svc      = []string{"group", "service"}
	svcAlert = []string{"alert", "group", "service", "type"}

	famStopped   = family{"gomon_scheduler_stopped", "1 while the scheduler is stopped (mon's stop command).", "gauge", nil}
	famUp        = family{"gomon_service_up", "0 while the service is failing (fail, linkdown, timeout), else 1.", "gauge", svc}
	famStatus    = family{"gomon_service_status", "mon's opstatus code: 0 fail, 1 ok, 2 coldstart, 3 warmstart, 4 linkdown, 5 unknown, 6 timeout, 7 untested, 8 depend, 9 warn.", "gauge", svc}
	famDisabled  = family{"gomon_service_disabled", "1 while the service is disabled.", "gauge", svc}
	famAcked     = family{"gomon_service_acked", "1 while the service's failure is acknowledged (mon's ack command).", "gauge", svc}
	famLastCheck = family{"gomon_service_last_check_timestamp_seconds", "When the last monitor run finished (unix time).", "gauge", svc}
	famDuration  = family{"gomon_monitor_duration_seconds", "Duration of the last monitor run.", "gauge", svc}
	famOverdue   = family{"gomon_monitor_overdue", "1 while the service's monitor has been running for 3 intervals or more: the service is not being checked.", "gauge", svc}
	famFailures  = family{"gomon_service_failures_total", "Failures seen since the service was loaded (mon's _failure_count).", "counter", svc}
	famFlapping  = family{"gomon_service_flapping", "1 while the service is flapping (flap_detection; only services that have it).", "gauge", svc}
	famFlapPct   = family{"gomon_service_flap_percent", "The weighted percent state change over the last flap_detection results (only services that have it).", "gauge", svc}
	famHostUp    = family{"gomon_host_up", "The last run's verdict on each host, for built-in monitors that check hosts one by one: 1 ok, 0 failed.", "gauge", []string{"group", "host", "service"}}
	famValue     = family{"gomon_monitor_value", "Every number the last monitor run reported: Nagios perfdata, free space, SNMP values, process counts, load, response times (name response_seconds). host is empty for a value of the monitoring machine or the run as a whole.", "gauge", []string{"group", "host", "name", "service"}}
	famRuns      = family{"gomon_monitor_runs_total", "Finished monitor runs.", "counter", svc}
	famAlerts    = family{"gomon_alerts_total", "Alerts started, by alert program and type (failure, up, trap, ...).", "counter", svcAlert}
	famAlertFail = family{"gomon_alert_failures_total", "Alert attempts that failed (each retry counts), by alert program.", "counter", svcAlert}
	famTraps     = family{"gomon_traps_total", "Accepted traps.", "counter", svc}
	famLoads     = family{"gomon_config_loads_total", "Configuration loads: the start and every reset.", "counter", nil}
	famLateness  = family{"gomon_monitor_start_lateness_seconds", "How long after falling due monitor runs started (timer latency, or waiting for a maxprocs slot or the previous run).", "histogram", nil}
)

// snapshot is what one scrape reads: the services' status and a copy of
// the counters, so that writing to a slow scraper holds no lock.
type snapshot struct {
	services []scheduler.Status
	counts   counts
}

// streamedFamily is a family written from the snapshot by write, one pass
// over the services (or counters) each.
type streamedFamily struct {
	*family
	write func(*exposition, *snapshot)
}

// streamed are the families with up to a series per service (or per
// service and alert), in name order.
var streamed = sortedByName([]streamedFamily{
	perService(&famUp, func(st *scheduler.Status) (float64, bool) {
		return boolValue(!st.State.OpStatus.IsFailure()), true
	}),
	perService(&famStatus, func(st *scheduler.Status) (float64, bool) { return float64(st.State.OpStatus), true }),
	perService(&famDisabled, func(st *scheduler.Status) (float64, bool) { return boolValue(st.State.Disabled), true }),
	perService(&famAcked, func(st *scheduler.Status) (float64, bool) { return boolValue(st.State.Ack != 0), true }),
	perService(&famLastCheck, func(st *scheduler.Status) (float64, bool) {
		return float64(st.LastCheck.UnixMilli()) / 1000, !st.LastCheck.IsZero()
	}),
	perService(&famDuration, func(st *scheduler.Status) (float64, bool) { return st.Duration.Seconds(), st.Ran }),
	perService(&famOverdue, func(st *scheduler.Status) (float64, bool) { return boolValue(st.Overdue), true }),
	perService(&famFailures, func(st *scheduler.Status) (float64, bool) { return float64(st.State.FailureCount), true }),
	perService(&famFlapping, func(st *scheduler.Status) (float64, bool) {
		_, flapping, ok := flapOf(*st)
		return boolValue(flapping), ok
	}),
	perService(&famFlapPct, func(st *scheduler.Status) (float64, bool) {
		p, _, ok := flapOf(*st)
		return p, ok
	}),
	{&famHostUp, func(e *exposition, s *snapshot) {
		for i := range s.services {
			st := &s.services[i]
			// A host listed twice in a group would be a duplicate
			// series, which Prometheus refuses: the last one wins.
			eachLast(len(st.Hosts), func(j int) string { return st.Hosts[j].Host }, func(j int) {
				e.sample(&famHostUp, boolValue(st.Hosts[j].OK), st.Group, st.Hosts[j].Host, st.Service)
			})
		}
	}},
	{&famValue, func(e *exposition, s *snapshot) {
		type hostName struct{ host, name string }
		for i := range s.services {
			st := &s.services[i]
			// So is a name a monitor reports twice.
			eachLast(len(st.Values), func(j int) hostName { return hostName{st.Values[j].Host, st.Values[j].Name} }, func(j int) {
				v := &st.Values[j]
				e.sample(&famValue, v.Value, st.Group, v.Host, v.Name, st.Service)
			})
		}
	}},
	{&famRuns, func(e *exposition, s *snapshot) {
		for _, r := range s.counts.runs {
			e.sample(&famRuns, float64(r.n), r.group, r.service)
		}
	}},
	{&famTraps, func(e *exposition, s *snapshot) {
		for _, r := range s.counts.traps {
			e.sample(&famTraps, float64(r.n), r.group, r.service)
		}
	}},
	{&famAlerts, func(e *exposition, s *snapshot) {
		for _, a := range s.counts.alerts {
			e.sample(&famAlerts, float64(a.n), a.alert, a.group, a.service, a.typ)
		}
	}},
	{&famAlertFail, func(e *exposition, s *snapshot) {
		for _, a := range s.counts.failed {
			e.sample(&famAlertFail, float64(a.n), a.alert, a.group, a.service, a.typ)
		}
	}},
})

// perService is a family with at most one series per service, labelled
// by group and service; value says whether the service has one and what
// it is.
func perService(f *family, value func(*scheduler.Status) (float64, bool)) streamedFamily {
	return streamedFamily{f, func(e *exposition, s *snapshot) {
		for i := range s.services {
			st := &s.services[i]
			if v, ok := value(st); ok {
				e.sample(f, v, st.Group, st.Service)
			}
		}
	}}
}

func sortedByName(fs []streamedFamily) []streamedFamily {
	slices.SortFunc(fs, func(a, b streamedFamily) int { return strings.Compare(a.name, b.name) })
	return fs
}

// eachLast calls fn with the index of the last of the n items that have
// each key, in the order the keys first appear.
func eachLast[K comparable](n int, key func(int) K, fn func(int)) {
	// Most services have one host and a value or two: a map would cost
	// more than looking.
	if n <= 16 {
		for i := range n {
			k, last, first := key(i), i, true
			for j := range n {
				if j != i && key(j) == k {
					if j < i {
						first = false
						break
					}
					last = j
				}
			}
			if first {
				fn(last)
			}
		}
		return
	}
	last := make(map[K]int, n)
	for i := range n {
		last[key(i)] = i
	}
	for i := range n {
		k := key(i)
		if j, ok := last[k]; ok {
			fn(j)
			delete(last, k)
		}
	}
}

// collector is the gomon_* families with a few series whatever the
// number of services. It describes the streamed families too, so that
// the registry refuses another collector's family of the same name.
type collector struct {
	src                      Source
	c                        *Counters
	stopped, loads, lateness *prometheus.Desc
}

func newCollector(src Source, c *Counters) *collector {
	return &collector{src: src, c: c, stopped: famStopped.desc(), loads: famLoads.desc(), lateness: famLateness.desc()}
}

func (col *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- col.stopped
	ch <- col.loads
	ch <- col.lateness
	for _, f := range streamed {
		ch <- f.desc()
	}
}

func (col *collector) Collect(ch chan<- prometheus.Metric) {
	stopped, _ := col.src.Stopped()
	ch <- prometheus.MustNewConstMetric(col.stopped, prometheus.GaugeValue, boolValue(stopped))
	c := col.c
	c.mu.Lock()
	defer c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(col.loads, prometheus.CounterValue, float64(c.loads))
	buckets := make(map[float64]uint64, len(latenessBuckets))
	var cum uint64
	for i, le := range latenessBuckets {
		cum += c.late.counts[i]
		buckets[le] = cum
	}
	ch <- prometheus.MustNewConstHistogram(col.lateness, c.late.n, c.late.sum, buckets)
}

// counts is a copy of the per-service counters, sorted.
type counts struct {
	runs, traps    []keyCount
	alerts, failed []alertCount
}

type keyCount struct {
	key
	n uint64
}

type alertCount struct {
	alertKey
	n uint64
}

// copyCounts copies the per-service counters. Observe runs with the
// scheduler locked, so the lock is held only for the copy; the sort
// (for a stable exposition) comes after.
func (c *Counters) copyCounts() counts {
	c.mu.Lock()
	out := counts{runs: keyCounts(c.runs), traps: keyCounts(c.traps), alerts: alertCounts(c.alerts), failed: alertCounts(c.failed)}
	c.mu.Unlock()
	for _, s := range [][]keyCount{out.runs, out.traps} {
		slices.SortFunc(s, func(a, b keyCount) int { return a.key.compare(b.key) })
	}
	for _, s := range [][]alertCount{out.alerts, out.failed} {
		slices.SortFunc(s, func(a, b alertCount) int {
			return cmp.Or(a.key.compare(b.key), strings.Compare(a.alert, b.alert), strings.Compare(a.typ, b.typ))
		})
	}
	return out
}

func keyCounts(m map[key]uint64) []keyCount {
	out := make([]keyCount, 0, len(m))
	for k, n := range m {
		out = append(out, keyCount{k, n})
	}
	return out
}

func alertCounts(m map[alertKey]uint64) []alertCount {
	out := make([]alertCount, 0, len(m))
	for k, n := range m {
		out = append(out, alertCount{k, n})
	}
	return out
}

func (k key) compare(o key) int {
	return cmp.Or(strings.Compare(k.group, o.group), strings.Compare(k.service, o.service))
}

// exposition writes samples in the text format (0.0.4) as expfmt's
// MetricFamilyToText does, each family's HELP and TYPE before its first
// sample, so that a family without samples is left out as the registry
// leaves it out.
type exposition struct {
	w   *bufio.Writer
	fam *family // the family whose header is written
	num []byte
}

// sample writes one series of f, labels in the order of f.labels. A
// label value that is not UTF-8 would make Prometheus refuse the whole
// scrape (and client_golang refuses it): that series is left out.
func (e *exposition) sample(f *family, v float64, labels ...string) {
	for _, l := range labels {
		if !utf8.ValidString(l) {
			return
		}
	}
	w := e.w
	if e.fam != f {
		e.fam = f
		w.WriteString("# HELP ")
		w.WriteString(f.name)
		w.WriteByte(' ')
		writeEscaped(w, f.help, false)
		w.WriteString("\n# TYPE ")
		w.WriteString(f.name)
		w.WriteByte(' ')
		w.WriteString(f.typ)
		w.WriteByte('\n')
	}
	w.WriteString(f.name)
	for i, l := range labels {
		if i == 0 {
			w.WriteByte('{')
		} else {
			w.WriteByte(',')
		}
		w.WriteString(f.labels[i])
		w.WriteString(`="`)
		writeEscaped(w, l, true)
		w.WriteByte('"')
	}
	if len(labels) > 0 {
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	e.num = appendFloat(e.num[:0], v)
	w.Write(e.num)
	w.WriteByte('\n')
}

// writeEscaped writes s with backslash and newline escaped, and the
// double quote too in a label value.
func writeEscaped(w *bufio.Writer, s string, quote bool) {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '\\':
			esc = `\\`
		case '\n':
			esc = `\n`
		case '"':
			if !quote {
				continue
			}
			esc = `\"`
		default:
			continue
		}
		w.WriteString(s[start:i])
		w.WriteString(esc)
		start = i + 1
	}
	w.WriteString(s[start:])
}

// appendFloat formats v as expfmt does: Go's shortest form (+Inf, -Inf
// and NaN included), but 0 for negative zero.
func appendFloat(b []byte, v float64) []byte {
	if v == 0 {
		return append(b, '0')
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
