package web

import (
	"fmt"
	"time"

	"github.com/gomon/gomon/scheduler"
)

// The 24-hour state timeline of a service, drawn on the server as SVG:
// one band per state, in the state's colour, over hour ticks.

const (
	timelineWidth  = 1000.0
	timelineWindow = 24 * time.Hour
)

type timelineView struct {
	Segments []segment
	Ticks    []tick
	Width    float64
}

type segment struct {
	X, W  float64
	Kind  string
	Title string // shown on hover
}

type tick struct {
	X     float64
	Label string
}

// timelineOf draws h (oldest first) over the day before now; the time
// before its first entry is left empty (no data: the daemon was not
// running, or the configuration was reloaded).
func timelineOf(h []scheduler.StateChange, now time.Time) timelineView {
	start := now.Add(-timelineWindow)
	x := func(t time.Time) float64 {
		return timelineWidth * float64(t.Sub(start)) / float64(timelineWindow)
	}
	tv := timelineView{Width: timelineWidth}
	for i, c := range h {
		from, to := c.Time, now
		if i+1 < len(h) {
			to = h[i+1].Time
		}
		if !to.After(start) || !to.After(from) && i+1 < len(h) {
			continue
		}
		if from.Before(start) {
			from = start
		}
		k := kindOf(c.Status, c.Acked, c.Disabled)
		tv.Segments = append(tv.Segments, segment{X: x(from), W: max(x(to)-x(from), 2), Kind: k,
			Title: fmt.Sprintf("%s (%s) from %s for %s", kindLabel(k), c.Status, c.Time.Local().Format("Jan 2 15:04:05"), humanDuration(to.Sub(c.Time)))})
	}
	for t := start.Truncate(3 * time.Hour).Add(3 * time.Hour); t.Before(now); t = t.Add(3 * time.Hour) {
		if p := x(t); p > 20 && p < timelineWidth-20 { // a label at an edge would be cut
			tv.Ticks = append(tv.Ticks, tick{X: p, Label: t.Local().Format("15:04")})
		}
	}
	return tv
}
