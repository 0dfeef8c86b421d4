package server

import (
	"math"
	"sync"
	"time"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler"
)

// opstatusCache keeps the last rendered reply to a plain `list opstatus`,
// the request status pages and scripts poll. Rendering 100 records costs
// far more than sending them, and between two state changes the reply
// only changes when a service's timer or failure duration ticks over a
// whole second, which the cache computes in advance. So a cached reply is
// exactly what a fresh one would be.
type opstatusCache struct {
	mu          sync.Mutex
	view        string
	version     uint64    // scheduler.StateVersion when rendered
	from, until time.Time // the reply is exact in [from, until)
	r           reply
}

// get returns the cached reply if it is still exact for view at now.
func (c *opstatusCache) get(view string, version uint64, now time.Time) (reply, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.r.wire == nil || c.view != view || c.version != version || now.Before(c.from) || !now.Before(c.until) {
		return reply{}, false
	}
	return c.r, true
}

// put renders r, stores it as the reply to view for snap, and returns it
// ready to send.
func (c *opstatusCache) put(view string, snap scheduler.Snapshot, r reply) reply {
	r.wire = protocol.AppendReply(nil, r.data, r.final)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.view, c.version, c.r = view, snap.Version, r
	c.from, c.until = snap.Now, exactUntil(snap)
	return r
}

// exactUntil is when the first record of snap would render differently
// although no state changed: at the next whole second (failure_duration
// counts seconds of the clock), or when a service's timer (whole seconds
// to its next run, rounded up) drops by one.
func exactUntil(snap scheduler.Snapshot) time.Time {
	until := snap.Now.Truncate(time.Second).Add(time.Second)
	for _, st := range snap.Services {
		if st.Timer <= 0 {
			continue // shown as 0 until the run, which changes the state
		}
		shown := time.Duration(math.Ceil(st.Timer.Seconds())) * time.Second
		if t := snap.Now.Add(st.Timer - shown + time.Second); t.Before(until) {
			until = t
		}
	}
	return until
}
