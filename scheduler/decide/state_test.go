package decide

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// A state's JSON (what the cluster keeps) has the rarely set fields
// beside the others, set or not, and reads back to the same state; a
// state that never set them does not get their part from reading zeros.
func TestStateJSON(t *testing.T) {
	st := State{OpStatus: Fail, LastSummary: "down", Flapping: true}
	st.SetFailureOutput("down\ndetail")
	st.SetLastTrap(1795394966)
	st.SetIntended("g:s")
	st.SetOldInterval(time.Minute)
	st.edit().FlapHistory, st.edit().FlapPercent = []bool{true, false}, 42.5
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"OpStatus", "LastSummary", "Flapping", "FailureOutput", "LastTrap", "Intended", "OldInterval", "FlapHistory", "FlapPercent"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("JSON %s has no key %s", b, k)
		}
	}
	var got State
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, st) {
		t.Errorf("read back %+v (%+v)\nwant %+v (%+v)", got, got.rare, st, st.rare)
	}

	b, err = json.Marshal(&State{OpStatus: OK})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &keys); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys["LastTrap"]; !ok {
		t.Errorf("JSON %s of a state without traps has no LastTrap", b)
	}
	got = State{}
	if err := json.Unmarshal(b, &got); err != nil || got.rare != nil || got.OpStatus != OK {
		t.Errorf("read back %+v (rare %v), %v; want OK without a rare part", got, got.rare, err)
	}

	// Fields the data does not name are kept, as for any struct.
	got = State{LastSummary: "kept"}
	got.SetLastTrap(7)
	if err := json.Unmarshal([]byte(`{"OpStatus":1,"Intended":"a:b"}`), &got); err != nil {
		t.Fatal(err)
	}
	if got.LastSummary != "kept" || got.LastTrap() != 7 || got.Intended() != "a:b" || got.OpStatus != OK {
		t.Errorf("after a partial read: %+v (%+v)", got, got.rare)
	}
}

// Setting a rare field to zero on a state without them allocates
// nothing; Clone shares nothing of the rare part.
func TestStateRare(t *testing.T) {
	var st State
	st.SetFailureOutput("")
	st.SetLastTrap(0)
	st.SetIntended("")
	st.SetOldInterval(0)
	if st.rare != nil {
		t.Errorf("zero values allocated the rare part: %+v", st.rare)
	}
	st.SetFailureOutput("x")
	st.edit().FlapHistory = []bool{true}
	c := st.Clone()
	c.SetFailureOutput("")
	c.edit().FlapHistory[0] = false
	if st.FailureOutput() != "x" || !st.FlapHistory()[0] {
		t.Errorf("a clone's changes reached the original: %+v", st.rare)
	}
}
