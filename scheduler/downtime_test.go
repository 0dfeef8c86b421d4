package scheduler

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const downtimeCf = `
hostgroup g h1 h2
hostgroup solo s1

watch g
    service s
        interval 10m
        monitor fail.monitor
        period
            alert rec.alert
watch solo
    service p
        interval 10m
        monitor fail.monitor
`

// TestTimedDisables: each kind of timed disable or ack holds until its
// time, shows who set it and why, and then ends by itself.
func TestTimedDisables(t *testing.T) {
	for _, tc := range []struct {
		name     string
		set      func(r *rig, h Hold) error
		disabled func(r *rig) bool
		line     string
	}{
		{"service", func(r *rig, h Hold) error { return r.s.DisableServiceFor("g", "s", "alice", h) },
			func(r *rig) bool { return r.status("g", "s").State.Disabled },
			"service g s until=1795439400 set=1795435800 by=alice source=command reason=kernel\\20upgrade"},
		{"watch", func(r *rig, h Hold) error { return r.s.DisableWatchFor("g", "alice", h) },
			func(r *rig) bool { return len(r.s.DisabledList().Watches) == 1 },
			"watch g until=1795439400 set=1795435800 by=alice source=command reason=kernel\\20upgrade"},
		{"host", func(r *rig, h Hold) error {
			if m := r.s.DisableHostsFor([]string{"h2"}, "alice", h); m != nil {
				t.Fatal(m)
			}
			return nil
		}, func(r *rig) bool { return len(r.s.DisabledList().Hosts) == 1 },
			"host h2 until=1795439400 set=1795435800 by=alice source=command reason=kernel\\20upgrade"},
		{"ack", func(r *rig, h Hold) error { return r.s.AckFor("g", "s", "alice", h.Reason, h.Until) },
			func(r *rig) bool { return r.status("g", "s").State.Ack != 0 },
			"ack g s until=1795439400 set=1795435800 by=alice source=command reason=kernel\\20upgrade ack=1795435800"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, downtimeCf, map[string]any{"fail.monitor": answer(1, "down\n"), "rec.alert": recorder()})
			r.advance(10 * time.Minute) // g/s fails: it can be acked
			r.wait("monitor-done")
			now := r.clk.Now()
			if err := tc.set(r, Hold{Until: now.Add(time.Hour), Reason: "kernel upgrade"}); err != nil {
				t.Fatal(err)
			}
			dts := r.s.Downtimes()
			if len(dts) != 1 || dts[0].Line() != tc.line {
				t.Fatalf("downtimes %+v\nwant %s", dts, tc.line)
			}
			if b, _ := os.ReadFile(filepath.Join(r.dir, "state", "downtimes")); string(b) != tc.line+"\n" {
				t.Errorf("downtimes state file %q", b)
			}
			r.advance(59 * time.Minute)
			if !tc.disabled(r) {
				t.Fatal("ended before its time")
			}
			r.advance(time.Minute)
			if tc.disabled(r) {
				t.Fatal("still in force after its time")
			}
			if dts := r.s.Downtimes(); len(dts) != 0 {
				t.Errorf("downtimes after the end: %+v", dts)
			}
			if b, _ := os.ReadFile(filepath.Join(r.dir, "state", "disabled")); len(b) != 0 {
				t.Errorf("disabled state file after the end %q", b)
			}
			if _, err := os.Stat(filepath.Join(r.dir, "state", "downtimes")); err == nil {
				t.Error("a downtimes state file without downtimes")
			}
		})
	}
}

// TestMonCommandsKeepTheirMeaning: a plain disable makes a timed one
// indefinite; enable ends it; mon's disabled file keeps mon's lines only.
func TestMonCommandsKeepTheirMeaning(t *testing.T) {
	r := newRig(t, downtimeCf, map[string]any{"fail.monitor": answer(1, "down\n"), "rec.alert": recorder()})
	now := r.clk.Now()
	r.s.DisableServiceFor("g", "s", "alice", Hold{Until: now.Add(time.Hour), Reason: "x"})
	r.s.DisableService("g", "s", "bob")
	if dts := r.s.Downtimes(); len(dts) != 0 {
		t.Errorf("a plain disable kept the timed record: %+v", dts)
	}
	r.advance(2 * time.Hour)
	if !r.status("g", "s").State.Disabled {
		t.Error("the plain disable expired")
	}
	if b, _ := os.ReadFile(filepath.Join(r.dir, "state", "disabled")); string(b) != "disable service g s\n" {
		t.Errorf("disabled state file %q", b)
	}
	r.s.DisableWatchFor("solo", "alice", Hold{Until: r.clk.Now().Add(time.Hour)})
	r.s.EnableWatch("solo")
	if dts := r.s.Downtimes(); len(dts) != 0 {
		t.Errorf("enable kept the record: %+v", dts)
	}
	// A reason without a time: shown, never expires.
	r.s.DisableHostsFor([]string{"s1"}, "carol", Hold{Reason: "rack move"})
	r.advance(48 * time.Hour)
	if dts := r.s.Downtimes(); len(dts) != 1 || dts[0].Who != "carol" || dts[0].Reason != "rack move" || !dts[0].Until.IsZero() {
		t.Errorf("downtimes %+v", dts)
	}
}

// TestDowntimesSurviveRestart: the records come back with the disabled
// state, with their absolute end, and end on time.
func TestDowntimesSurviveRestart(t *testing.T) {
	r := newRig(t, downtimeCf, map[string]any{"fail.monitor": answer(1, "down\n"), "rec.alert": recorder()})
	end := r.clk.Now().Add(time.Hour)
	r.s.DisableServiceFor("g", "s", "alice", Hold{Until: end, Reason: "kernel upgrade"})
	r.s.DisableHostsFor([]string{"h1"}, "alice", Hold{Until: end.Add(time.Hour)})
	// A restart: a fresh configuration load, then -l disabled.
	r.s.mu.Lock()
	r.s.load(r.s.cfg, r.clk.Now())
	r.s.downtimes = nil
	r.s.disabledHosts = map[string]map[string]bool{}
	r.s.mu.Unlock()
	if r.status("g", "s").State.Disabled {
		t.Fatal("the fresh load kept the disable")
	}
	if err := r.s.LoadState("disabled"); err != nil {
		t.Fatal(err)
	}
	dts := r.s.Downtimes()
	if len(dts) != 2 || !dts[0].Until.Equal(end) || dts[0].Reason != "kernel upgrade" || dts[0].Who != "alice" {
		t.Fatalf("restored %+v", dts)
	}
	if !r.status("g", "s").State.Disabled {
		t.Fatal("the disable was not restored")
	}
	r.advance(time.Hour)
	if r.status("g", "s").State.Disabled || len(r.s.Downtimes()) != 1 {
		t.Errorf("after the end: disabled %v, downtimes %+v", r.status("g", "s").State.Disabled, r.s.Downtimes())
	}
	r.advance(time.Hour)
	if d := r.s.DisabledList(); len(d.Hosts) != 0 {
		t.Errorf("host still disabled: %+v", d)
	}
}

// TestScheduledDowntime: a downtime line disables its service for each
// window, from the configuration, and one already open at start counts.
func TestScheduledDowntime(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 10m
        monitor fail.monitor
        downtime cron {CRON_TZ=UTC 0 13 * * *} 30m reason "daily patching"
        downtime cron {CRON_TZ=UTC 30 11 * * *} 1h
        period
            alert rec.alert
`, map[string]any{"fail.monitor": answer(1, "down\n"), "rec.alert": rec})
	// Started at 12:00 inside the 11:30 window: disabled until 12:30.
	if dts := r.s.Downtimes(); len(dts) != 1 || dts[0].Source != "config" || dts[0].Until != epoch.Add(30*time.Minute) {
		t.Fatalf("downtimes at start %+v", dts)
	}
	r.advance(10 * time.Minute)
	r.wait("monitor-done")
	r.none("alert")
	r.advance(20 * time.Minute) // 12:30
	if r.status("g", "s").State.Disabled {
		t.Fatal("still disabled after the window")
	}
	r.advance(30 * time.Minute) // 13:00
	st := r.status("g", "s").State
	dts := r.s.Downtimes()
	if !st.Disabled || len(dts) != 1 || dts[0].Reason != "daily patching" || dts[0].Who != "config" {
		t.Fatalf("at 13:00: disabled %v, downtimes %+v", st.Disabled, dts)
	}
	// An operator's enable ends the window for good.
	r.advance(10 * time.Minute)
	if err := r.s.EnableService("g", "s"); err != nil {
		t.Fatal(err)
	}
	r.advance(10 * time.Minute)
	r.s.LoadState("disabled") // re-reads state, and re-evaluates the windows
	if r.status("g", "s").State.Disabled {
		t.Fatal("the window started again after enable")
	}
	r.advance(10 * time.Minute) // 13:30
	if r.status("g", "s").State.Disabled || len(r.s.Downtimes()) != 0 {
		t.Fatal("still disabled after the 13:00 window")
	}
}
