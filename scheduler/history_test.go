package scheduler

import (
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler/decide"
)

const historyConfig = `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor fail.monitor
        period
            alert rec.alert
`

// The state history follows a service through untested, failing, acked,
// disabled and enabled, each once; the disable note carries who and why.
func TestStateHistory(t *testing.T) {
	r := newRig(t, historyConfig, map[string]any{"fail.monitor": answer(1, "h1 broken\n"), "rec.alert": recorder()})
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	if err := r.s.Ack("g", "s", "alice", "looking"); err != nil {
		t.Fatal(err)
	}
	if err := r.s.DisableServiceFor("g", "s", "bob", Hold{Reason: "maintenance"}); err != nil {
		t.Fatal(err)
	}
	st := r.status("g", "s")
	if n := st.DisabledBy; n == nil || n.By != "bob" || n.Reason != "maintenance" || !n.Time.Equal(r.clk.Now()) {
		t.Errorf("DisabledBy = %+v, want bob, maintenance, now", n)
	}
	if err := r.s.EnableService("g", "s"); err != nil {
		t.Fatal(err)
	}
	if st := r.status("g", "s"); st.DisabledBy != nil {
		t.Errorf("DisabledBy after enable = %+v", st.DisabledBy)
	}
	h, err := r.s.StateHistory("g", "s")
	if err != nil {
		t.Fatal(err)
	}
	want := []StateChange{
		{Time: epoch, Status: decide.Untested},
		{Time: epoch.Add(10 * time.Second), Status: decide.Fail},
		{Time: epoch.Add(10 * time.Second), Status: decide.Fail, Acked: true},
		{Time: epoch.Add(10 * time.Second), Status: decide.Fail, Acked: true, Disabled: true},
		{Time: epoch.Add(10 * time.Second), Status: decide.Fail, Acked: true},
	}
	if len(h) != len(want) {
		t.Fatalf("history = %+v, want %+v", h, want)
	}
	for i := range want {
		if !h[i].Time.Equal(want[i].Time) || h[i].Status != want[i].Status || h[i].Acked != want[i].Acked || h[i].Disabled != want[i].Disabled {
			t.Errorf("history[%d] = %+v, want %+v", i, h[i], want[i])
		}
	}
	if _, err := r.s.StateHistory("g", "nope"); err != ErrUnknownService {
		t.Errorf("unknown service: err = %v", err)
	}
}

// The history keeps a day (and the entry in force at its start) and at
// most stateHistoryMax entries, however often the state flaps.
func TestStateHistoryBounded(t *testing.T) {
	r := newRig(t, historyConfig, map[string]any{"fail.monitor": answer(1, "h1 broken\n"), "rec.alert": recorder()})
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	svc := r.s.watchIdx.service("g", "s")
	now := epoch
	flap := func(n int, step time.Duration) {
		for range n {
			now = now.Add(step)
			if svc.st.OpStatus == decide.Fail {
				svc.st.OpStatus = decide.OK
			} else {
				svc.st.OpStatus = decide.Fail
			}
			r.s.noteState(svc, now)
		}
	}
	flap(30, time.Hour)
	if len(svc.states) != 25 || !svc.states[0].Time.Equal(now.Add(-24*time.Hour)) {
		t.Errorf("after 30 hourly changes: %d entries from %v, want 25 from a day ago", len(svc.states), svc.states[0].Time)
	}
	flap(5000, time.Second)
	if len(svc.states) != stateHistoryMax || !svc.states[len(svc.states)-1].Time.Equal(now) {
		t.Errorf("after 5000 changes: %d entries, want %d ending now", len(svc.states), stateHistoryMax)
	}
}

// A service whose state never changed has one entry: untested since the
// configuration was loaded, and after a reset since the reset.
func TestStateHistoryUnchanged(t *testing.T) {
	r := newRig(t, historyConfig, map[string]any{"fail.monitor": answer(1, "h1 broken\n"), "rec.alert": recorder()})
	want := func(at time.Time) {
		t.Helper()
		h, err := r.s.StateHistory("g", "s")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 1 || !h[0].Time.Equal(at) || h[0] != (StateChange{Time: h[0].Time, Status: decide.Untested}) {
			t.Errorf("history = %+v, want untested since %v", h, at)
		}
	}
	want(epoch)
	r.s.mu.readLock()
	c := r.s.cfg
	r.s.mu.Unlock()
	r.s.opts.Reload = func() (*config.Config, error) { return c, nil }
	r.clk.Advance(5 * time.Second)
	if err := r.s.Reset(ResetOptions{}); err != nil {
		t.Fatal(err)
	}
	want(epoch.Add(5 * time.Second))
}
