package decide

import (
	"encoding/json"
	"time"
)

// rareState is the part of a State that most services never set. There
// is a State per service, and at 100,000 services these fields are most
// of what an idle one would carry for nothing. The State's accessors
// allocate it when a field is first set to something other than zero.
type rareState struct {
	FailureOutput string        // the output of the last failure; "" after a success
	LastTrap      int64         // when the last trap came
	Intended      string        // "group:service" of a trap re-routed to default/default
	OldInterval   time.Duration // the interval to restore (mon's _old_interval)
	// FlapHistory is the last flap_detection results, oldest first
	// (true = failure); Flapping is set while they flap.
	FlapHistory []bool  `json:",omitempty"`
	FlapPercent float64 `json:",omitempty"` // weighted percent state change over FlapHistory
}

// noRare is what the accessors read of a State without a rare part.
var noRare rareState

// peek returns the rare part for reading; it must not be written.
func (st *State) peek() *rareState {
	if st.rare == nil {
		return &noRare
	}
	return st.rare
}

// edit returns the rare part for writing, allocating it on first use.
// Setters call it only for a value other than zero, or when it exists.
func (st *State) edit() *rareState {
	if st.rare == nil {
		st.rare = new(rareState)
	}
	return st.rare
}

// FailureOutput is the output of the last failure (summary line, then
// detail), cleared by a success.
func (st *State) FailureOutput() string { return st.peek().FailureOutput }

// SetFailureOutput sets FailureOutput.
func (st *State) SetFailureOutput(out string) {
	if out != "" || st.rare != nil {
		st.edit().FailureOutput = out
	}
}

// LastTrap is when the last trap for the service came, in epoch seconds.
func (st *State) LastTrap() int64 { return st.peek().LastTrap }

// SetLastTrap sets LastTrap.
func (st *State) SetLastTrap(t int64) {
	if t != 0 || st.rare != nil {
		st.edit().LastTrap = t
	}
}

// Intended is "group:service" of the last trap, when it was meant for a
// service that does not exist and came to default/default instead.
func (st *State) Intended() string { return st.peek().Intended }

// SetIntended sets Intended.
func (st *State) SetIntended(gs string) {
	if gs != "" || st.rare != nil {
		st.edit().Intended = gs
	}
}

// OldInterval is the interval to restore when failure_interval ends
// (mon's _old_interval).
func (st *State) OldInterval() time.Duration { return st.peek().OldInterval }

// SetOldInterval sets OldInterval.
func (st *State) SetOldInterval(d time.Duration) {
	if d != 0 || st.rare != nil {
		st.edit().OldInterval = d
	}
}

// FlapHistory is the last flap_detection results, oldest first (true =
// failure). The slice must not be changed.
func (st *State) FlapHistory() []bool { return st.peek().FlapHistory }

// FlapPercent is the weighted percent state change over FlapHistory.
func (st *State) FlapPercent() float64 { return st.peek().FlapPercent }

// stateJSON is a State as JSON (the cluster keeps states so): the rare
// fields beside the others, as one object.
type stateJSON struct {
	*plainState
	rareState
}

// plainState is State without its JSON methods.
type plainState State

// MarshalJSON writes st with its rare fields, set or not.
func (st State) MarshalJSON() ([]byte, error) {
	return json.Marshal(stateJSON{(*plainState)(&st), *st.peek()})
}

// UnmarshalJSON reads what MarshalJSON writes. Like a struct's, it keeps
// the fields that data does not name.
func (st *State) UnmarshalJSON(data []byte) error {
	v := stateJSON{(*plainState)(st), *st.peek()}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	st.rare = nil
	if !v.rareState.isZero() {
		st.rare = &v.rareState
	}
	return nil
}

// isZero reports whether r holds nothing, so that a State need not keep it.
func (r *rareState) isZero() bool {
	return r.FailureOutput == "" && r.LastTrap == 0 && r.Intended == "" && r.OldInterval == 0 &&
		len(r.FlapHistory) == 0 && r.FlapPercent == 0
}
