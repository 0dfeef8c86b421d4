package snmptrap

import (
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// The receiver's counters on /metrics (gomon_snmptrap_*): the web
// package registers the collector cmd/mon hands it, so that neither
// package imports the other.

var (
	descReceived  = prometheus.NewDesc("gomon_snmptrap_received_total", "SNMP traps and informs decoded and authenticated.", nil, nil)
	descDelivered = prometheus.NewDesc("gomon_snmptrap_delivered_total", "SNMP trap events delivered to a service.", nil, nil)
	descUnmatched = prometheus.NewDesc("gomon_snmptrap_unmatched_total", "Accepted SNMP traps that no snmptrap rule matched.", nil, nil)
	descNotOwned  = prometheus.NewDesc("gomon_snmptrap_not_owned_total", "SNMP traps for services another cluster node runs.", nil, nil)
	descRejected  = prometheus.NewDesc("gomon_snmptrap_rejected_total", "SNMP messages dropped before any rule: reason community (v1/v2c community not configured), user (v3 user not configured), auth (v3 authentication or decryption failed), malformed.", []string{"reason"}, nil)
)

// NewCollector returns a collector that reads stats on every scrape; nil
// for a nil stats (no receiver: no gomon_snmptrap_* families).
func NewCollector(stats func() Stats) prometheus.Collector {
	if stats == nil {
		return nil
	}
	return collector(stats)
}

type collector func() Stats

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReceived, descDelivered, descUnmatched, descNotOwned, descRejected} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(descReceived, s.Received)
	counter(descDelivered, s.Delivered)
	counter(descUnmatched, s.Unmatched)
	counter(descNotOwned, s.NotOwned)
	for _, reason := range slices.Sorted(maps.Keys(s.Rejected)) {
		counter(descRejected, s.Rejected[reason], reason)
	}
}
