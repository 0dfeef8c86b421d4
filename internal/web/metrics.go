package web

import (
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gomon/gomon/internal/version"
)

// metricsHandler serves /metrics: the Go runtime and process collectors,
// gomon_build_info, and the gomon_* families that a collector reads from
// the scheduler's snapshot on every scrape.
// extra are the collectors of other parts of the daemon (the SNMP trap
// receiver's), handed in by cmd/mon; nil ones are skipped.
func metricsHandler(src Source, c *Counters, extra []prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo(),
		&collector{src: src, c: c},
	)
	for _, x := range extra {
		if x != nil {
			reg.MustRegister(x)
		}
	}
	// One bad series (a label value the registry refuses) must not cost
	// the whole scrape.
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// At 100,000 services a scrape renders over a million series:
		// on a busy machine that outlasted the status server's write
		// timeout, which cut the answer off (the client saw EOF).
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(metricsWriteTimeout))
		h.ServeHTTP(w, r)
	})
}

// metricsWriteTimeout bounds writing one /metrics answer (the scraper's
// own timeout is usually shorter).
const metricsWriteTimeout = 5 * time.Minute

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

var (
	svc      = []string{"group", "service"}
	svcAlert = []string{"group", "service", "alert", "type"}

	descStopped   = desc("gomon_scheduler_stopped", "1 while the scheduler is stopped (mon's stop command).")
	descUp        = desc("gomon_service_up", "0 while the service is failing (fail, linkdown, timeout), else 1.", svc...)
	descStatus    = desc("gomon_service_status", "mon's opstatus code: 0 fail, 1 ok, 2 coldstart, 3 warmstart, 4 linkdown, 5 unknown, 6 timeout, 7 untested, 8 depend, 9 warn.", svc...)
	descDisabled  = desc("gomon_service_disabled", "1 while the service is disabled.", svc...)
	descAcked     = desc("gomon_service_acked", "1 while the service's failure is acknowledged (mon's ack command).", svc...)
	descLastCheck = desc("gomon_service_last_check_timestamp_seconds", "When the last monitor run finished (unix time).", svc...)
	descDuration  = desc("gomon_monitor_duration_seconds", "Duration of the last monitor run.", svc...)
	descOverdue   = desc("gomon_monitor_overdue", "1 while the service's monitor has been running for 3 intervals or more: the service is not being checked.", svc...)
	descFailures  = desc("gomon_service_failures_total", "Failures seen since the service was loaded (mon's _failure_count).", svc...)
	descFlapping  = desc("gomon_service_flapping", "1 while the service is flapping (flap_detection; only services that have it).", svc...)
	descFlapPct   = desc("gomon_service_flap_percent", "The weighted percent state change over the last flap_detection results (only services that have it).", svc...)
	descHostUp    = desc("gomon_host_up", "The last run's verdict on each host, for built-in monitors that check hosts one by one: 1 ok, 0 failed.", "group", "service", "host")
	descValue     = desc("gomon_monitor_value", "Every number the last monitor run reported: Nagios perfdata, free space, SNMP values, process counts, load, response times (name response_seconds). host is empty for a value of the monitoring machine or the run as a whole.", "group", "service", "host", "name")
	descRuns      = desc("gomon_monitor_runs_total", "Finished monitor runs.", svc...)
	descAlerts    = desc("gomon_alerts_total", "Alerts started, by alert program and type (failure, up, trap, ...).", svcAlert...)
	descAlertFail = desc("gomon_alert_failures_total", "Alert attempts that failed (each retry counts), by alert program.", svcAlert...)
	descTraps     = desc("gomon_traps_total", "Accepted traps.", svc...)
	descLoads     = desc("gomon_config_loads_total", "Configuration loads: the start and every reset.")
	descLateness  = desc("gomon_monitor_start_lateness_seconds", "How long after falling due monitor runs started (timer latency, or waiting for a maxprocs slot or the previous run).")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// collector turns the scheduler's state and the event counters into
// samples when scraped, so nothing is kept twice and a scrape sees one
// consistent snapshot.
type collector struct {
	src Source
	c   *Counters
}

func (*collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStopped, descUp, descStatus, descDisabled, descAcked, descLastCheck,
		descDuration, descOverdue, descFailures, descFlapping, descFlapPct, descHostUp, descValue, descRuns, descAlerts, descAlertFail,
		descTraps, descLoads, descLateness} {
		ch <- d
	}
}

func (col *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	stopped, _ := col.src.Stopped()
	gauge(descStopped, boolValue(stopped))
	for _, st := range col.src.StatusAll() {
		g, s := st.Group, st.Service
		gauge(descUp, boolValue(!st.State.OpStatus.IsFailure()), g, s)
		gauge(descStatus, float64(st.State.OpStatus), g, s)
		gauge(descDisabled, boolValue(st.State.Disabled), g, s)
		gauge(descAcked, boolValue(st.State.Ack != 0), g, s)
		if !st.LastCheck.IsZero() {
			gauge(descLastCheck, float64(st.LastCheck.UnixMilli())/1000, g, s)
		}
		if st.Ran {
			gauge(descDuration, st.Duration.Seconds(), g, s)
		}
		gauge(descOverdue, boolValue(st.Overdue), g, s)
		counter(descFailures, uint64(st.State.FailureCount), g, s)
		if p, flapping, ok := flapOf(st); ok {
			gauge(descFlapping, boolValue(flapping), g, s)
			gauge(descFlapPct, p, g, s)
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
			gauge(descHostUp, boolValue(up[h]), g, s, h)
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
			gauge(descValue, vals[k], g, s, k.host, k.name)
		}
	}

	c := col.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.runs {
		counter(descRuns, n, k.group, k.service)
	}
	for k, n := range c.alerts {
		counter(descAlerts, n, k.group, k.service, k.alert, k.typ)
	}
	for k, n := range c.failed {
		counter(descAlertFail, n, k.group, k.service, k.alert, k.typ)
	}
	for k, n := range c.traps {
		counter(descTraps, n, k.group, k.service)
	}
	counter(descLoads, c.loads)
	buckets := make(map[float64]uint64, len(latenessBuckets))
	var cum uint64
	for i, le := range latenessBuckets {
		cum += c.late.counts[i]
		buckets[le] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descLateness, c.late.n, c.late.sum, buckets)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
