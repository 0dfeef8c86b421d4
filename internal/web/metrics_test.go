package web_test

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/snmptrap"
	"github.com/gomon/gomon/internal/testnet"
	"github.com/gomon/gomon/internal/web"
)

// TestMetricsValues checks what client_golang adds to the gomon_*
// families: the runtime and process collectors, the build, acks, per-host
// verdicts of a built-in and the values monitors report.
func TestMetricsValues(t *testing.T) {
	port := testnet.Acceptor(t)
	// 127.0.0.2 refuses: nothing listens there on the port.
	config := `
hostgroup net 127.0.0.1 127.0.0.2
hostgroup local localhost

watch net
    service tcp
        interval 1s
        monitor tcp.monitor -p ` + port + `

watch local
    service perf
        interval 1s
        monitor perf.monitor
        period wd {Sun-Sat}
            alert true.alert
`
	s, srv := startWith(t, config, map[string]string{
		"mon.d/perf.monitor": "echo 'localhost slow | time=0.25s;1;2;0 size=1024B'; exit 1",
		"alert.d/true.alert": "cat >/dev/null",
	})
	waitMetrics(t, srv, `gomon_service_status{group="local",service="perf"} 0`)
	if err := s.Ack("local", "perf", "test", "looking"); err != nil {
		t.Fatal(err)
	}
	body := waitMetrics(t, srv,
		`gomon_host_up{group="net",host="127.0.0.1",service="tcp"} 1`,
		`gomon_host_up{group="net",host="127.0.0.2",service="tcp"} 0`,
		`gomon_monitor_value{group="local",host="",name="time",service="perf"} 0.25`,
		`gomon_monitor_value{group="local",host="",name="size",service="perf"} 1024`,
		`gomon_service_acked{group="local",service="perf"} 1`,
		`gomon_service_acked{group="net",service="tcp"} 0`,
		`go_goroutines `,
		`process_open_fds `,
	)
	if !regexp.MustCompile(`(?m)^gomon_build_info\{revision="[^"]+",version="[0-9.]+"\} 1$`).MatchString(body) {
		t.Errorf("no gomon_build_info:\n%s", body)
	}
	if !regexp.MustCompile(`(?m)^gomon_monitor_value\{group="net",host="127.0.0.1",name="response_seconds",service="tcp"\} [0-9.e-]+$`).MatchString(body) {
		t.Errorf("no response time for the tcp check:\n%s", body)
	}
	checkExposition(t, body)
	promtool(t, body)
}

// TestMetricsFlapAndSNMPTraps checks issue 16's families: flapping and
// its percentage for a service with flap_detection (none for one
// without), and the SNMP trap receiver's counters through the collector
// cmd/mon hands to the handler.
func TestMetricsFlapAndSNMPTraps(t *testing.T) {
	config := `
hostgroup h localhost

watch h
    service flap
        interval 1s
        flap_detection 3 20 50
        monitor flap.monitor
    service steady
        interval 1h
        monitor ok.monitor
`
	traps := snmptrap.Stats{Received: 7, Delivered: 4, Unmatched: 2, NotOwned: 1,
		Rejected: map[string]uint64{"community": 3, "user": 1, "auth": 0, "malformed": 0}}
	_, srv := startWith(t, config, map[string]string{
		// Every other run fails.
		"mon.d/flap.monitor": `n=$(cat "$0.n" 2>/dev/null || echo 0); echo $((n+1)) >"$0.n"; exit $((n%2))`,
		"mon.d/ok.monitor":   "exit 0",
	}, snmptrap.NewCollector(func() snmptrap.Stats { return traps }))
	body := waitMetrics(t, srv,
		`gomon_service_flapping{group="h",service="flap"} 1`,
		`gomon_service_flap_percent{group="h",service="flap"} `,
		`gomon_snmptrap_received_total 7`,
		`gomon_snmptrap_delivered_total 4`,
		`gomon_snmptrap_unmatched_total 2`,
		`gomon_snmptrap_not_owned_total 1`,
		`gomon_snmptrap_rejected_total{reason="community"} 3`,
		`gomon_snmptrap_rejected_total{reason="user"} 1`,
		`gomon_snmptrap_rejected_total{reason="auth"} 0`,
		`gomon_snmptrap_rejected_total{reason="malformed"} 0`,
	)
	if strings.Contains(body, `gomon_service_flapping{group="h",service="steady"}`) || strings.Contains(body, `gomon_service_flap_percent{group="h",service="steady"}`) {
		t.Errorf("flap series for a service without flap_detection:\n%s", body)
	}
	if !regexp.MustCompile(`(?m)^gomon_service_flap_percent\{group="h",service="flap"\} [5-9][0-9](\.[0-9]+)?$`).MatchString(body) {
		t.Errorf("flap percent:\n%s", body)
	}
	checkExposition(t, body)
	promtool(t, body)

	// Without a receiver there is no collector, which the handler skips.
	if snmptrap.NewCollector(nil) != nil {
		t.Error("a collector without a receiver")
	}
}

// /metrics sets its own write deadline: a scrape of many services may
// outlast the status server's write timeout (here one already past).
func TestMetricsOutlastTheServerWriteTimeout(t *testing.T) {
	s, _ := startWith(t, `
hostgroup g h1

watch g
    service s
        interval 1h
        monitor true.monitor
`, map[string]string{"mon.d/true.monitor": "exit 0"})
	short := httptest.NewUnstartedServer(web.Handler(s, web.NewCounters(), nil, nil))
	short.Config.WriteTimeout = time.Nanosecond
	short.Start()
	t.Cleanup(short.Close)
	if _, _, body := get(t, short.URL+"/metrics"); !strings.Contains(body, `gomon_service_status{group="g",service="s"} 7`) {
		t.Errorf("metrics body:\n%.500s", body)
	}
}
