package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// alertRetryConfig fails a service with 1 MiB of output five times a
// second, and its alert fails too: the alert's target is down.
const alertRetryConfig = `hostgroup g 127.0.0.1

watch g
    service loud
        interval 0.2s
        monitor mib.monitor
        period wd {Sun-Sat}
            alert failing.alert
`

// alertRetries checks the daemon's memory while alerts fail and are
// retried (15 s, 1 min, 4 min later): what waits for a retry must stay
// bounded, whatever the rate of failures and the size of their output.
func (s *suite) alertRetries(t *testing.T) {
	r := s.newRig(t)
	r.script(t, "mon.d/mib.monitor", "cat DIR/mib.out\nexit 1")
	r.write(t, "mib.out", strings.Repeat(strings.Repeat("y", 1023)+"\n", 1024))
	d := r.start(t, "alertretry", r.config(t, alertRetryConfig), []string{"GODEBUG=schedtrace=1000,scheddetail=1"})

	time.Sleep(2 * time.Second)
	from := time.Now()
	u0, err := readUsage(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second)
	u1, err := readUsage(d.pid())
	if err != nil {
		t.Fatalf("the daemon is gone: %v\n%s", err, tail(d.log(), 2000))
	}
	m, err := d.metrics()
	if err != nil {
		t.Fatal(err)
	}
	_, g0, g1, _ := goroutineGrowth(d.log(), d.started, from.Add(-time.Second), time.Now())
	growth := float64(u1.rssKiB-u0.rssKiB) / 1024
	s.rep.add(t, "alert retries: RSS growth while a 1 MiB-output service's alert fails",
		fmt.Sprintf("%+.1f MiB in 10 s (%d → %d KiB; goroutines %.0f → %.0f; %.0f failed attempts)",
			growth, u0.rssKiB, u1.rssKiB, g0, g1, sum(m, "gomon_alert_failures_total")),
		"≤ 20 MiB", growth <= 20)
}
