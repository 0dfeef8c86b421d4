package scheduler

import (
	"slices"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// The state history of a service is bounded both ways: the console draws
// the last day, and a flapping service must not grow it without end.
const (
	stateHistoryAge = 24 * time.Hour
	stateHistoryMax = 1000
)

// StateChange is one entry of a service's state history: from Time on
// the service had Status, acknowledged and disabled as flagged.
type StateChange struct {
	Time     time.Time
	Status   decide.Status
	Acked    bool
	Disabled bool
}

// DisableNote says who disabled a service, when, and why (the web
// console asks for a reason; mon's protocol has none).
type DisableNote struct {
	By     string
	Reason string
	Time   time.Time
}

// noteState appends svc's state to its history when it differs from the
// last entry, and drops what is out of bounds: entries older than a day
// (keeping the one in force at the start of the day) and beyond
// stateHistoryMax. Called with s.mu held.
func (s *Scheduler) noteState(svc *service, now time.Time) {
	c := StateChange{Time: now, Status: svc.st.OpStatus, Acked: svc.st.Ack != 0, Disabled: svc.st.Disabled}
	last := s.firstState()
	if n := len(svc.states); n > 0 {
		last = svc.states[n-1]
	}
	last.Time = now
	if last == c {
		return
	}
	if svc.states == nil {
		svc.states = append(make([]StateChange, 0, 2), s.firstState())
	}
	svc.states = append(svc.states, c)
	cut := 0
	for cut+1 < len(svc.states) && !svc.states[cut+1].Time.After(now.Add(-stateHistoryAge)) {
		cut++
	}
	cut = max(cut, len(svc.states)-stateHistoryMax)
	if cut > 0 {
		svc.states = append(svc.states[:0], svc.states[cut:]...)
	}
}

// history returns svc's state history. A service has none of its own
// until its state first changes: until then it is firstState, which
// most services of a large configuration never leave.
func (s *Scheduler) history(svc *service) []StateChange {
	if svc.states == nil {
		return []StateChange{s.firstState()}
	}
	return svc.states
}

// firstState is the first entry of every service's history: the state
// of a fresh service (decide.NewState's) since the configuration was
// installed.
func (s *Scheduler) firstState() StateChange {
	return StateChange{Time: s.loadedAt, Status: decide.Untested}
}

// StateHistory returns a service's state changes, oldest first: those of
// the last 24 hours, after the one in force when they began.
func (s *Scheduler) StateHistory(group, service string) ([]StateChange, error) {
	s.mu.readLock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return nil, err
	}
	return slices.Clone(s.history(svc)), nil
}
