package period

import (
	"testing"
	"time"
)

func TestNextChange(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 2026-05-04 is a Monday.
	for _, tc := range []struct {
		spec, from, want string
	}{
		{"wd {Mon-Fri} hr {9am-5pm}", "2026-05-04 08:15:00", "2026-05-04 09:00:00"},
		{"wd {Mon-Fri} hr {9am-5pm}", "2026-05-04 12:00:00", "2026-05-04 18:00:00"}, // the hour of 5pm is in
		{"wd {Mon-Fri} hr {9am-5pm}", "2026-05-08 18:30:00", "2026-05-11 09:00:00"},
		{"wd {Sat Sun}", "2026-05-04 12:00:00", "2026-05-09 00:00:00"},
		{"hr {13} min {30-44}", "2026-05-04 13:10:10", "2026-05-04 13:30:00"},
		{"sec {50-10}", "2026-05-04 13:10:10.5", "2026-05-04 13:10:11"},
		{"sec {50-10}", "2026-05-04 13:10:20", "2026-05-04 13:10:50"},
		{"cron {*/15 * * * *}", "2026-05-04 13:10:10", "2026-05-04 13:15:00"},
		{"cron {*/15 * * * *}", "2026-05-04 13:15:10", "2026-05-04 13:16:00"},
		{"", "2026-05-04 13:10:10", ""},
		{"none", "2026-05-04 13:10:10", ""},
	} {
		s, err := Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		got := s.NextChange(at(tc.from))
		if tc.want == "" {
			if !got.IsZero() {
				t.Errorf("%q from %s: %v, want never", tc.spec, tc.from, got)
			}
			continue
		}
		if !got.Equal(at(tc.want)) {
			t.Errorf("%q from %s: %v, want %s", tc.spec, tc.from, got, tc.want)
		}
	}
}

// TestNextChangeGivesUp: a spec that does not change within the scan
// returns where the scan ended, for the caller to look again.
func TestNextChangeGivesUp(t *testing.T) {
	s, err := Parse("yr {2030} sec {0}")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	if got, want := s.NextChange(from), from.Add((maxScan+1)*time.Second); !got.Equal(want) {
		t.Errorf("NextChange = %v, want %v", got, want)
	}
}
