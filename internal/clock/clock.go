// Package clock abstracts time so the scheduler's timers can be driven by
// a fake clock in tests.
package clock

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Clock tells the time and makes timers.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that delivers on C once d has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

// Real is the system clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// NewTimer wraps time.NewTimer.
func (Real) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// Fake is a manually advanced clock for tests. Besides moving time, it
// tells a test when code under test has come back to wait on it: a loop
// that makes a timer each time it goes to sleep is seen going round
// through Made and WaitMade, so the test needs no real-time sleep.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	made   int           // timers made by NewTimer so far
	change chan struct{} // closed when made grows; nil when nobody waits
}

// NewFake returns a fake clock reading t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTimer returns a timer that fires when Advance passes its deadline.
func (f *Fake) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{f: f, when: f.now.Add(d), c: make(chan time.Time, 1)}
	f.made++
	if f.change != nil {
		close(f.change)
		f.change = nil
	}
	if d <= 0 {
		t.c <- f.now
		t.fired = true
		return t
	}
	f.timers = append(f.timers, t)
	return t
}

// Advance moves the clock forward by d, firing due timers in order.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	sort.Slice(f.timers, func(i, j int) bool { return f.timers[i].when.Before(f.timers[j].when) })
	keep := f.timers[:0]
	for _, t := range f.timers {
		if !t.when.After(f.now) {
			t.fired = true
			t.c <- t.when
			continue
		}
		keep = append(keep, t)
	}
	f.timers = keep
}

// Pending returns how many timers are waiting.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Made returns how many timers NewTimer has made so far, fired, stopped
// or pending.
func (f *Fake) Made() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.made
}

// WaitMade blocks until NewTimer has made more than n timers in all, or
// ctx ends. Read n with Made before the step whose reaction is awaited;
// then WaitMade returns once the code under test has gone back to wait
// on the clock after that step.
func (f *Fake) WaitMade(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		made := f.made
		if f.change == nil {
			f.change = make(chan struct{})
		}
		change := f.change
		f.mu.Unlock()
		if made > n {
			return nil
		}
		select {
		case <-change:
		case <-ctx.Done():
			return fmt.Errorf("waiting for timer %d of the fake clock (%d made): %w", n+1, made, ctx.Err())
		}
	}
}

type fakeTimer struct {
	f     *Fake
	when  time.Time
	c     chan time.Time
	fired bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.f.mu.Lock()
	defer t.f.mu.Unlock()
	for i, x := range t.f.timers {
		if x == t {
			t.f.timers = append(t.f.timers[:i], t.f.timers[i+1:]...)
			return true
		}
	}
	return false
}
