package scheduler

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts"
)

// failingAlert fails its first n sends, then succeeds.
type failingAlert struct {
	n     int32
	calls atomic.Int32
}

func (a *failingAlert) Send(context.Context, alerts.Event) error {
	if a.calls.Add(1) <= a.n {
		return errors.New("relay down")
	}
	return nil
}

// retryConfig is a service that fails every 10 minutes and alerts
// flaky.alert, after the given globals.
func retryConfig(globals string) string {
	return globals + `

hostgroup g h1

watch g
    service s
        interval 10m
        monitor fail.monitor
        period wd {Sun-Sat}
            alert flaky.alert
`
}

// TestFailedAlertIsRetriedWithBackoff: an alert that fails is retried
// after 15 s and then 1 min; each failed attempt is an "alert-failed"
// event and the service shows the failure until an attempt succeeds.
func TestFailedAlertIsRetriedWithBackoff(t *testing.T) {
	flaky := &failingAlert{n: 2}
	r := newRig(t, retryConfig(""), map[string]any{"fail.monitor": answer(1, "h1 down\n"), "flaky.alert": flaky})
	r.advance(10 * time.Minute)
	r.wait("alert")
	f := r.wait("alert-failed")
	if f.Alert != "flaky.alert" || f.AlertType != "failure" {
		t.Errorf("event %+v", f)
	}
	if af := r.status("g", "s").AlertFailure; af == nil || af.Attempts != 1 || af.Final || af.Err != "relay down" {
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
	if n := flaky.calls.Load(); n != 3 {
		t.Errorf("alert sent %d times, want 3", n)
	}
	if h := r.s.AlertHistory(); len(h) != 1 {
		t.Errorf("alert history %q: a retry is not a new alert", h)
	}
}

// TestAlertRetriesGiveUp: with alert_retries = 1 a failing alert is tried
// twice, then given up (and shown so).
func TestAlertRetriesGiveUp(t *testing.T) {
	down := &failingAlert{n: 1000}
	r := newRig(t, retryConfig("alert_retries = 1"), map[string]any{"fail.monitor": answer(1, "h1 down\n"), "flaky.alert": down})
	r.advance(10 * time.Minute)
	r.wait("alert-failed")
	r.advance(15 * time.Second)
	r.wait("alert-failed")
	if af := r.status("g", "s").AlertFailure; af == nil || af.Attempts != 2 || !af.Final {
		t.Fatalf("after giving up: %+v", af)
	}
	r.advance(2 * time.Minute) // past a third attempt's time, before the next run
	r.none("alert-failed")
	if n := down.calls.Load(); n != 2 {
		t.Errorf("alert sent %d times, want 2", n)
	}
}

// TestRetryOvertakenByANewerAlertIsDropped: an alert still waiting for
// its retry when a later event of the service alerts is given up at once
// (it would tell an older story, and it holds the event's output).
func TestRetryOvertakenByANewerAlertIsDropped(t *testing.T) {
	down := &failingAlert{n: 1000}
	r := newRig(t, strings.Replace(retryConfig(""), "interval 10m", "interval 10s", 1),
		map[string]any{"fail.monitor": answer(1, "h1 down\n"), "flaky.alert": down})
	r.advance(10 * time.Second) // the first failure's alert fails; its retry is due at 25 s
	r.wait("alert-failed")
	r.advance(10 * time.Second) // the second failure alerts (no alertevery): the first retry goes
	for seen := map[string]bool{}; !seen["alert-failed"] || !seen["alert-abandoned"]; {
		select { // in either order
		case e := <-r.events:
			seen[e.Kind] = true
		case <-time.After(timeout):
			t.Fatalf("saw only %v", seen)
		}
	}
	r.advance(5 * time.Second) // 25 s: nothing was left to retry
	r.settle()
	if n := down.calls.Load(); n != 2 {
		t.Errorf("%d sends, want 2: the overtaken retry ran", n)
	}
}
