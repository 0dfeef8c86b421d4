package scheduler

import "testing"

// TestSharedMonitors: services with the same line of a stateless
// built-in (tcp) run one instance; a different line, or a script
// monitor, gets its own.
func TestSharedMonitors(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service a
        interval 1h
        monitor tcp.monitor -p 80
    service b
        interval 1h
        monitor tcp.monitor -p 80
    service c
        interval 1h
        monitor tcp.monitor -p 81
    service d
        interval 1h
        monitor x.monitor
    service e
        interval 1h
        monitor x.monitor
`, map[string]any{"x.monitor": "exit 0"})
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	get := func(name string) *service { return r.s.watchIdx.service("g", name) }
	if get("a").mon == nil || get("a").mon != get("b").mon {
		t.Error("two services with the same tcp line do not share their monitor")
	}
	if get("a").mon == get("c").mon {
		t.Error("different tcp lines share a monitor")
	}
	if get("d").mon == get("e").mon {
		t.Error("script monitors are shared; only stateless built-ins may be")
	}
}
