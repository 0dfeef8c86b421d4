package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/clock"
	"github.com/gomon/gomon/scheduler/decide"
)

// AlertFailure is the last alert of a service that could not be
// delivered, for the status page and the API.
type AlertFailure struct {
	Alert    string
	Type     string
	Err      string
	Time     time.Time // of the last attempt
	Attempts int       // made so far
	// Final is set when no retry is left: the alert was given up.
	Final bool
}

// retryDelay is the wait before retry i (0-based): 15 s, 1 min, 4 min,
// 16 min, then hourly. A notifier that is down for a restart is usually
// back within that.
func retryDelay(i int) time.Duration {
	if i >= 4 {
		return time.Hour
	}
	return 15 * time.Second << (2 * i)
}

// deliver sends one alert in its own goroutine, retrying with backoff
// when it fails (alert_retries, default 3). Every failed attempt is logged
// and counted ("alert-failed" events, gomon_alert_failures_total); the
// last failure of the service is kept for the status page. An alert is
// never dropped without an ERROR line: retries still pending when the
// daemon stops are logged as abandoned. attrs are the alert's fields
// (startAlert), on every record.
func (s *Scheduler) deliver(svc *service, gen uint64, newer <-chan struct{}, retries int, a alerts.Alert, name string, ev alerts.Event, attrs []any) {
	defer s.alertsWG.Done()
	attrs = attrs[:len(attrs):len(attrs)] // appends below never share an array
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.AlertTimeout)
		err := a.Send(ctx, ev)
		cancel()
		if err == nil {
			s.log.Info("alert done", append(attrs, "attempts", attempt)...)
			if ev.Type != decide.TestAlert {
				s.alertOutcome(svc, gen, name, ev.Type, nil)
			}
			return
		}
		final := attempt > retries
		logAttrs := append(attrs, "attempt", attempt, "err", err)
		// A program's exit status and output are in its *ExitError.
		var xe *alerts.ExitError
		if errors.As(err, &xe) {
			logAttrs = append(logAttrs, "result", xe.Result)
		}
		if final {
			s.log.Error("alert failed, giving up", logAttrs...)
		} else {
			s.log.Error("alert failed, will retry", append(logAttrs, "retry_in", retryDelay(attempt-1))...)
		}
		// The retry's timer runs before the failure is reported, so that
		// whoever sees the report (a test's fake clock) finds it set.
		var t clock.Timer
		if !final {
			t = s.clk.NewTimer(retryDelay(attempt - 1))
		}
		if ev.Type == decide.TestAlert {
			return // an operator's test: logged above, not counted, not retried
		}
		s.alertOutcome(svc, gen, name, ev.Type, &AlertFailure{Alert: name, Type: string(ev.Type), Err: err.Error(),
			Time: s.clk.Now(), Attempts: attempt, Final: final})
		if final {
			return
		}
		select {
		case <-t.C():
		case <-s.stopping:
			t.Stop()
			s.log.Error("alert abandoned: the daemon is stopping before its retry", append(attrs, "attempts", attempt)...)
			return
		case <-newer:
			// A retry that a later alert of the service has overtaken
			// would tell an old story (a failure after the recovery's
			// upalert).
			t.Stop()
			s.alertAbandoned(svc, name, ev.Type)
			s.log.Error("alert not retried: a later alert of the service has been sent since", append(attrs, "attempts", attempt)...)
			return
		}
	}
}

// alertOutcome records how an alert attempt went: its failure ("alert-
// failed"), or its delivery ("alert-done").
func (s *Scheduler) alertOutcome(svc *service, gen uint64, name string, typ decide.AlertType, f *AlertFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kind := "alert-done"
	if f != nil {
		kind = "alert-failed"
	}
	s.emit(Event{Kind: kind, Group: svc.w.name, Service: svc.cfg.Name, Alert: name, AlertType: typ, Time: s.clk.Now()})
	if gen != s.gen {
		return // a reset replaced the service record
	}
	if old := svc.peek().alertFailure; f == nil && (old == nil || old.Alert != name) {
		return // none shown, or another alert got through: the failed one stays shown
	}
	svc.more().alertFailure = f
}

// alertAbandoned reports a retry given up for a later alert.
func (s *Scheduler) alertAbandoned(svc *service, name string, typ decide.AlertType) {
	s.mu.readLock()
	defer s.mu.Unlock()
	s.emit(Event{Kind: "alert-abandoned", Group: svc.w.name, Service: svc.cfg.Name, Alert: name, AlertType: typ, Time: s.clk.Now()})
}
