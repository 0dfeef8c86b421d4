package scheduler

import (
	"testing"
	"time"
)

// TestHungMonitorIsReportedOverdue: with monitor_timeout = 0 (mon's
// unbounded runs) a monitor that hangs is not killed, but after three
// intervals its service is reported as not being checked: an event for
// the log and metrics, and Status.Overdue for list opstatus and the page.
// It clears when the run ends.
func TestHungMonitorIsReportedOverdue(t *testing.T) {
	hang := answer(0, "ok\n").gated()
	r := newRig(t, `
monitor_timeout = 0

hostgroup g h1

watch g
    service hang
        interval 10s
        monitor hang.monitor
`, map[string]any{"hang.monitor": hang})
	r.advance(10 * time.Second)
	if req := r.request(hang); req.Timeout != 0 {
		t.Errorf("monitor_timeout = 0 gave the run a timeout of %v", req.Timeout)
	}
	r.advance(29 * time.Second)
	if st := r.status("g", "hang"); !st.Running || st.Overdue {
		t.Fatalf("after 29 s: running %v overdue %v", st.Running, st.Overdue)
	}
	r.advance(time.Second)
	e := r.wait("monitor-overdue")
	if e.Group != "g" || e.Service != "hang" {
		t.Errorf("event %+v", e)
	}
	if st := r.status("g", "hang"); !st.Overdue {
		t.Error("status not overdue")
	}
	r.release(hang)
	r.wait("monitor-done")
	if st := r.status("g", "hang"); st.Overdue || st.Running {
		t.Errorf("after the run: running %v overdue %v", st.Running, st.Overdue)
	}
}

// TestDefaultMonitorTimeout: without monitor_timeout a run is bounded by
// the 60 s default (configfile.DefaultMonitorTimeout); a service's own
// value wins, and `monitor_timeout 0` on a service lifts the bound. The
// kill on timeout and its failure are TestMonitorTimeoutIsAFailure's.
func TestDefaultMonitorTimeout(t *testing.T) {
	def, own, none := answer(0, "ok\n"), answer(0, "ok\n"), answer(0, "ok\n")
	r := newRig(t, `
hostgroup g h1

watch g
    service def
        interval 10s
        monitor def.monitor
    service own
        interval 10s
        monitor own.monitor
        monitor_timeout 5s
    service none
        interval 10s
        monitor none.monitor
        monitor_timeout 0
`, map[string]any{"def.monitor": def, "own.monitor": own, "none.monitor": none})
	r.advance(11 * time.Second)
	for _, c := range []struct {
		m    *fakeMonitor
		want time.Duration
	}{{def, time.Minute}, {own, 5 * time.Second}, {none, 0}} {
		if req := r.request(c.m); req.Timeout != c.want {
			t.Errorf("%s: timeout %v, want %v", req.Service, req.Timeout, c.want)
		}
	}
}

// TestHungMonitorFailsAtTheDefaultTimeout: with no monitor_timeout in the
// configuration, a monitor that hangs is ended by the scheduler after the
// 60 s default — on its own clock, whatever the monitor does with its
// request's timeout — and the service fails and alerts.
func TestHungMonitorFailsAtTheDefaultTimeout(t *testing.T) {
	hang := answer(0, "ok\n").gated()
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service hang
        interval 10m
        monitor hang.monitor
        period wd {Sun-Sat}
            alert rec.alert
`, map[string]any{"hang.monitor": hang, "rec.alert": rec})
	r.advance(10 * time.Minute)
	r.request(hang)
	r.advance(59 * time.Second)
	r.none("monitor-done")
	r.advance(time.Second)
	if e := r.wait("monitor-done"); e.Exit == 0 {
		t.Errorf("the timed-out run exited %d", e.Exit)
	}
	if st := r.status("g", "hang").State; !st.OpStatus.IsFailure() {
		t.Errorf("status %v after the timeout", st.OpStatus)
	}
	if ev := r.sent(rec); ev.Type != "failure" {
		t.Errorf("alert %+v", ev)
	}
}

// TestSubSecondRandskew: a randskew under a second (mon counts whole
// seconds) skews by one second instead of crashing the daemon.
func TestSubSecondRandskew(t *testing.T) {
	m := answer(0, "ok\n")
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        randskew 0.5s
        monitor m.monitor
`, map[string]any{"m.monitor": m})
	r.advance(10 * time.Second)
	r.request(m)
	r.wait("monitor-done")
	r.advance(11 * time.Second) // 10 s ± 1 s
	r.request(m)
}
