package config

import (
	"strings"
	"testing"
)

func TestDiagnosticIsPrintableAndBounded(t *testing.T) {
	d := Diagnostic{Pos: Pos{File: "mon.cf", Line: 3}, Msg: "cf error: unknown syntax [\x1b[31mred\x00\xff é\t]", Hint: strings.Repeat("x", 1<<20)}
	got := d.String()
	want := `mon.cf:3: cf error: unknown syntax [\x1b[31mred\x00\xff é` + "\t]; "
	if !strings.HasPrefix(got, want) {
		t.Errorf("got %q", got[:80])
	}
	if len(got) > 2*maxDiagText+100 || !strings.HasSuffix(got, "bytes more]") {
		t.Errorf("%d bytes, ends %q", len(got), got[len(got)-30:])
	}
}
