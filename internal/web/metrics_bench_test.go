package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// fakeSource is a Source that is only a snapshot: what /metrics reads.
type fakeSource struct {
	Source // the console's and the API's methods: not called
	all    []scheduler.Status
	stop   bool
}

// StatusAll copies the snapshot, as the scheduler's does: its allocation
// is part of what a scrape costs.
func (f *fakeSource) StatusAll() []scheduler.Status { return slices.Clone(f.all) }

func (f *fakeSource) Stopped() (bool, time.Time) { return f.stop, time.Time{} }

// scaleSource is n tcp services as the scale benchmark configures them
// (bench/scale_test.go: ten services a watch, one host each), every one
// run once and ok, with the counters those runs left.
func scaleSource(n int) (*fakeSource, *Counters) {
	src := &fakeSource{all: make([]scheduler.Status, n)}
	c := NewCounters()
	now := time.Unix(1_800_000_000, 0)
	for i := range src.all {
		w := i / 10
		host := fmt.Sprintf("127.%d.%d.%d", 1+w>>16, w>>8&255, w&255)
		g, s := fmt.Sprintf("g%d", w), fmt.Sprintf("s%d", i%10)
		src.all[i] = scheduler.Status{
			ServiceRef: scheduler.ServiceRef{Group: g, Service: s},
			State:      decide.State{OpStatus: decide.OK},
			LastCheck:  now.Add(time.Duration(i) * time.Millisecond),
			Duration:   time.Duration(100+i%1000) * time.Microsecond,
			Ran:        true,
			Hosts:      []monitors.HostResult{{Host: host, OK: true}},
			Values:     []monitors.Value{{Host: host, Name: "response_seconds", Value: float64(100+i%1000) / 1e6}},
		}
		c.Observe(scheduler.Event{Kind: "monitor-start", Group: g, Service: s, Time: now, Due: now.Add(-time.Duration(i%3000) * time.Microsecond)})
		c.Observe(scheduler.Event{Kind: "monitor-done", Group: g, Service: s})
	}
	c.Observe(scheduler.Event{Kind: "load"})
	return src, c
}

// discard is a ResponseWriter that counts the body and keeps none of it.
type discard struct {
	h http.Header
	n int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }

// BenchmarkMetricsScrape is one /metrics scrape of 100,000 services (1.1
// million gomon_* series), by the handler as it was (registry: every
// series a client_golang const metric, gathered and sorted before it is
// encoded) and as it is (stream), without and with the gzip Prometheus
// asks for. B/op bounds the heap a scrape adds; it includes the
// snapshot's copy of the services (StatusAll).
func BenchmarkMetricsScrape(b *testing.B) {
	src, c := scaleSource(100_000)
	for _, h := range []struct {
		name string
		h    http.Handler
	}{
		{"registry", oldMetricsHandler(src, c, nil)},
		{"stream", metricsHandler(src, c, nil)},
	} {
		for _, enc := range []string{"identity", "gzip"} {
			b.Run(h.name+"/"+enc, func(b *testing.B) {
				req := httptest.NewRequest("GET", "/metrics", nil)
				req.Header.Set("Accept-Encoding", enc)
				var size int64
				for b.Loop() {
					d := &discard{h: http.Header{}}
					h.h.ServeHTTP(d, req)
					size = d.n
				}
				b.ReportMetric(float64(size), "body-bytes")
			})
		}
	}
}
