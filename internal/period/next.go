package period

import "time"

// maxScan bounds NextChange's search: 2^17 steps of the spec's finest
// unit (36 h for a spec with `sec`, three months with `min`, years
// otherwise).
const maxScan = 1 << 17

// NextChange returns the first time after t at which s.In may answer
// differently from s.In(t): the exact moment the period opens or
// closes, found by stepping through the boundaries of the finest unit
// the spec names. When no change comes within maxScan steps it returns
// the last time examined, for the caller to look again from there. The
// empty period and `none` never change: the zero time.
func (s Spec) NextChange(t time.Time) time.Time {
	if s.kind == kindAlways || s.kind == kindNever {
		return time.Time{}
	}
	step := s.unit()
	in := s.In(t)
	u := step(t)
	for range maxScan {
		if s.In(u) != in {
			return u
		}
		u = step(u)
	}
	return u
}

// unit returns the function from a time to the next boundary of the
// finest unit the spec's answer depends on.
func (s Spec) unit() func(time.Time) time.Time {
	finest := scMonthDay // years, months, weeks and days change at midnight
	if s.kind == kindCron {
		finest = scMinute
	}
	for _, sp := range s.subs {
		for sc := scHour; sc <= scSecond; sc++ {
			if sp.used[sc] && sc > finest {
				finest = sc
			}
		}
	}
	switch finest {
	case scSecond:
		return func(t time.Time) time.Time { return t.Truncate(time.Second).Add(time.Second) }
	case scMinute:
		return func(t time.Time) time.Time { return t.Truncate(time.Minute).Add(time.Minute) }
	case scHour:
		// Through the calendar: a zone's hours need not start on the hour
		// of UTC.
		return func(t time.Time) time.Time {
			y, m, d := t.Date()
			return time.Date(y, m, d, t.Hour()+1, 0, 0, 0, t.Location())
		}
	}
	return func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
	}
}
