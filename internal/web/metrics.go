package web

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// writeMetrics writes the Prometheus text exposition format (version
// 0.0.4). Gauges come from the scheduler's current state, counters from
// Counters; a counter restarts at zero when the daemon restarts.
func writeMetrics(w io.Writer, src Source, c *Counters) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	all := src.StatusAll()
	stopped, _ := src.Stopped()

	family(b, "gomon_scheduler_stopped", "gauge", "1 while the scheduler is stopped (mon's stop command).")
	sample(b, "gomon_scheduler_stopped", nil, boolValue(stopped))

	family(b, "gomon_service_up", "gauge", "0 while the service is failing (fail, linkdown, timeout), else 1.")
	for _, st := range all {
		sample(b, "gomon_service_up", svcLabels(st.Group, st.Service), boolValue(!st.State.OpStatus.IsFailure()))
	}
	family(b, "gomon_service_status", "gauge",
		"mon's opstatus code: 0 fail, 1 ok, 2 coldstart, 3 warmstart, 4 linkdown, 5 unknown, 6 timeout, 7 untested, 8 depend, 9 warn.")
	for _, st := range all {
		sample(b, "gomon_service_status", svcLabels(st.Group, st.Service), float64(st.State.OpStatus))
	}
	family(b, "gomon_service_disabled", "gauge", "1 while the service is disabled.")
	for _, st := range all {
		sample(b, "gomon_service_disabled", svcLabels(st.Group, st.Service), boolValue(st.State.Disabled))
	}
	family(b, "gomon_service_last_check_timestamp_seconds", "gauge", "When the last monitor run finished (unix time).")
	for _, st := range all {
		if !st.LastCheck.IsZero() {
			sample(b, "gomon_service_last_check_timestamp_seconds", svcLabels(st.Group, st.Service),
				float64(st.LastCheck.UnixMilli())/1000)
		}
	}
	family(b, "gomon_monitor_duration_seconds", "gauge", "Duration of the last monitor run.")
	for _, st := range all {
		if st.Ran {
			sample(b, "gomon_monitor_duration_seconds", svcLabels(st.Group, st.Service), st.Duration.Seconds())
		}
	}
	family(b, "gomon_monitor_overdue", "gauge",
		"1 while the service's monitor has been running for 3 intervals or more: the service is not being checked.")
	for _, st := range all {
		sample(b, "gomon_monitor_overdue", svcLabels(st.Group, st.Service), boolValue(st.Overdue))
	}
	family(b, "gomon_service_failures_total", "counter", "Failures seen since the service was loaded (mon's _failure_count).")
	for _, st := range all {
		sample(b, "gomon_service_failures_total", svcLabels(st.Group, st.Service), float64(st.State.FailureCount))
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	family(b, "gomon_monitor_runs_total", "counter", "Finished monitor runs.")
	for _, k := range sortedKeys(c.runs) {
		sample(b, "gomon_monitor_runs_total", svcLabels(k.group, k.service), float64(c.runs[k]))
	}
	family(b, "gomon_alerts_total", "counter", "Alerts started, by alert program and type (failure, up, trap, ...).")
	for _, k := range sortedAlertKeys(c.alerts) {
		l := append(svcLabels(k.group, k.service), "alert", k.alert, "type", k.typ)
		sample(b, "gomon_alerts_total", l, float64(c.alerts[k]))
	}
	family(b, "gomon_alert_failures_total", "counter", "Alert attempts that failed (each retry counts), by alert program.")
	for _, k := range sortedAlertKeys(c.failed) {
		l := append(svcLabels(k.group, k.service), "alert", k.alert, "type", k.typ)
		sample(b, "gomon_alert_failures_total", l, float64(c.failed[k]))
	}
	family(b, "gomon_traps_total", "counter", "Accepted traps.")
	for _, k := range sortedKeys(c.traps) {
		sample(b, "gomon_traps_total", svcLabels(k.group, k.service), float64(c.traps[k]))
	}
	family(b, "gomon_config_loads_total", "counter", "Configuration loads: the start and every reset.")
	sample(b, "gomon_config_loads_total", nil, float64(c.loads))
	family(b, "gomon_monitor_start_lateness_seconds", "histogram",
		"How long after falling due monitor runs started (timer latency, or waiting for a maxprocs slot or the previous run).")
	var cum uint64
	for i, le := range latenessBuckets {
		cum += c.late.counts[i]
		sample(b, "gomon_monitor_start_lateness_seconds_bucket", []string{"le", strconv.FormatFloat(le, 'g', -1, 64)}, float64(cum))
	}
	sample(b, "gomon_monitor_start_lateness_seconds_bucket", []string{"le", "+Inf"}, float64(c.late.n))
	sample(b, "gomon_monitor_start_lateness_seconds_sum", nil, c.late.sum)
	sample(b, "gomon_monitor_start_lateness_seconds_count", nil, float64(c.late.n))
}

func family(w io.Writer, name, typ, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// sample writes one line; labels are name, value pairs.
func sample(w io.Writer, name string, labels []string, v float64) {
	io.WriteString(w, name)
	if len(labels) > 0 {
		io.WriteString(w, "{")
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				io.WriteString(w, ",")
			}
			fmt.Fprintf(w, "%s=\"%s\"", labels[i], labelEscaper.Replace(labels[i+1]))
		}
		io.WriteString(w, "}")
	}
	fmt.Fprintf(w, " %s\n", strconv.FormatFloat(v, 'g', -1, 64))
}

// labelEscaper escapes label values as the exposition format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func svcLabels(group, service string) []string {
	return []string{"group", group, "service", service}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func compareKeys(a, b key) int {
	return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.service, b.service))
}

func sortedKeys(m map[key]uint64) []key {
	return slices.SortedFunc(maps.Keys(m), compareKeys)
}

// sortedAlertKeys orders alert counters by service, alert and type.
func sortedAlertKeys(m map[alertKey]uint64) []alertKey {
	return slices.SortedFunc(maps.Keys(m), func(x, y alertKey) int {
		return cmp.Or(compareKeys(x.key, y.key), cmp.Compare(x.alert, y.alert), cmp.Compare(x.typ, y.typ))
	})
}
