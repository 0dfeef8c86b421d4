package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestFakeFiresTimersInOrderWhenAdvanced(t *testing.T) {
	f := NewFake(t0)
	late, early := f.NewTimer(2*time.Second), f.NewTimer(time.Second)
	f.Advance(999 * time.Millisecond)
	select {
	case <-early.C():
		t.Fatal("fired before its time")
	default:
	}
	f.Advance(1001 * time.Millisecond) // to 2s: both are due
	if got := <-early.C(); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("early fired at %v", got)
	}
	if got := <-late.C(); !got.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("late fired at %v", got)
	}
	if f.Pending() != 0 {
		t.Errorf("%d pending after both fired", f.Pending())
	}
}

func TestFakeStoppedTimerNeverFires(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer returned false")
	}
	f.Advance(time.Hour)
	select {
	case <-tm.C():
		t.Fatal("a stopped timer fired")
	default:
	}
	if tm.Stop() {
		t.Error("second Stop returned true")
	}
}

// TestWaitMadeSeesTheNextTimer: WaitMade returns once a timer beyond the
// count read before is made, and not before.
func TestWaitMadeSeesTheNextTimer(t *testing.T) {
	f := NewFake(t0)
	f.NewTimer(time.Second)
	n := f.Made()
	if n != 1 {
		t.Fatalf("Made %d after one timer", n)
	}
	if err := f.WaitMade(context.Background(), 0); err != nil {
		t.Fatalf("a timer already made: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.WaitMade(ctx, n); !errors.Is(err, context.Canceled) {
		t.Fatalf("no new timer, cancelled context: %v", err)
	}
	done := make(chan error)
	go func() { done <- f.WaitMade(context.Background(), n) }()
	f.NewTimer(0) // an immediately fired timer counts too
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
