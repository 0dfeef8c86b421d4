package scheduler

import (
	"strings"
	"testing"
	"time"
)

// flaky.alert fails its first two calls, then succeeds.
const flakyAlert = `d="$(dirname "$0")/.."; n=$(cat "$d/calls" 2>/dev/null || echo 0); echo $((n+1)) > "$d/calls"; [ "$n" -ge 2 ] || { echo "relay down" >&2; exit 1; }
`

// TestFailedAlertIsRetriedWithBackoff: an alert that fails is retried
// after 15 s and then 1 min; each failed attempt is an "alert-failed"
// event and the service shows the failure until an attempt succeeds.
func TestFailedAlertIsRetriedWithBackoff(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10m
        monitor fail.monitor
        period wd {Sun-Sat}
            alert flaky.alert
`, map[string]string{"fail.monitor": "echo h1 down; exit 1\n", "flaky.alert": flakyAlert})
	r.advance(10 * time.Minute)
	r.wait("alert")
	f := r.wait("alert-failed")
	if f.Alert != "flaky.alert" || f.AlertType != "failure" {
		t.Errorf("event %+v", f)
	}
	st := r.status("g", "s")
	if af := st.AlertFailure; af == nil || af.Attempts != 1 || af.Final || !strings.Contains(af.Err, "exit status 1") {
		t.Fatalf("after the first attempt: %+v", af)
	}
	r.advance(15 * time.Second)
	r.wait("alert-failed")
	if af := r.status("g", "s").AlertFailure; af == nil || af.Attempts != 2 {
		t.Fatalf("after the second attempt: %+v", af)
	}
	r.advance(time.Minute)
	r.wait("alert-done")
	if af := r.status("g", "s").AlertFailure; af != nil {
		t.Errorf("failure still shown after delivery: %+v", af)
	}
	if got := strings.TrimSpace(r.file("calls")); got != "3" {
		t.Errorf("alert ran %s times, want 3", got)
	}
	if h := r.s.AlertHistory(); len(h) != 1 {
		t.Errorf("alert history %q: a retry is not a new alert", h)
	}
}

// TestAlertRetriesGiveUp: with alert_retries = 1 a failing alert is tried
// twice, then given up (and shown so).
func TestAlertRetriesGiveUp(t *testing.T) {
	r := newRig(t, `
alert_retries = 1

hostgroup g h1

watch g
    service s
        interval 1m
        monitor fail.monitor
        period wd {Sun-Sat}
            alert down.alert
`, map[string]string{"fail.monitor": "echo h1 down; exit 1\n", "down.alert": "exit 1\n"})
	r.advance(time.Minute)
	r.wait("alert-failed")
	r.advance(15 * time.Second)
	r.wait("alert-failed")
	if af := r.status("g", "s").AlertFailure; af == nil || af.Attempts != 2 || !af.Final {
		t.Fatalf("after giving up: %+v", af)
	}
}
