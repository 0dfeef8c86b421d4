package protocol

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// capturedState is a line of a mon 1.3.6 STATEDIR/opstatus file
// (scheduling-and-alerts.md §13.2).
const capturedState = "group=g1\tservice=s1\top_status=1\tfailure_count=0\talert_count=0\tlast_success=1795394953\tfirst_success=\tconsec_failures=0\tlast_failure=0\tfirst_failure=0\tlast_summary=all\\20good\\20now\tlast_failure_time=\tlast_failure_summary=\tlast_failure_detail=\tlast_detail=ok\\20detail\\0a\tack=0\tack_comment=\tlast_trap=0\tlast_traphost=\texitval=0\tlast_check=1795394958\tlast_op_status=1\tfailure_output=\ttrap_timer=\twd {Sun-Sat}:last_alert=0\twd {Sun-Sat}:alert_sent=0\twd {Sun-Sat}:1stfailtime=0\twd {Sun-Sat}:failcount="

func TestStateRecordRoundTrip(t *testing.T) {
	r, ok := ParseStateRecord(capturedState)
	if !ok {
		t.Fatal("ParseStateRecord: no group/service")
	}
	if r.Group != "g1" || r.Service != "s1" {
		t.Errorf("group/service = %q/%q", r.Group, r.Service)
	}
	if r.Vars["last_summary"] != "all good now" || r.Vars["last_detail"] != "ok detail\n" || r.Vars["op_status"] != "1" {
		t.Errorf("vars = %q", r.Vars)
	}
	if v, found := r.Vars["first_success"]; !found || v != "" {
		t.Errorf("first_success = %q, %v", v, found)
	}
	if len(r.Periods) != 1 || r.Periods[0].Key != "wd {Sun-Sat}" || r.Periods[0].Vars["alert_sent"] != "0" {
		t.Errorf("periods = %+v", r.Periods)
	}
	if got := FormatStateRecord(r); got != capturedState {
		t.Errorf("FormatStateRecord mismatch\n got: %q\nwant: %q", got, capturedState)
	}
}

func TestStateRecordValues(t *testing.T) {
	r := StateRecord{Group: "g", Service: "s", Vars: map[string]string{
		"last_summary": "a=b c\td",   // '=' survives (Q-SCH-17 fixed)
		"last_detail":  `x\y` + "\n", // backslash not doubled
	}, Periods: []PeriodState{{Key: "p1", Vars: map[string]string{"last_alert": "5"}}, {Key: "wd {Mon}", Vars: map[string]string{}}}}
	line := FormatStateRecord(r)
	if !strings.Contains(line, "\tlast_summary=a=b\\20c\\09d\t") || !strings.Contains(line, "\tlast_detail=x\\y\\0a\t") {
		t.Errorf("line = %q", line)
	}
	if !strings.HasSuffix(line, "\tp1:failcount=\twd {Mon}:last_alert=\twd {Mon}:alert_sent=\twd {Mon}:1stfailtime=\twd {Mon}:failcount=") {
		t.Errorf("period fields of %q", line)
	}
	back, ok := ParseStateRecord(line)
	if !ok || back.Vars["last_summary"] != "a=b c\td" || back.Periods[0].Vars["last_alert"] != "5" || len(back.Periods) != 2 {
		t.Errorf("parsed back = %+v", back)
	}
}

func TestParseStateRecordBad(t *testing.T) {
	for _, line := range []string{"", "service=s", "group=g", "garbage\tno equals"} {
		if _, ok := ParseStateRecord(line); ok {
			t.Errorf("ParseStateRecord(%q) ok", line)
		}
	}
	// Fields without '=' are skipped; a period key is cut at its last ':'.
	r, ok := ParseStateRecord("group=g\tservice=s\tnoequals\ta:b:c=1")
	if !ok || len(r.Vars) != 0 || len(r.Periods) != 1 || r.Periods[0].Key != "a:b" || r.Periods[0].Vars["c"] != "1" {
		t.Errorf("ParseStateRecord = %+v, %v", r, ok)
	}
}

func TestDisabledState(t *testing.T) {
	d := DisabledState{
		Hosts:    []string{"h1", "h2"},
		Watches:  []string{"g1"},
		Services: []GroupService{{"g1", "s2"}},
	}
	var b bytes.Buffer
	if err := WriteDisabledState(&b, d); err != nil {
		t.Fatal(err)
	}
	want := "disable host h1\ndisable host h2\ndisable watch g1\ndisable service g1 s2\n"
	if b.String() != want {
		t.Errorf("written %q, want %q", b.String(), want)
	}
	back, err := ParseDisabledState(strings.NewReader("# comment\n" + want + "enable host x\ndisable bogus y\ndisable service g\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("parsed %+v, want %+v", back, d)
	}
}
