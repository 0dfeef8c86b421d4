package period

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronWindow is a period written as `cron {MIN HOUR DOM MON DOW}`: a time
// is inside when the minute containing it matches the expression.
type cronWindow struct {
	sched *cron.SpecSchedule
	loc   *time.Location // set only by an explicit TZ=/CRON_TZ= prefix
}

var windowParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// isCronWindow reports whether text is meant as a cron window: its first
// word is `cron` (any case), followed by blanks or `{`. Time::Period
// rejects all such texts, so no valid mon period is taken for one.
func isCronWindow(text string) bool {
	text = trimSpace(text)
	if len(text) < 5 || lowerASCII(text[:4]) != "cron" {
		return false
	}
	return isSpace(text[4]) || text[4] == '{'
}

func parseCronWindow(text string) (*cronWindow, error) {
	body := trimLeftSpace(trimSpace(text)[len("cron"):])
	inner, ok := strings.CutPrefix(body, "{")
	if ok {
		inner, ok = strings.CutSuffix(inner, "}")
	}
	if !ok || strings.ContainsAny(inner, "{}") {
		return nil, fmt.Errorf("a cron window is written cron {MIN HOUR DOM MON DOW}")
	}
	inner = trimSpace(inner)
	sched, err := windowParser.Parse(inner)
	if err != nil {
		return nil, fmt.Errorf("cron window: %w", err)
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok { // descriptors such as @every are not enabled in windowParser
		return nil, fmt.Errorf("cron window %q is not a five-field expression", inner)
	}
	w := &cronWindow{sched: spec}
	if strings.HasPrefix(inner, "TZ=") || strings.HasPrefix(inner, "CRON_TZ=") {
		w.loc = spec.Location
	}
	return w, nil
}

// starBit mirrors robfig/cron's marker bit for a field written as `*`
// (SpecSchedule documents fields as bit sets; the top bit records the star).
const starBit = 1 << 63

// in tests the fields directly rather than searching with Next, so the
// cost is constant and daylight-saving jumps cannot skip a minute: each
// wall-clock minute is judged by its own fields.
func (w *cronWindow) in(t time.Time) bool {
	if w.loc != nil {
		t = t.In(w.loc)
	}
	s := w.sched
	if 1<<uint(t.Minute())&s.Minute == 0 || 1<<uint(t.Hour())&s.Hour == 0 ||
		1<<uint(t.Month())&s.Month == 0 {
		return false
	}
	// Day of month and day of week: as in cron, either may match unless
	// one of them is `*`, in which case both must.
	dom := 1<<uint(t.Day())&s.Dom != 0
	dow := 1<<uint(t.Weekday())&s.Dow != 0
	if s.Dom&starBit != 0 || s.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// Schedule is a cron schedule for monitor runs (gomon extension).
type Schedule struct {
	text  string
	sched cron.Schedule
}

var scheduleParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron expression (5 fields, or 6 with seconds,
// and the @every/@hourly descriptors).
func ParseSchedule(text string) (*Schedule, error) {
	expr := trimSpace(text)
	// robfig/cron silently turns shorter @every intervals (even negative
	// ones) into 1s; a typo should not start a monitor every second.
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		if every, err := time.ParseDuration(trimSpace(d)); err == nil && every < time.Second {
			return nil, fmt.Errorf("schedule %q: @every needs at least 1s", text)
		}
	}
	sched, err := scheduleParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", text, err)
	}
	return &Schedule{text: text, sched: sched}, nil
}

// Next returns the first activation time after t, or the zero time if
// the expression never fires (such as 30 February).
func (s *Schedule) Next(t time.Time) time.Time { return s.sched.Next(t) }

// String returns the expression as written.
func (s *Schedule) String() string { return s.text }
