// Package period evaluates mon's time periods (the Time::Period
// language used by `period` and `exclude_period`) and gomon's cron
// extensions: cron windows as periods and cron schedules for checks.
package period

import "time"

// Spec is a parsed, fully validated period: a Time::Period spec, or a
// cron window written as `cron {MIN HOUR DOM MON DOW}`.
type Spec struct {
	text string
	// implementation fields
}

// Parse validates text completely, independent of the current time
// (mon's own check depends on when the config is loaded, Q-PER-1).
func Parse(text string) (Spec, error) { panic("TODO") }

// String returns the spec as written.
func (s Spec) String() string { return s.text }

// In reports whether t (in t's location) lies inside the period.
func (s Spec) In(t time.Time) bool { panic("TODO") }

// InPeriod is Time::Period's inPeriod, byte for byte: 1 inside, 0 outside,
// -1 malformed. t is seconds since the epoch (as text digits are required
// by the original, an int64 here), evaluated in loc.
func InPeriod(t int64, spec string, loc *time.Location) int { panic("TODO") }

// Schedule is a cron schedule for monitor runs (gomon extension).
type Schedule struct {
	text string
}

// ParseSchedule parses a cron expression (5 fields, or 6 with seconds,
// and the @every/@hourly descriptors).
func ParseSchedule(text string) (*Schedule, error) { panic("TODO") }

// Next returns the first activation time after t.
func (s *Schedule) Next(t time.Time) time.Time { panic("TODO") }

// String returns the expression as written.
func (s *Schedule) String() string { return s.text }
