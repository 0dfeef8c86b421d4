// Package status serves gomon's HTTP status endpoints: a small HTML
// status page, Prometheus metrics, and the status and decision trace as
// JSON. It only reads the scheduler; nothing here changes its state.
package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gomon/gomon/internal/cluster"

	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// Source is the part of the scheduler the endpoints read.
type Source interface {
	StatusAll() []scheduler.Status
	Stopped() (bool, time.Time)
	Trace(group, service string) ([]decide.Trace, error)
	AlertHistory() []string
	FailureHistory() []string
	consoleSource
}

// Counters counts scheduler events for the metrics that the scheduler's
// state does not hold. Pass Observe as (part of) scheduler.Options.Events.
type Counters struct {
	mu     sync.Mutex
	runs   map[key]uint64 // finished monitor runs
	alerts map[alertKey]uint64
	failed map[alertKey]uint64 // alert attempts that failed
	traps  map[key]uint64
	loads  uint64 // configuration loads (start and resets)
	late   histogram
}

// latenessBuckets are the upper bounds, in seconds, of the monitor start
// lateness histogram: gomon aims at single milliseconds.
var latenessBuckets = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1, 5}

// histogram is a Prometheus histogram over latenessBuckets.
type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last one is +Inf
	sum    float64
	n      uint64
}

func (h *histogram) observe(v float64) {
	i, _ := slices.BinarySearch(latenessBuckets, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

type key struct{ group, service string }

type alertKey struct {
	key
	alert, typ string
}

// NewCounters returns zeroed counters.
func NewCounters() *Counters {
	return &Counters{
		runs: map[key]uint64{}, alerts: map[alertKey]uint64{}, failed: map[alertKey]uint64{}, traps: map[key]uint64{},
		late: histogram{counts: make([]uint64, len(latenessBuckets)+1)},
	}
}

// Observe counts one scheduler event. It is called with the scheduler
// locked, so it only takes its own lock.
func (c *Counters) Observe(e scheduler.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := key{e.Group, e.Service}
	switch e.Kind {
	case "monitor-start":
		c.late.observe(e.Time.Sub(e.Due).Seconds())
	case "monitor-done":
		c.runs[k]++
	case "alert":
		c.alerts[alertKey{k, e.Alert, string(e.AlertType)}]++
	case "alert-failed":
		c.failed[alertKey{k, e.Alert, string(e.AlertType)}]++
	case "trap":
		c.traps[k]++
	case "load":
		c.loads++
	}
}

// Handler serves the endpoints (docs/api.md):
//
//	/               the console: every service by watch (console.go)
//	/service        ?group=G&service=S: one service's page
//	/downtimes      the downtimes in force (and /api/downtimes as JSON)
//	/login, /logout, /action/{ack,disable,enable,test}  POST, with the session's CSRF token
//	/metrics        Prometheus text exposition
//	/api/status     every service as JSON
//	/api/service    ?group=G&service=S: one service with its trace, history and timeline
//	/api/decisions  ?group=G&service=S: the decision trace as JSON
//	/api/history    alert and failure history as objects, newest first
//	/api/cluster    the cluster as this node sees it (cluster mode; node nil: 404)
//
// op runs the console's actions (the protocol server); nil makes the
// console read-only. extra are more collectors for /metrics (nil ones are
// skipped): the SNMP trap receiver's, so that this package does not
// depend on it.
func Handler(src Source, c *Counters, node *cluster.Node, op Operator, extra ...prometheus.Collector) http.Handler {
	mux := http.NewServeMux()
	registerConsole(mux, src, node, op)
	registerAPI(mux, src)
	mux.HandleFunc("GET /api/cluster", func(w http.ResponseWriter, r *http.Request) {
		if node == nil {
			writeJSON(w, http.StatusNotFound, apiError{"gomon runs alone (no cluster_etcd)"})
			return
		}
		writeJSON(w, http.StatusOK, node.Status())
	})
	mux.Handle("GET /metrics", metricsHandler(src, c, extra))
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, statusReport(src))
	})
	return mux
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
