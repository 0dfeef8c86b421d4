package scheduler

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHungMonitorIsReportedOverdue: with monitor_timeout = 0 (mon's
// unbounded runs) a monitor that hangs is not killed, but after three
// intervals its service is reported as not being checked: an event for
// the log and metrics, and Status.Overdue for list opstatus and the page.
// It clears when the run ends.
func TestHungMonitorIsReportedOverdue(t *testing.T) {
	r := newRig(t, `
monitor_timeout = 0

hostgroup g h1

watch g
    service hang
        interval 10s
        monitor hang.monitor
`, map[string]string{"hang.monitor": "echo $$ > \"$(dirname \"$0\")/../pid\"; exec sleep 300\n"})
	r.advance(10 * time.Second)
	r.wait("monitor-start")
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
	pid, err := strconv.Atoi(strings.TrimSpace(r.file("pid")))
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	r.wait("monitor-done")
	if st := r.status("g", "hang"); st.Overdue || st.Running {
		t.Errorf("after the run: running %v overdue %v", st.Running, st.Overdue)
	}
}
