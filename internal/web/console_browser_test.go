package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromium = "/usr/bin/chromium"

// browser starts a headless Chromium for the test, and returns its
// context and the directory screenshots go to: $GOMON_ARTIFACTS/console,
// else /tmp/gomon-console-shots with GOMON_KEEP_SHOTS=1, else a
// temporary directory.
func browser(t *testing.T) (context.Context, string) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no " + chromium + " (apt-get install chromium)")
	}
	shots := t.TempDir()
	if d := os.Getenv("GOMON_ARTIFACTS"); d != "" {
		shots = filepath.Join(d, "console")
	} else if os.Getenv("GOMON_KEEP_SHOTS") == "1" {
		shots = "/tmp/gomon-console-shots"
	}
	must(t, os.MkdirAll(shots, 0o755))
	t.Logf("screenshots in %s", shots)
	// The machine's closed network refuses Chromium's background
	// connections; these flags keep it from trying.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx, shots
}

// do runs browser steps, failing the test on an error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	must(t, chromedp.Do(ctx, steps...))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	must(t, err)
	return v
}

// text is the text of the first element sel selects.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(sel))
	must(t, err)
	return v
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// TestConsoleInBrowser drives the console in a real browser: every state
// renders distinctly, a login with the userfile's password, then ack and
// disable through the pages change the scheduler's state; a POST without
// the session's token is refused.
func TestConsoleInBrowser(t *testing.T) {
	r := startConsole(t)
	ctx, shots := browser(t)

	// The overview: one row per service, each state its own badge
	// colour and text.
	do(t, ctx, chromedp.Navigate(r.URL), chromedp.WaitVisible(`tr[data-service="g2/fine"]`))
	states := eval[map[string]string](t, ctx, `Object.fromEntries([...document.querySelectorAll("tr.svc")].map(e => [e.dataset.service, e.dataset.state]))`)
	badges := eval[[]map[string]string](t, ctx, `[...document.querySelectorAll("tr.svc .badge")].map(b => {
			const s = getComputedStyle(b), row = getComputedStyle(b.closest("tr").cells[0]);
			return {state: b.closest("tr").dataset.state, text: b.textContent.trim(), look: s.backgroundColor + "|" + s.color + "|" + s.borderTopStyle + "|" + row.borderLeftColor + "|" + row.borderLeftStyle};
		})`)
	want := map[string]string{"g1/down": "failing", "g1/acked": "acked", "g1/off": "disabled",
		"g2/fresh": "untested", "g2/after": "suppressed", "g2/fine": "ok"}
	for svc, st := range want {
		if states[svc] != st {
			t.Errorf("%s is drawn %q, want %q (all: %v)", svc, states[svc], st, states)
		}
	}
	looks, texts := map[string]string{}, map[string]string{}
	for _, b := range badges {
		for st, look := range looks {
			if st != b["state"] && look == b["look"] {
				t.Errorf("%s and %s look the same: %s", st, b["state"], look)
			}
		}
		looks[b["state"]] = b["look"]
		if old, ok := texts[b["text"]]; ok && old != b["state"] {
			t.Errorf("%s and %s have the same badge text %q", old, b["state"], b["text"])
		}
		texts[b["text"]] = b["state"]
	}
	page := text(t, ctx, "main")
	for _, w := range []string{"DB team is on it, INC-4711", "maintenance until Friday", "by carol", "web2 web3 connection refused"} {
		if !strings.Contains(page, w) {
			t.Errorf("overview lacks %q:\n%s", w, page)
		}
	}
	downHosts := eval[[]string](t, ctx, `[...document.querySelectorAll('tr[data-service="g1/down"] .host.down')].map(h => h.textContent)`)
	if strings.Join(downHosts, " ") != "web2 web3" {
		t.Errorf("failing hosts marked: %v, want web2 web3", downHosts)
	}
	shot(t, ctx, shots, "01-overview")

	// Filter and search.
	do(t, ctx, chromedp.Navigate(r.URL+"?failing=1"), chromedp.WaitVisible(`tr[data-service="g1/down"]`))
	rows := eval[int](t, ctx, `document.querySelectorAll("tr.svc").length`)
	if rows != 2 {
		t.Errorf("failing only: %d rows, want 2 (down, acked)", rows)
	}
	shot(t, ctx, shots, "02-failing-only")
	do(t, ctx, chromedp.Navigate(r.URL+"?q=front"), chromedp.WaitVisible(`tr[data-service="g1/down"]`))
	rows = eval[int](t, ctx, `document.querySelectorAll("tr.svc").length`)
	if rows != 1 {
		t.Errorf("search 'front': %d rows, want 1", rows)
	}

	// Nobody logged in: no action is offered, and a forged POST is refused.
	svcURL := r.URL + "service?group=g1&service=down"
	do(t, ctx, chromedp.Navigate(svcURL), chromedp.WaitVisible(`svg.tl`))
	forms := eval[int](t, ctx, `document.querySelectorAll("form.act").length`)
	if forms != 0 {
		t.Errorf("%d action forms offered to nobody", forms)
	}
	shot(t, ctx, shots, "03-service-anonymous")
	resp, err := http.PostForm(r.URL+"action/ack", url.Values{"group": {"g1"}, "service": {"down"}, "comment": {"forged"}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unauthenticated POST: %d, want 403", resp.StatusCode)
	}
	if st, _ := r.Sched.StatusOf("g1", "down"); st.State.Ack != 0 {
		t.Fatal("the refused POST acknowledged the service")
	}

	// Log in as alice, acknowledge, disable.
	do(t, ctx,
		chromedp.Navigate(r.URL+"login?next="+url.QueryEscape("service?group=g1&service=down")),
		chromedp.WaitVisible(`input[name=user]`),
		chromedp.SendKeys(`input[name=user]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, "s3cret"),
		chromedp.Click(`.login button`),
		chromedp.WaitVisible(`#ack-form`),
	)
	shot(t, ctx, shots, "04-service-logged-in")
	do(t, ctx,
		chromedp.SendKeys(`#ack-form input[name=comment]`, "looking into it"),
		chromedp.Click(`#ack-form button`),
		chromedp.WaitVisible(`.banner.flash`),
	)
	flash := text(t, ctx, ".banner.flash")
	if st, _ := r.Sched.StatusOf("g1", "down"); st.State.Ack == 0 || st.State.AckComment != "alice: looking into it" {
		t.Errorf("after the ack: ack=%d comment %q (flash %q)", st.State.Ack, st.State.AckComment, flash)
	}
	shot(t, ctx, shots, "05-acked")
	do(t, ctx,
		chromedp.SendKeys(`#disable-form input[name=reason]`, "replacing the load balancer"),
		chromedp.Click(`#disable-form button`),
		chromedp.WaitVisible(`#enable-form`),
	)
	page = text(t, ctx, "main")
	st, _ := r.Sched.StatusOf("g1", "down")
	if !st.State.Disabled || st.DisabledBy == nil || st.DisabledBy.By != "alice" || st.DisabledBy.Reason != "replacing the load balancer" {
		t.Errorf("after the disable: disabled %v by %+v", st.State.Disabled, st.DisabledBy)
	}
	if !strings.Contains(page, "by alice") || !strings.Contains(page, "replacing the load balancer") {
		t.Errorf("service page after disable:\n%s", page)
	}
	shot(t, ctx, shots, "06-disabled")
	do(t, ctx, chromedp.Navigate(r.URL), chromedp.WaitVisible(`tr[data-service="g2/fine"]`))
	shot(t, ctx, shots, "07-overview-after")
}

// TestConsoleExtensionsInBrowser shows issue 16's state in a real
// browser: the flapping badge with its percentage, the per-host verdicts
// on the service page and the failing hosts they mark on the overview;
// then a timed disable with a reason through the form reaches the
// scheduler as a downtime, and the pages say until when, who and why.
func TestConsoleExtensionsInBrowser(t *testing.T) {
	r := startFlappingConsole(t)
	ctx, shots := browser(t)
	row := `tr[data-service="web/http"]`

	do(t, ctx, chromedp.Navigate(r.URL), chromedp.WaitVisible(row))
	if got := text(t, ctx, row+" .flap"); got != "flapping 90%" {
		t.Errorf("overview flap badge: %q", got)
	}
	downHosts := eval[[]string](t, ctx, `[...document.querySelectorAll('tr[data-service="web/http"] .host.down')].map(h => h.textContent)`)
	if strings.Join(downHosts, " ") != "web1 web3" {
		t.Errorf("failing hosts marked: %v, want web1 web3 (the verdicts; the summary also says timeout)", downHosts)
	}
	shot(t, ctx, shots, "08-extensions-overview")

	do(t, ctx,
		chromedp.Navigate(r.URL+"login?next="+url.QueryEscape("service?group=web&service=http")),
		chromedp.WaitVisible(`input[name=user]`),
		chromedp.SendKeys(`input[name=user]`, "alice"),
		chromedp.SendKeys(`input[name=password]`, "s3cret"),
		chromedp.Click(`.login button`),
		chromedp.WaitVisible(`#disable-form`),
	)
	if got := text(t, ctx, "h1 .flap"); got != "flapping 90%" {
		t.Errorf("service page flap badge: %q", got)
	}
	verdicts := eval[[][]string](t, ctx, `[...document.querySelectorAll("table.verdicts tbody tr")].map(tr => [...tr.cells].map(c => c.textContent.trim()))`)
	if len(verdicts) != 2 || verdicts[0][0] != "web1" || verdicts[1][0] != "web3" ||
		verdicts[0][2] != "1" || verdicts[0][3] != "web1: no answer after 5s" || !strings.Contains(verdicts[0][1], "for ") {
		t.Errorf("per-host verdicts: %q", verdicts)
	}
	shot(t, ctx, shots, "09-extensions-service")

	before := time.Now()
	do(t, ctx,
		chromedp.SendKeys(`#disable-form input[name=reason]`, "kernel upgrade"),
		chromedp.SendKeys(`#disable-form input[name=for]`, "2h"),
		chromedp.Click(`#disable-form button`),
		chromedp.WaitVisible(`#enable-form`),
	)
	dts := r.Sched.Downtimes()
	if len(dts) != 1 || dts[0].Kind != "service" || dts[0].Who != "alice" || dts[0].Reason != "kernel upgrade" ||
		dts[0].Until.Before(before.Add(2*time.Hour).Truncate(time.Second)) || dts[0].Until.After(time.Now().Add(2*time.Hour)) {
		t.Fatalf("downtimes after the timed disable: %+v", dts)
	}
	if got := text(t, ctx, "dd.reason"); !strings.Contains(got, "by alice") || !strings.Contains(got, "kernel upgrade") ||
		!strings.Contains(got, "until "+dts[0].Until.Local().Format("2006-01-02 15:04:05")+" (in 1h 59m)") {
		t.Errorf("service page says %q", got)
	}
	if got := text(t, ctx, ".banner.flash"); got != "Done: disabled for 2h." {
		t.Errorf("flash: %q", got)
	}
	shot(t, ctx, shots, "10-extensions-timed-disable")

	do(t, ctx, chromedp.Navigate(r.URL), chromedp.WaitVisible(row))
	if got := text(t, ctx, row+" .state .note"); !strings.Contains(got, "by alice: kernel upgrade; until ") {
		t.Errorf("overview note: %q", got)
	}
	do(t, ctx, chromedp.Navigate(r.URL+"downtimes"), chromedp.WaitVisible(`table.downtimes`))
	if got := text(t, ctx, `tr[data-kind="service"]`); !strings.Contains(got, "web/http") || !strings.Contains(got, "alice") ||
		!strings.Contains(got, "kernel upgrade") || !strings.Contains(got, "(in 1h 59m)") {
		t.Errorf("downtimes page row: %q", got)
	}
	shot(t, ctx, shots, "11-downtimes")
}
