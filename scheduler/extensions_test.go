package scheduler

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/scheduler/decide"
)

// TestPerHostAlertNamesTheHost: an alert_per_host alert gets -h HOST and
// MON_HOST, and the status keeps the host's verdict.
func TestPerHostAlertNamesTheHost(t *testing.T) {
	rec := recorder()
	r := newRig(t, `
hostgroup g h1 h2 h3

watch g
    service s
        interval 10s
        monitor fail.monitor
        period wd {Sun-Sat}
            alert rec.alert
            alert_per_host yes
`, map[string]any{"fail.monitor": answer(1, "h2 h3\nh2: refused\nh3: timeout\n"), "rec.alert": rec})
	r.advance(10 * time.Second)
	// Each alert runs in its own goroutine: they arrive in either order.
	evs := []alerts.Event{r.sent(rec), r.sent(rec)}
	slices.SortFunc(evs, func(a, b alerts.Event) int {
		return strings.Compare(strings.Join(a.Hosts, " "), strings.Join(b.Hosts, " "))
	})
	for i, h := range []string{"h2", "h3"} {
		ev := evs[i]
		if len(ev.Hosts) != 1 || ev.Hosts[0] != h {
			t.Errorf("alert hosts %q, want %s", ev.Hosts, h)
		}
		if v, _ := envOf(ev.Env, "MON_HOST"); v != h {
			t.Errorf("MON_HOST=%q, want %s", v, h)
		}
		if sum, _ := ev.SplitInput(); sum != h {
			t.Errorf("summary %q, want %s", sum, h)
		}
	}
	st := r.status("g", "s").State
	if got := st.FailingHosts([]string{"h1", "h2", "h3"}); len(got) != 2 || st.Hosts["h2"].LastOutput != "h2: refused" {
		t.Errorf("failing hosts %q, h2 %+v", got, st.Hosts["h2"])
	}
}

// TestWindowOpeningSendsTheCatchUp: a service failing since before its
// period opened gets its alert at the opening, not at its next run.
func TestWindowOpeningSendsTheCatchUp(t *testing.T) {
	rec := recorder()
	// epoch is 12:00; runs every 7 minutes (12:07 … 12:56, 13:03).
	r := newRig(t, `
hostgroup g h1

watch g
    service s
        interval 7m
        monitor fail.monitor
        period hr {13}
            alert rec.alert
            alert_on_period_start yes
`, map[string]any{"fail.monitor": answer(1, "h1 down\n"), "rec.alert": rec})
	r.advance(7 * time.Minute)
	r.wait("monitor-done")
	r.advance(53*time.Minute - time.Second)
	r.none("alert")
	r.advance(time.Second)
	ev := r.sent(rec)
	if want := epoch.Add(time.Hour); !ev.Time.Equal(want) || ev.Type != decide.FailureAlert {
		t.Errorf("alert %s at %v, want failure at %v", ev.Type, ev.Time, want)
	}
	if sum, _ := ev.SplitInput(); sum != "h1 down" {
		t.Errorf("summary %q", sum)
	}
	// The next run, in the period, alerts as mon does (no alertevery).
	r.advance(3 * time.Minute)
	r.sent(rec)
}
