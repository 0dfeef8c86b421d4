package scheduler

import (
	"testing"
	"time"
)

// TestRunnersAreReusedAndEnd: the goroutine that ran a check waits for
// the next run and takes it, instead of a new goroutine per run, and no
// waiting runner outlives the scheduler.
func TestRunnersAreReusedAndEnd(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor fake
`, map[string]any{"fake": answer(0, "")})
	idle := func(want int32) {
		t.Helper()
		// A runner counts itself idle just after finish, which sent the
		// event awaited.
		for deadline := time.Now().Add(timeout); r.s.runners.idle.Load() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d runners wait, want %d", r.s.runners.idle.Load(), want)
			}
		}
	}
	for range 3 {
		r.advance(10 * time.Second)
		r.wait("monitor-done")
		idle(1)
	}
	r.stop()
	idle(0)
}
