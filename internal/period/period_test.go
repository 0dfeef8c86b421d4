package period

import (
	"strings"
	"testing"
	"time"
)

// sunday3am is Sunday 2024-03-10 03:00 in UTC.
var sunday3am = time.Date(2024, 3, 10, 3, 0, 0, 0, time.UTC)

func TestParseValidatesEverySubPeriod(t *testing.T) {
	// Q-PER-1: Time::Period stops at the first matching sub-period, so mon
	// accepts or rejects these depending on when the config is loaded.
	monday := time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC)
	for _, spec := range []string{
		"wd {mon-fri}, hr {25}",
		"wd {mon}, wd {foo}",
		"hr {0-23}, ",
		"wd {mon}, , wd {tue}",
		"wd {mon}, none",
	} {
		if spec != "hr {0-23}, " && InPeriod(monday.Unix(), spec, time.UTC) != 1 {
			t.Errorf("InPeriod(%q) on a Monday should short-circuit to 1", spec)
		}
		if _, err := Parse(spec); err == nil && spec != "hr {0-23}, " {
			t.Errorf("Parse(%q) accepted a spec with a malformed sub-period", spec)
		}
	}
	// A trailing comma yields no empty sub-period (Perl's split drops it).
	if _, err := Parse("hr {0-23}, "); err != nil {
		t.Errorf("Parse(trailing comma): %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"wd {foo}", `period "wd {foo}": wd {foo}: "fo" is not a weekday`},
		{"hr {25}", `hr {25}: "25" is out of range`},
		{"wd {mon-fri", `1 { but 0 }`},
		{"none,", `no scale`},
		{"day {1}", `unknown scale "day"`},
		{"wd {mon}, hr {9:00}", `sub-period 2 "hr {9:00}": hr {9:00}: "9:00" is not a number`},
		{"wd {mon} x", `NAME {…}`},
		{"hr {12 noon}", `"noon" is not a number`},
		{"yr {1900}", `neither two digits nor 1970 or later`},
		{"cron {61 * * * *}", `cron window`},
		{"cron {* * * *}", `cron window`},
		{"cron * * * * *", `cron {MIN HOUR DOM MON DOW}`},
		{"cron {@hourly}", `cron window`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v; want it to contain %q", tt.spec, err, tt.want)
		}
	}
}

func TestInMatchesInPeriod(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	specs := []string{
		"", "none", "wd {Mon-Fri} hr {7am-10pm}", "wd {Mon-Fri} hr {10pm-7am}, wd {Sat Sun}",
		"hr {22-2}", "min {0-29}", "wk {1 3 5} wd {mon wed fri}", "mo {Nov-Feb}",
		"yr {99-01}", "yr {24}", "wd {}", ",", "yd {64x}", "MONTH {jan} mDay {1-7}",
	}
	start := time.Date(2023, 12, 25, 0, 0, 0, 0, ny).Unix()
	for _, spec := range specs {
		s, err := Parse(spec)
		if err != nil {
			t.Fatalf("Parse(%q): %v", spec, err)
		}
		if s.String() != spec {
			t.Errorf("String() = %q; want %q", s.String(), spec)
		}
		// Every 37 minutes for about a year, crossing both DST changes.
		for u := start; u < start+370*86400; u += 37 * 60 {
			want := InPeriod(u, spec, ny) == 1
			if got := s.In(time.Unix(u, 0).In(ny)); got != want {
				t.Fatalf("Parse(%q).In(%d) = %v; InPeriod says %v", spec, u, got, want)
			}
		}
	}
}

func TestZeroSpecIsAlways(t *testing.T) {
	var s Spec
	if !s.In(sunday3am) {
		t.Error("zero Spec should always match")
	}
}

func TestInPeriodRejectsCronAndNegativeTimes(t *testing.T) {
	if got := InPeriod(sunday3am.Unix(), "cron {* * * * *}", time.UTC); got != -1 {
		t.Errorf("InPeriod(cron window) = %d; Time::Period says -1", got)
	}
	if got := InPeriod(-1, "", time.UTC); got != -1 {
		t.Errorf("InPeriod(-1) = %d; want -1", got)
	}
	if got := InPeriod(0, "yr {1970}", nil); got != 1 && time.Local == time.UTC {
		t.Errorf("InPeriod with nil location = %d", got)
	}
}

func TestCronWindow(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spec string
		t    time.Time
		want bool
	}{
		{"cron {* * * * *}", sunday3am, true},
		{"cron {0-29 * * * *}", sunday3am.Add(29*time.Minute + 59*time.Second), true},
		{"cron {0-29 * * * *}", sunday3am.Add(30 * time.Minute), false},
		{"cron {* 9-17 * * MON-FRI}", sunday3am, false},
		{"cron {* 9-17 * * mon-fri}", sunday3am.Add(30 * time.Hour), true}, // Monday 09:00
		{"Cron{ * 0-6 * * SUN }", sunday3am, true},
		{"cron {*/15 * * * *}", sunday3am.Add(15 * time.Minute), true},
		{"cron {*/15 * * * *}", sunday3am.Add(16 * time.Minute), false},
		// Day of month OR day of week when neither is *, as in cron.
		{"cron {* * 1 * SUN}", sunday3am, true},
		{"cron {* * 1 * MON}", sunday3am, false},
		{"cron {* * 10 * MON}", sunday3am, true},
		{"cron {* * * MAR *}", sunday3am, true},
		{"cron {* * * 4 *}", sunday3am, false},
		// The evaluated time's zone counts, unless the window names one.
		{"cron {* 4 * * *}", sunday3am.In(berlin), true},
		{"cron {CRON_TZ=Europe/Berlin * 4 * * *}", sunday3am, true},
		{"cron {TZ=UTC * 3 * * *}", sunday3am.In(berlin), true},
	}
	for _, tt := range tests {
		s, err := Parse(tt.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.spec, err)
			continue
		}
		if got := s.In(tt.t); got != tt.want {
			t.Errorf("Parse(%q).In(%v) = %v; want %v", tt.spec, tt.t, got, tt.want)
		}
	}
}

// TestCronWindowAgreesWithNext checks the bit test against robfig/cron's
// own search over two days of minutes.
func TestCronWindowAgreesWithNext(t *testing.T) {
	for _, expr := range []string{"*/7 1-5,22 * * *", "0 * 10 * *", "30 3 * * 0", "* * 1,10 * 1-3"} {
		s, err := Parse("cron {" + expr + "}")
		if err != nil {
			t.Fatal(err)
		}
		for m := sunday3am.Add(-24 * time.Hour); m.Before(sunday3am.Add(24 * time.Hour)); m = m.Add(time.Minute) {
			want := s.window.sched.Next(m.Add(-time.Second)).Equal(m)
			if got := s.In(m.Add(30 * time.Second)); got != want {
				t.Fatalf("cron {%s} at %v: In = %v, Next says %v", expr, m, got, want)
			}
		}
	}
}

func TestSchedule(t *testing.T) {
	base := time.Date(2024, 3, 10, 3, 7, 20, 0, time.UTC)
	tests := []struct {
		expr string
		want time.Time
	}{
		{"*/5 * * * *", time.Date(2024, 3, 10, 3, 10, 0, 0, time.UTC)},
		{"30 */5 * * * *", time.Date(2024, 3, 10, 3, 10, 30, 0, time.UTC)},
		{"*/20 * * * * *", time.Date(2024, 3, 10, 3, 7, 40, 0, time.UTC)},
		{"@hourly", time.Date(2024, 3, 10, 4, 0, 0, 0, time.UTC)},
		{"@daily", time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)},
		{"@every 30s", base.Add(30 * time.Second)},
		{"0 9 * * MON-FRI", time.Date(2024, 3, 11, 9, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.expr)
		if err != nil {
			t.Errorf("ParseSchedule(%q): %v", tt.expr, err)
			continue
		}
		if got := s.Next(base); !got.Equal(tt.want) {
			t.Errorf("ParseSchedule(%q).Next(%v) = %v; want %v", tt.expr, base, got, tt.want)
		}
		if s.String() != tt.expr {
			t.Errorf("String() = %q; want %q", s.String(), tt.expr)
		}
	}
	for _, bad := range []string{"", "* * *", "61 * * * *", "@every", "@every -5s", "@every 500ms", "@fortnightly", "wd {mon}"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

func BenchmarkIn(b *testing.B) {
	s, err := Parse("wd {Mon-Fri} hr {7am-10pm}")
	if err != nil {
		b.Fatal(err)
	}
	tm := time.Date(2024, 3, 11, 12, 0, 0, 0, time.Local)
	for b.Loop() {
		s.In(tm)
	}
}

func BenchmarkInPeriod(b *testing.B) {
	t := time.Date(2024, 3, 11, 12, 0, 0, 0, time.UTC).Unix()
	for b.Loop() {
		InPeriod(t, "wd {Mon-Fri} hr {7am-10pm}", time.UTC)
	}
}

// FuzzParse checks that no input panics and that an accepted spec
// behaves exactly like Time::Period at any time.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"wd {Mon-Fri} hr {7am-10pm}", "yd {6.0e1}, mo {jan - feb - mar}", "yr {99-01}", "cron {*/5 9-17 * * 1-5}", "wd {mon\ntue}"} {
		f.Add(s, int64(1710039600))
	}
	f.Fuzz(func(t *testing.T, spec string, u int64) {
		u &= 1<<32 - 1 // keep within the years Perl and the vectors cover
		got := InPeriod(u, spec, time.UTC)
		s, err := Parse(spec)
		if err != nil || isCronWindow(spec) {
			return
		}
		if got == -1 {
			t.Fatalf("Parse accepted %q but InPeriod says -1", spec)
		}
		if in := s.In(time.Unix(u, 0).UTC()); in != (got == 1) {
			t.Fatalf("Parse(%q).In(%d) = %v; InPeriod = %d", spec, u, in, got)
		}
	})
}

// TestInPeriodStopsAtFirstMatch: Time::Period examines sub-periods only
// until one matches, so a malformed one after it goes unnoticed (the
// config loader's Parse still rejects the spec, Q-PER-1).
func TestInPeriodStopsAtFirstMatch(t *testing.T) {
	const spec = "md {1-15}, foo {1}"
	fifth := time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC).Unix()
	twentieth := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).Unix()
	if got := InPeriod(fifth, spec, time.UTC); got != 1 {
		t.Errorf("InPeriod(5th, %q) = %d; Time::Period says 1", spec, got)
	}
	if got := InPeriod(twentieth, spec, time.UTC); got != -1 {
		t.Errorf("InPeriod(20th, %q) = %d; Time::Period says -1", spec, got)
	}
	if _, err := Parse(spec); err == nil {
		t.Errorf("Parse(%q) accepted a malformed sub-period", spec)
	}
}
