package scheduler

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// A reset keeping the state carries it over directly; what it carries must
// be exactly what mon's way, the opstatus text written and read back,
// gives: random states, awkward strings, unset and blank fields. The
// file itself, written without maps, must be what the general record
// formatter writes.
func TestCarriedStateIsTheStateFileRoundTrip(t *testing.T) {
	r := newRig(t, `
hostgroup g h1
hostgroup g2 h2

watch g
    service s
        interval 10s
        monitor ok.monitor
        period a: wd {Mon-Fri}
            alert rec.alert
        period b: wd {Sat-Sun}
            alert rec.alert
            alertafter 2 10m
    service t
        interval 10s
        monitor ok.monitor

watch g2
    service s
        interval 10s
        monitor ok.monitor
        period wd {Sun-Sat}
            alert rec.alert
        period x: wd {Sun-Sat}
            alert rec.alert
`, map[string]any{"ok.monitor": okMonitor(), "rec.alert": recorder()})
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	rng := rand.New(rand.NewPCG(17, 1))
	strs := []string{"", "ok", "two words", "line\nbreak\ttab", `back\0aslash \x`, "=eq=", "ünï", "\\"}
	str := func() string { return strs[rng.IntN(len(strs))] }
	num := func() int64 { return rng.Int64N(3) * rng.Int64N(2_000_000_000) }
	for iter := range 300 {
		old := s.services
		for _, svc := range old {
			st := svc.st
			st.OpStatus, st.LastOpStatus = decide.Status(rng.IntN(8)), decide.Status(rng.IntN(8))
			st.ExitVal, st.HasExitVal = rng.IntN(256), rng.IntN(2) == 0
			st.FailureCount, st.AlertCount, st.ConsecFailures = rng.IntN(5), rng.IntN(5), rng.IntN(5)
			st.LastSuccess, st.LastFailure, st.Ack = num(), num(), num()
			st.SetLastTrap(num())
			st.FirstFailure, st.HasFirstFailure, st.FirstFailureBlank = num(), rng.IntN(2) == 0, rng.IntN(3) == 0
			st.FirstSuccess, st.HasFirstSuccess = str(), rng.IntN(2) == 0
			st.LastSummary, st.HasLastEvent = str(), rng.IntN(2) == 0
			st.LastDetail, st.AckComment = str(), str()
			st.SetFailureOutput(str())
			svc.lastCheck = time.Time{}
			if rng.IntN(2) == 0 {
				svc.lastCheck = time.Unix(num(), rng.Int64N(1e9))
			}
			for i := range st.Periods {
				p := &st.Periods[i]
				p.AlertSent, p.LastAlert, p.FirstFailTime, p.FailCount = rng.IntN(4), num(), num(), rng.IntN(4)
				p.Defined = decide.PeriodVars(rng.IntN(8))
			}
		}
		now := r.clk.Now()
		text := encodeOpstatus(old)
		var ref strings.Builder // the file as the general formatter writes it
		for _, svc := range old {
			ref.WriteString(protocol.FormatStateRecord(stateRecord(svc)) + "\n")
		}
		if string(text) != ref.String() {
			t.Fatalf("iteration %d: state file\n%s\nwant\n%s", iter, text, ref.String())
		}
		s.load(s.cfg, now)
		s.decodeOpstatus(text)
		want := carriedView(s.services)
		oldIdx := s.watchIdx
		s.load(s.cfg, now)
		for _, svc := range s.services {
			carryOpstatus(svc, oldIdx.service(svc.w.name, svc.cfg.Name))
		}
		if got := carriedView(s.services); !reflect.DeepEqual(got, want) {
			t.Fatalf("iteration %d: carried\n%+v\nthe state file gives\n%+v", iter, got, want)
		}
	}
}

type carried struct {
	st        decide.State
	lastCheck time.Time
}

func carriedView(svcs []*service) []carried {
	var out []carried
	for _, svc := range svcs {
		out = append(out, carried{*svc.st, svc.lastCheck})
	}
	return out
}

// A reload keeps the schedule of the services it leaves unchanged: their
// next run stays where it was planned; a changed one starts over.
func TestResetKeepsUnchangedSchedules(t *testing.T) {
	cfg := func(iv string) string {
		return `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
    service t
        interval ` + iv + `
        monitor ok.monitor
`
	}
	r := newRig(t, cfg("10s"), map[string]any{"ok.monitor": okMonitor()})
	// Both run at 10.001s (t's phase is 1ms; the fake clock jumps there).
	r.advance(10*time.Second + time.Millisecond)
	r.wait("monitor-done")
	r.wait("monitor-done")
	r.advance(4 * time.Second)
	next := newRig(t, cfg("20s"), map[string]any{"ok.monitor": okMonitor()}).s.Config()
	r.s.opts.Reload = func() (*config.Config, error) { return next, nil }
	if err := r.s.Reset(ResetOptions{KeepState: true}); err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[string]time.Duration{"s": 6 * time.Second, "t": 20 * time.Second} {
		if st := r.status("g", svc); st.Timer != want {
			t.Errorf("%s: next run in %v, want %v", svc, st.Timer, want)
		}
	}
}

// A reset keeping the state writes the state files of the services it
// replaces, as mon does, although it writes them after releasing the
// lock: a removed service is in them, its successor's state is not.
func TestResetSavesTheReplacedServices(t *testing.T) {
	cfg := func(svcs ...string) string {
		c := "hostgroup g h1\n\nwatch g\n"
		for _, s := range svcs {
			c += "    service " + s + "\n        interval 10s\n        monitor ok.monitor\n"
		}
		return c
	}
	r := newRig(t, cfg("s", "gone"), map[string]any{"ok.monitor": okMonitor()})
	s := r.s
	s.mu.Lock()
	s.watchIdx.service("g", "s").st.LastSummary = "before the reset"
	s.watchIdx.service("g", "gone").st.Disabled = true
	s.watchIdx.service("g", "gone").st.LastSummary = "removed"
	want := string(encodeOpstatus(s.services))
	s.mu.Unlock()
	next := newRig(t, cfg("s", "new"), map[string]any{"ok.monitor": okMonitor()}).s.Config()
	s.opts.Reload = func() (*config.Config, error) { return next, nil }
	if err := s.Reset(ResetOptions{KeepState: true}); err != nil {
		t.Fatal(err)
	}
	if got := r.read("state/opstatus"); got != want {
		t.Errorf("opstatus file\n%s\nwant the replaced services'\n%s", got, want)
	}
	if got := r.read("state/disabled"); !strings.Contains(got, "disable service g gone") {
		t.Errorf("disabled file %q does not name the replaced disabled service", got)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := s.watchIdx.service("g", "s").st.LastSummary; got != "before the reset" {
		t.Errorf("carried summary %q", got)
	}
	if s.watchIdx.service("g", "new").st.Disabled || s.watchIdx.service("g", "s").st.Disabled {
		t.Error("a disable went to another service")
	}
}

// State files are written after the lock is released, so saves can reach
// a file out of order; the older state must never replace the newer.
func TestStateSavesKeepTheirOrder(t *testing.T) {
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor ok.monitor
`, map[string]any{"ok.monitor": okMonitor()})
	s := r.s
	snap := func(summary string, disabled bool) *stateSave {
		s.mu.Lock()
		defer s.mu.Unlock()
		svc := s.watchIdx.service("g", "s")
		svc.st.LastSummary, svc.st.Disabled = summary, disabled
		return s.snapshotState([]string{"all"})
	}
	older, newer := snap("older", true), snap("newer", false)
	if err := s.writeState(newer); err != nil {
		t.Fatal(err)
	}
	if err := s.writeState(older); err != nil {
		t.Fatal(err)
	}
	if got := r.read("state/opstatus"); !strings.Contains(got, "last_summary=newer") {
		t.Errorf("opstatus file %q: an older save replaced the newer", got)
	}
	if got := r.read("state/disabled"); strings.Contains(got, "disable service") {
		t.Errorf("disabled file %q: an older save replaced the newer", got)
	}
	// A save taken after both is written.
	if err := s.writeState(snap("newest", false)); err != nil {
		t.Fatal(err)
	}
	if got := r.read("state/opstatus"); !strings.Contains(got, "last_summary=newest") {
		t.Errorf("opstatus file %q: the newest save was not written", got)
	}
}
