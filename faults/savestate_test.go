package faults

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// stateServices is how many services the kill -9 check keeps: each
// holds 64 KiB of detail, so a save writes and syncs a couple of MiB and
// takes long enough to be hit in the middle.
const stateServices = 32

func stateConfig() string {
	var b strings.Builder
	b.WriteString("hostgroup st 127.0.0.1\n\nwatch st\n")
	for i := 1; i <= stateServices; i++ {
		fmt.Fprintf(&b, "    service s%02d\n        interval 1s\n        monitor detail.monitor s%02d\n", i, i)
	}
	return b.String()
}

// killDuringSave kills the daemon with SIGKILL while it saves its
// opstatus state, over and over, aiming at the middle of the save. The
// state file must then be the old one or the complete new one, and a
// daemon started with -l opstatus must load it.
func (s *suite) killDuringSave(t *testing.T) {
	r := s.newRig(t)
	// The summary is the run's time stamp; the detail fills the cap.
	r.script(t, "mon.d/detail.monitor", "#!/bin/bash\nprintf '%s %s\\n' \"$1\" \"$EPOCHREALTIME\"\ncat DIR/detail.txt")
	r.write(t, "detail.txt", strings.Repeat(strings.Repeat("d", 99)+"\n", 700))
	cf := r.config(t, stateConfig())
	statePath := r.path("state/opstatus")
	d := r.start(t, "savestate", cf, nil)
	if !waitFor(10*time.Second, func() bool { return allChecked(d) }) {
		t.Fatalf("the services did not all run:\n%s", tail(d.log(), 2000))
	}
	start := time.Now()
	if _, final, err := d.command("savestate opstatus"); err != nil || !strings.HasPrefix(final, "220") {
		t.Fatalf("savestate: %q, %v", final, err)
	}
	saveTime := time.Since(start)
	delay := saveTime / 2

	var torn, notLoaded, stale, before, mid, after int
	var problems []string
	for trial := range s.k.kills {
		if _, final, err := d.command("savestate opstatus"); err != nil || !strings.HasPrefix(final, "220") {
			t.Fatalf("trial %d: savestate: %q, %v", trial, final, err)
		}
		old, err := os.ReadFile(statePath)
		if err != nil {
			t.Fatal(err)
		}
		if why := incomplete(old); why != "" {
			torn++
			problems = append(problems, fmt.Sprintf("trial %d: after a finished save: %s", trial, why))
		}
		time.Sleep(1100 * time.Millisecond) // every service runs again: the next save differs
		c, err := d.dial()
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c.c, "savestate opstatus\n")
		time.Sleep(delay)
		d.kill()
		c.close()

		cur, err := os.ReadFile(statePath)
		temps, _ := filepath.Glob(r.path("state/.opstatus.tmp*"))
		switch why := incomplete(cur); {
		case err != nil || why != "":
			torn++
			problems = append(problems, fmt.Sprintf("trial %d, killed %v into the save: %v%s", trial, delay, err, why))
		case bytes.Equal(cur, old) && len(temps) == 0:
			before++ // not begun, or not yet writing: aim later
			delay = delay * 3 / 2
		case bytes.Equal(cur, old):
			mid++
		default:
			after++ // done already: aim earlier
			delay = delay * 2 / 3
		}

		d = r.start(t, fmt.Sprintf("savestate-%d", trial+1), cf, nil, "-l", "opstatus", "-S")
		ops, err := d.opstatus()
		if err != nil {
			t.Fatal(err)
		}
		for svc, stamp := range stateStamps(cur) {
			if got := stampRE.FindString(ops["st/"+svc]["last_summary"]); got != stamp {
				notLoaded++
				problems = append(problems, fmt.Sprintf("trial %d: %s loaded %q, file has %q", trial, svc, got, stamp))
				break
			}
		}
		if temps, _ := filepath.Glob(r.path("state/.opstatus.tmp*")); len(temps) > 0 {
			stale++
		}
		if _, final, err := d.command("start"); err != nil || !strings.HasPrefix(final, "220") {
			t.Fatalf("start: %q, %v", final, err)
		}
	}
	s.rep.add(t, "kill -9 during savestate: state lost or torn",
		fmt.Sprintf("%d of %d kills (%d before the file was written, %d mid-write, %d after; a save takes %v)%s",
			torn, s.k.kills, before, mid, after, saveTime.Round(time.Millisecond), listed(problems)), "0", torn == 0)
	s.rep.add(t, "kill -9 during savestate: -l opstatus loads the file", fmt.Sprintf("%d of %d restarts wrong", notLoaded, s.k.kills), "0", notLoaded == 0)
	s.rep.add(t, "kill -9 during savestate: temp files left after restart", fmt.Sprint(stale), "0", stale == 0)
}

// allChecked reports whether every service has run.
func allChecked(d *daemon) bool {
	ops, err := d.opstatus()
	if err != nil || len(ops) != stateServices {
		return false
	}
	for _, rec := range ops {
		if rec["last_check"] == "" {
			return false
		}
	}
	return true
}

// stampRE finds the time stamp in a summary however it is escaped.
var stampRE = regexp.MustCompile(`\d{9,}\.\d+`)

// incomplete says why an opstatus file is not a whole one: one line per
// service, each through its last field, the file ending with a line end.
func incomplete(b []byte) string {
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return fmt.Sprintf("%d bytes, not ending in a line end", len(b))
	}
	got := stateStamps(b)
	if len(got) != stateServices {
		return fmt.Sprintf("%d of %d services", len(got), stateServices)
	}
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, "\ttrap_timer=") {
			return fmt.Sprintf("a line without its last field: %.80q", line)
		}
	}
	return ""
}

// stateStamps maps each service of an opstatus file to the time stamp in
// its last summary.
func stateStamps(b []byte) map[string]string {
	out := map[string]string{}
	for line := range strings.Lines(string(b)) {
		var svc, stamp string
		for _, f := range strings.Split(strings.TrimSuffix(line, "\n"), "\t") {
			if v, ok := strings.CutPrefix(f, "service="); ok {
				svc = v
			}
			if v, ok := strings.CutPrefix(f, "last_summary="); ok {
				stamp = stampRE.FindString(v)
			}
		}
		if svc != "" {
			out[svc] = stamp
		}
	}
	return out
}
