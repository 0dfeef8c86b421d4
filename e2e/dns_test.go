package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/dnsupdate"
	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testdns"
	"github.com/gomon/gomon/internal/testnet"
	"github.com/gomon/gomon/scheduler/decide"
)

// DNS round-robin failover end to end (issue 18): the real gomon binary
// watches two real HTTP servers, 127.0.0.2 and 127.0.0.3 (a watch each),
// and keeps www.example.test's A records on a real BIND named in step
// with them through dnsupdate.alert; mail.alert mails every transition
// to an SMTP sink.
//
// Steps: one server stops: within interval + 1 s its record is gone, the
// other stays, one mail. It comes back: its record is back, one mail (up
// to three cycles run if scheduling noise breaks the bound; the times
// are logged). Both down: the last record stays and a warning is logged.
// gomon restarts (state kept) while one is down, with its record put back
// behind gomon's back: the reconciler takes it out at once, and no mail
// is repeated; its recovery is announced once. A wrong TSIG key: the
// alert fails naming BADSIG, the failure is counted on /metrics, the
// zone is unchanged.
func TestDNSRoundRobinEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gomon for about 30 s")
	}
	const interval = time.Second
	zone := testdns.Start(t, "example.test", "www IN A 127.0.0.2", "www IN A 127.0.0.3")
	dir := t.TempDir()
	gomon := goBuild(t, dir, "mon", "../cmd/mon")

	runs := &monitorRuns{}
	a, b := startBackends(t, runs)
	sink := startSMTPSink(t, runs, a, b)
	port, trapPort, statusPort := testnet.Port(t), testnet.Port(t), testnet.Port(t)
	for _, d := range []string{"state", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cf := filepath.Join(dir, "mon.cf")
	writeConfig := func(key string) {
		cfg := fmt.Sprintf("statedir = %[1]s/state\nlogdir = %[1]s/log\nmondir = %[1]s\nalertdir = %[1]s\n"+
			"status_listen = 127.0.0.1:%[2]d\n\nhostgroup web2 127.0.0.2\nhostgroup web3 127.0.0.3\n", dir, statusPort)
		for _, host := range []string{"127.0.0.2", "127.0.0.3"} {
			dns := fmt.Sprintf("dnsupdate.alert -Z example.test -N www -A %s -S %s %s", host, zone.Addr, key)
			mail := fmt.Sprintf("mail.alert --smtp %s ops@example.com", sink.addr)
			cfg += fmt.Sprintf(`
watch web%s
    service http
        interval 1s
        monitor http.monitor -p %d -t 2
        period dns: wd {Sun-Sat}
            alert %s
            upalert %s
        period mail: wd {Sun-Sat}
            alertevery 1h
            alert %s
            upalert %s
`, host[len(host)-1:], a.addr.Port(), dns, dns, mail, mail)
		}
		writeFile(t, cf, cfg)
	}
	writeConfig("-K " + zone.KeyFile)
	args := []string{gomon, "-c", cf, "-p", strconv.Itoa(port), "-t", strconv.Itoa(trapPort)}
	ip2, ip3 := a.addr.Addr(), b.addr.Addr()

	// waitZone waits until www holds exactly want, looking again whenever
	// gomon logs (an alert logs when it is done) and returns how long it
	// took.
	waitZone := func(timeout time.Duration, want ...netip.Addr) time.Duration {
		t.Helper()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var got []netip.Addr
		if err := await.Change(ctx, []string{dir}, func() bool {
			got, _ = zone.Lookup("www")
			return slices.Equal(got, want)
		}); err != nil {
			t.Fatalf("waiting for www = %v: %v; it is %v", want, err, got)
		}
		return time.Since(start)
	}
	waitLog := func(n int, text string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := await.File(ctx, filepath.Join(dir, fmt.Sprintf("gomon-%d.log", n)), func(b []byte) bool {
			return strings.Contains(string(b), text)
		}); err != nil {
			t.Fatalf("waiting for %q in gomon's log: %v", text, err)
		}
	}
	// waitMails waits for n mails; sink.expect then checks them all.
	waitMails := func(n int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		sink.got.Until(ctx, func() bool { sink.mu.Lock(); defer sink.mu.Unlock(); return len(sink.subjects) >= n })
	}

	g := startGomon(t, dir, 1, args...)
	sink.expect(t, 0) // three runs: both up, no mail, nothing changed
	waitZone(time.Second, ip2, ip3)

	// .2 stops and comes back, up to three cycles until one meets the
	// issue's bound on both transitions.
	bound := interval + time.Second
	var (
		mails       []string
		gone, again []time.Duration
	)
	for len(gone) < 3 && (len(gone) == 0 || gone[len(gone)-1] > bound || again[len(again)-1] > bound) {
		a.stop()
		gone = append(gone, waitZone(10*time.Second, ip3))
		mails = append(mails, "ALERT web2/http: 127.0.0.2")
		sink.expect(t, 3*time.Second, mails...)
		a.start(t)
		again = append(again, waitZone(10*time.Second, ip2, ip3))
		mails = append(mails, "UPALERT web2/http: 127.0.0.2")
		sink.expect(t, 3*time.Second, mails...)
	}
	t.Logf("stop -> record gone: %v; start -> record back: %v (want within %v)", gone, again, bound)
	if last := len(gone) - 1; gone[last] > bound || again[last] > bound {
		t.Errorf("record gone after %v, back after %v; want both within %v", gone, again, bound)
	}

	// Both down: the last record stays, with a warning.
	a.stop()
	waitZone(10*time.Second, ip3)
	b.stop()
	waitLog(1, "keeping the last address")
	mails = append(mails, "ALERT web2/http: 127.0.0.2", "ALERT web3/http: 127.0.0.3")
	waitMails(len(mails))
	if got := zone.Addrs(t, "www"); !slices.Equal(got, []netip.Addr{ip3}) {
		t.Errorf("www = %v with both down, want the last record %v kept", got, ip3)
	}
	// .2 recovers while .3 is still down: .2 is added and the kept .3
	// goes (the reconciler), one mail.
	a.start(t)
	waitZone(10*time.Second, ip2)
	mails = append(mails, "UPALERT web2/http: 127.0.0.2")
	sink.expect(t, 3*time.Second, mails...)

	// Restart while .3 is down, its record put back by hand meanwhile
	// (the state is saved on the way out and loaded with -l opstatus).
	g.stop(t)
	handEdit, err := dnsupdate.Parse([]string{"-Z", "example.test", "-N", "www", "-A", "127.0.0.3", "-S", zone.Addr, "-K", zone.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := handEdit.Send(context.Background(), alerts.Event{Type: decide.UpAlert}); err != nil {
		t.Fatal(err)
	}
	if got := zone.Addrs(t, "www"); !slices.Equal(got, []netip.Addr{ip2, ip3}) {
		t.Fatalf("hand edit: www = %v", got)
	}
	restarted := time.Now()
	g = startGomon(t, dir, 2, append(args, "-l", "opstatus")...)
	waitZone(interval+time.Second, ip2)
	t.Logf("restart -> stale record gone: %v", time.Since(restarted))
	sink.expect(t, 3*time.Second, mails...)
	b.start(t)
	waitZone(10*time.Second, ip2, ip3)
	mails = append(mails, "UPALERT web3/http: 127.0.0.3")
	sink.expect(t, 3*time.Second, mails...)

	// A wrong key (a reload): the alert fails with the server's reason,
	// the failure is counted, the zone stays as it is.
	const wrongSecret = "bm90IHRoZSBrZXkgYXQgYWxsLCBub3QgdGhlIGtleSE="
	writeConfig("-k gomon-key:" + wrongSecret)
	g.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(2, "dnsupdate reconcile failed")
	a.stop()
	waitLog(2, "refused TSIG key gomon-key: BADSIG")
	mails = append(mails, "ALERT web2/http: 127.0.0.2")
	sink.expect(t, 3*time.Second, mails...)
	if got := zone.Addrs(t, "www"); !slices.Equal(got, []netip.Addr{ip2, ip3}) {
		t.Errorf("www = %v after a refused update, want it unchanged", got)
	}
	if n := alertFailures(t, statusPort, "web2", "dnsupdate.alert"); n < 1 {
		t.Errorf("gomon_alert_failures_total for dnsupdate.alert = %v, want at least 1", n)
	}
	g.stop(t)
	for _, secret := range []string{zone.Secret, wrongSecret} {
		for _, f := range []string{"gomon-1.log", "gomon-2.log"} {
			if b, _ := os.ReadFile(filepath.Join(dir, f)); strings.Contains(string(b), secret) {
				t.Errorf("a TSIG secret is in %s", f)
			}
		}
	}
}

// alertFailures reads gomon_alert_failures_total of group's alert from
// /metrics.
func alertFailures(t *testing.T, statusPort int, group, alert string) float64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", statusPort))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "gomon_alert_failures_total{") && strings.Contains(line, `group="`+group+`"`) &&
			strings.Contains(line, `alert="`+alert+`"`) {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += n
		}
	}
	return total
}
