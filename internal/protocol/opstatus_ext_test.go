package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gomon/gomon/scheduler/decide"
)

// TestRecordGomonExtensions: per-host verdicts and flap detection add
// keys at the end of the record, and only when configured and set.
func TestRecordGomonExtensions(t *testing.T) {
	st := &decide.State{
		Hosts: map[string]*decide.HostState{
			"h2": {FirstFailure: 1795394883, ConsecFailures: 3},
			"h1": {FirstFailure: 1795394900, ConsecFailures: 1},
		},
	}
	// Only the engine computes the percentage; a state imported from the
	// cluster carries it.
	if err := json.Unmarshal([]byte(`{"Flapping":true,"FlapPercent":52.5}`), st); err != nil {
		t.Fatal(err)
	}
	var o OpStatus
	o.SetGomonState(st, true)
	got := Record(o)
	want := " failing_hosts=h1,h2 host_first_failures=1795394900,1795394883 host_consec_failures=1,3 flapping=1 flap_percent=53"
	if !strings.HasSuffix(got, want) {
		t.Errorf("record %s\nwant the suffix %s", got, want)
	}
	var plain OpStatus
	plain.SetGomonState(&decide.State{}, false)
	if r := Record(plain); strings.Contains(r, "failing_hosts") || strings.Contains(r, "flap") {
		t.Errorf("a service without the extensions shows them: %s", r)
	}
	var quiet OpStatus
	quiet.SetGomonState(&decide.State{}, true)
	if r := Record(quiet); !strings.HasSuffix(r, " flapping=0 flap_percent=0") {
		t.Errorf("flap detection configured: %s", r)
	}
}
