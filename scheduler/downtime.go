package scheduler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/protocol"
)

// Timed disables and acks with a reason, and the scheduled downtimes of
// the configuration (gomon, issue 16; docs/downtimes.md). mon's own
// disable and ack keep their behaviour: a downtime is a record beside
// mon's disabled flags that says who set them, why and until when, and
// undoes them when that time comes. Records live in the state file
// "downtimes", beside mon's "disabled", which stays byte-compatible.

// Hold is how long and why a disable or an ack holds.
type Hold struct {
	Until  time.Time // zero: until enabled (an ack: until the service recovers), as in mon
	Reason string
}

func (h Hold) zero() bool { return h.Until.IsZero() && h.Reason == "" }

// Downtime kinds.
const (
	DowntimeService = "service"
	DowntimeWatch   = "watch"
	DowntimeHost    = "host"
	DowntimeAck     = "ack"
)

// Downtime is one disable or ack with who set it, why and until when.
type Downtime struct {
	Kind    string // DowntimeService, DowntimeWatch, DowntimeHost or DowntimeAck
	Group   string // service, watch, ack
	Service string // service, ack
	Host    string // host
	Hold
	Set    time.Time
	Who    string
	Source string // "command" (the protocol or the console) or "config" (a downtime line)
	// AckAt is, for an ack, the ack time it holds: an ack that ended
	// otherwise (recovery, a newer ack) is not undone again.
	AckAt int64
}

func (d *Downtime) target() string {
	switch d.Kind {
	case DowntimeService, DowntimeAck:
		return d.Kind + " " + d.Group + " " + d.Service
	case DowntimeWatch:
		return d.Kind + " " + d.Group
	}
	return d.Kind + " " + d.Host
}

// Line renders a downtime as `list downtimes` shows it and the state file
// keeps it: the target, then escaped key=value fields.
func (d *Downtime) Line() string {
	f := []string{d.target(), "until=" + unixOrZero(d.Until), "set=" + unixOrZero(d.Set),
		"by=" + protocol.EscapeRaw(d.Who), "source=" + d.Source, "reason=" + protocol.EscapeRaw(d.Reason)}
	if d.Kind == DowntimeAck {
		f = append(f, "ack="+strconv.FormatInt(d.AckAt, 10))
	}
	return strings.Join(f, " ")
}

func unixOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// ParseDowntime reads a Line back.
func ParseDowntime(line string) (Downtime, error) {
	f := strings.Fields(line)
	var d Downtime
	if len(f) == 0 {
		return d, errors.New("empty downtime line")
	}
	d.Kind = f[0]
	names := map[string]int{DowntimeService: 2, DowntimeAck: 2, DowntimeWatch: 1, DowntimeHost: 1}[d.Kind]
	if names == 0 || len(f) < 1+names {
		return d, fmt.Errorf("bad downtime line %q", line)
	}
	switch d.Kind {
	case DowntimeHost:
		d.Host = f[1]
	case DowntimeWatch:
		d.Group = f[1]
	default:
		d.Group, d.Service = f[1], f[2]
	}
	unix := func(v string) time.Time {
		n, _ := strconv.ParseInt(v, 10, 64)
		if n == 0 {
			return time.Time{}
		}
		return time.Unix(n, 0)
	}
	for _, kv := range f[1+names:] {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "until":
			d.Until = unix(v)
		case "set":
			d.Set = unix(v)
		case "by":
			d.Who = protocol.Unescape(v)
		case "source":
			d.Source = v
		case "reason":
			d.Reason = protocol.Unescape(v)
		case "ack":
			d.AckAt, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	return d, nil
}

// Downtimes returns every downtime in force, oldest first (for `list
// downtimes` and the console).
func (s *Scheduler) Downtimes() []Downtime {
	s.mu.readLock()
	defer s.mu.Unlock()
	var out []Downtime
	for _, d := range s.downtimes {
		if s.inForce(d) { // an ack ends with a recovery, before its time
			out = append(out, *d)
		}
	}
	return out
}

// hold records (or, for a zero Hold, forgets) the downtime of what a
// command just disabled or acknowledged. A plain mon disable or ack thus
// makes an earlier timed one indefinite, as mon's command means. Called
// with s.mu held.
func (s *Scheduler) hold(d Downtime, who string, h Hold, now time.Time) {
	s.unhold(d.target())
	if h.zero() {
		return
	}
	d.Hold, d.Who, d.Set = h, who, now
	if d.Source == "" {
		d.Source = "command"
	}
	s.downtimes = append(s.downtimes, &d)
	s.log.Info("downtime set", "what", d.target(), "until", unixOrZero(d.Until), "by", who, "reason", h.Reason)
	s.armDowntimes(now)
}

// unhold forgets the downtime of target. An operator ending a
// configured window ends it for good: it does not start again before
// its end. Called with s.mu held.
func (s *Scheduler) unhold(target string) {
	s.downtimes = slices.DeleteFunc(s.downtimes, func(d *Downtime) bool {
		if d.target() != target {
			return false
		}
		if d.Source == "config" {
			if s.windowsEnded == nil {
				s.windowsEnded = map[string]time.Time{}
			}
			s.windowsEnded[d.Group+"/"+d.Service] = d.Until
		}
		return true
	})
}

// downtimesDue ends the downtimes whose time has come, starts those of
// the configuration whose window has begun, drops records whose disable
// or ack is gone (a reset without keepstate) and arms the next change.
// save writes the state files after a change; it is off at construction,
// before the daemon loads the saved state (-l), which it would overwrite.
// Called with s.mu held.
func (s *Scheduler) downtimesDue(now time.Time, save bool) {
	changed := false
	s.downtimes = slices.DeleteFunc(s.downtimes, func(d *Downtime) bool {
		if !s.inForce(d) {
			changed = true
			return true
		}
		if d.Until.IsZero() || d.Until.After(now) {
			return false
		}
		s.log.Info("downtime over", "what", d.target(), "set_by", d.Who, "reason", d.Reason)
		s.undo(d, now)
		changed = true
		return true
	})
	for _, svc := range s.dtServices {
		// (Without ended windows, skip making 100,000 keys under the lock.)
		if svc.st.Disabled || len(s.windowsEnded) > 0 && now.Before(s.windowsEnded[svc.key()]) {
			continue // by an operator, or by a window already; or ended early
		}
		for _, dt := range svc.cfg.Downtimes {
			start := dt.Start.Next(now.Add(-dt.Length))
			if start.IsZero() || start.After(now) {
				continue
			}
			s.disableService(svc, "config", now)
			s.downtimes = append(s.downtimes, &Downtime{Kind: DowntimeService, Group: svc.w.name, Service: svc.cfg.Name,
				Hold: Hold{Until: start.Add(dt.Length), Reason: dt.Reason}, Set: now, Who: "config", Source: "config"})
			s.log.Info("scheduled downtime begins", "group", svc.w.name, "service", svc.cfg.Name, "until", start.Add(dt.Length).Unix(), "reason", dt.Reason)
			changed = true
			break
		}
	}
	if changed && save {
		s.writeDisabled()
	}
	s.armDowntimes(now)
}

// inForce reports whether what d records is still disabled or acked.
func (s *Scheduler) inForce(d *Downtime) bool {
	switch d.Kind {
	case DowntimeWatch:
		return s.disabledWatches[d.Group]
	case DowntimeHost:
		for g, hosts := range s.disabledHosts {
			if hosts[d.Host] && s.groups[g] != nil {
				return true
			}
		}
		return false
	}
	svc := s.watchIdx.service(d.Group, d.Service)
	if svc == nil {
		return false
	}
	if d.Kind == DowntimeAck {
		return svc.st.Ack != 0 && svc.st.Ack == d.AckAt
	}
	return svc.st.Disabled
}

// undo ends what d disabled or acknowledged. Called with s.mu held.
func (s *Scheduler) undo(d *Downtime, now time.Time) {
	switch d.Kind {
	case DowntimeWatch:
		delete(s.disabledWatches, d.Group)
	case DowntimeHost:
		s.enableHosts([]string{d.Host})
	case DowntimeService:
		s.enableService(s.watchIdx.service(d.Group, d.Service))
	case DowntimeAck:
		svc := s.watchIdx.service(d.Group, d.Service)
		svc.st.Ack, svc.st.AckComment = 0, ""
		s.publish(svc, nil, true)
	}
}

// armDowntimes sets the one downtime timer to the next expiry or window
// start. Called with s.mu held.
func (s *Scheduler) armDowntimes(now time.Time) {
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, d := range s.downtimes {
		earliest(d.Until)
	}
	for _, svc := range s.dtServices {
		for _, dt := range svc.cfg.Downtimes {
			earliest(dt.Start.Next(now))
		}
	}
	s.dtGen++
	if !next.IsZero() {
		s.timers.push(timerEntry{when: at(next), kind: tDowntime, gen: s.dtGen})
		s.poke()
	}
}

// downtimesSave is the downtimes state file's part of a save (beside
// mon's disabled, which mon and gomon read alike). Called with s.mu held.
func (s *Scheduler) downtimesSave() *fileSave {
	// Without downtimes there is no file: a state directory of a
	// configuration that does not use them holds mon's files only.
	f := &fileSave{path: s.statePath("downtimes"), remove: len(s.downtimes) == 0, errMsg: "could not write to downtimes state file"}
	var b bytes.Buffer
	for _, d := range s.downtimes {
		b.WriteString(d.Line() + "\n")
	}
	f.data = b.Bytes()
	return f
}

// loadDowntimes reads the downtimes state file; a missing one is no
// downtime. Records for what the configuration no longer has are dropped
// by the next downtimesDue.
func (s *Scheduler) loadDowntimes() error {
	data, err := os.ReadFile(s.statePath("downtimes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		d, err := ParseDowntime(sc.Text())
		if err != nil {
			s.log.Error("downtimes state file: " + err.Error())
			continue
		}
		// The record restores the disable too: mon's disabled file may
		// have been loaded without it, or not at all.
		switch d.Kind {
		case DowntimeWatch:
			if s.watchByName(d.Group) != nil {
				s.disabledWatches[d.Group] = true
			}
		case DowntimeHost:
			s.disableHosts([]string{d.Host})
		case DowntimeService:
			if svc := s.watchIdx.service(d.Group, d.Service); svc != nil {
				svc.st.Disabled = true
			}
		}
		s.unhold(d.target()) // the file's record wins over one made since the start
		s.downtimes = append(s.downtimes, &d)
	}
	return sc.Err()
}
