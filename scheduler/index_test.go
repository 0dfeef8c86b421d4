package scheduler

import (
	"fmt"
	"strings"
	"testing"
)

// Services are found by watch and name both in small watches (searched)
// and in large ones (indexed); a name of another watch is not found.
func TestWatchIndex(t *testing.T) {
	var cfg strings.Builder
	cfg.WriteString("hostgroup small h1\nhostgroup big h2\n\nwatch small\n")
	for i := range 3 {
		fmt.Fprintf(&cfg, "    service s%d\n        interval 1h\n        monitor x.monitor\n", i)
	}
	cfg.WriteString("\nwatch big\n")
	for i := range bigWatch + 5 {
		fmt.Fprintf(&cfg, "    service b%d\n        interval 1h\n        monitor x.monitor\n", i)
	}
	r := newRig(t, cfg.String(), map[string]any{"x.monitor": "exit 0"})
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.s.watchByName("big").byName == nil || r.s.watchByName("small").byName != nil {
		t.Fatal("the big watch is not indexed, or the small one is")
	}
	for _, w := range r.s.watches {
		for _, svc := range w.services {
			if got := r.s.watchIdx.service(w.name, svc.cfg.Name); got != svc {
				t.Errorf("%s/%s: found %v", w.name, svc.cfg.Name, got)
			}
		}
	}
	for _, gs := range [][2]string{{"small", "b1"}, {"big", "s1"}, {"nosuch", "s1"}, {"big", "b99"}} {
		if got := r.s.watchIdx.service(gs[0], gs[1]); got != nil {
			t.Errorf("%s/%s found: %s/%s", gs[0], gs[1], got.w.name, got.cfg.Name)
		}
	}
}
