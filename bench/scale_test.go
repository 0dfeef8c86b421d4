package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
)

// scaleSettings are the scale benchmark's knobs (see doc.go).
type scaleSettings struct {
	n        int           // built-in tcp/http services; idle services
	icmp     int           // addresses the one ICMP service pings
	interval time.Duration // every service's
	window   time.Duration // steady-state measurement
	parts    map[string]bool
	gomonBin string
}

// Goals from issue 17.
const (
	goalScaleOnTime   = 0.99                  // of runs within goalScaleLate of falling due
	goalScaleLate     = 50 * time.Millisecond // …
	goalScaleCPU      = 1.0                   // cores
	goalScaleRSSMiB   = 400
	goalTCPPerCoreSec = 15000
	goalHTTPPerCore   = 8000
	goalICMPRun       = 2 * time.Second
	goalIdleKiB       = 1.0 // RSS per idle service above the empty daemon
	goalStart         = time.Second
	goalReload        = time.Second
)

func loadScaleSettings() (scaleSettings, error) {
	ss := scaleSettings{n: 100000, icmp: 50000, interval: 10 * time.Second, window: 30 * time.Second,
		gomonBin: os.Getenv("BENCH_GOMON"), parts: map[string]bool{}}
	parts := "tcp,http,icmp,idle"
	if v := os.Getenv("BENCH_SCALE_PARTS"); v != "" {
		parts = v
	}
	for p := range strings.SplitSeq(parts, ",") {
		ss.parts[strings.TrimSpace(p)] = true
	}
	if err := envCounts(map[string]*int{"BENCH_SCALE_N": &ss.n, "BENCH_SCALE_ICMP": &ss.icmp}); err != nil {
		return ss, err
	}
	return ss, envDurations(map[string]*time.Duration{"BENCH_SCALE_WINDOW": &ss.window, "BENCH_SCALE_INTERVAL": &ss.interval})
}

// TestScaleBench is issue 17, items 1, 2 and 4: 100,000 built-in tcp and
// http services at interval 10s, one ICMP service over 50,000 addresses,
// the RSS of idle services, and start-up and reload at that scale. It
// prints one Markdown table; missed goals are reported, not failed.
func TestScaleBench(t *testing.T) {
	if os.Getenv("GOMON_BENCH") == "" {
		t.Skip("set GOMON_BENCH=1 (or run `make bench`): takes several minutes")
	}
	ss, err := loadScaleSettings()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := buildGomon(t.TempDir(), ss.gomonBin)
	if err != nil {
		t.Fatal(err)
	}
	m := machineInfo()
	var rows [][]string
	if ss.parts["tcp"] {
		rows = append(rows, scaleChecks(t, bin, ss, "tcp", true)...)
	}
	if ss.parts["http"] {
		rows = append(rows, scaleChecks(t, bin, ss, "http", false)...)
	}
	if ss.parts["icmp"] {
		rows = append(rows, scaleICMP(t, bin, ss)...)
	}
	if ss.parts["idle"] {
		rows = append(rows, scaleIdle(t, bin, ss)...)
	}
	m.loadEnd = loadAvg()
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %d × %s, Linux %s; load average %s at start, %s at end.\n",
		m.date, m.cpus, m.cpu, m.kernel, m.loadStart, m.loadEnd)
	fmt.Fprintf(&b, "Built-in services at interval %v, %v windows.\n\n", ss.interval, ss.window)
	b.WriteString("| measurement | gomon | goal | met |\n|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	fmt.Println()
	fmt.Print(b.String())
}

// TestScaleSmoke is the scale benchmark's short form for `go test
// ./...`: 200 tcp services at interval 1s, a reload, checked for
// correctness only (every service runs; the reload is announced and
// done), never for timing.
func TestScaleSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gomon")
	}
	bin, err := buildGomon(t.TempDir(), os.Getenv("BENCH_GOMON"))
	if err != nil {
		t.Fatal(err)
	}
	ss := scaleSettings{n: 200, interval: time.Second, window: 2 * time.Second}
	r := runScale(t, bin, ss, "tcp", true)
	if r.gaps.covered != ss.n {
		t.Errorf("%d of %d services ran twice in the window", r.gaps.covered, ss.n)
	}
	if r.reload <= 0 || r.ready <= 0 || r.listening <= 0 {
		t.Errorf("start or reload not measured: %+v", r)
	}
	if r.lateN == 0 {
		t.Error("no lateness histogram on /metrics")
	}
}

// scaleAddr is the loopback address of the w-th watch's one host: every
// watch has its own, so a listener tells the services apart by the
// address and port a connection came to.
func scaleAddr(w int) string {
	w++ // 127.1.0.0 would look like a network address
	return fmt.Sprintf("127.%d.%d.%d", 1+w>>16, w>>8&255, w&255)
}

// scalePorts is how many listener ports, hence services per watch.
const scalePorts = 10

// scaleConfig is n services of kind (tcp, http, or idle: tcp at a
// 24-hour interval), scalePorts per watch, each watch on its own
// loopback address. change alters one service's monitor line.
func scaleConfig(n int, kind string, interval time.Duration, ports []string, statusPort string, change bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nstatus_listen = 127.0.0.1:%s\nmaxprocs = 1000000\n\n", statusPort)
	for i := range n {
		w, j := i/scalePorts, i%scalePorts
		if j == 0 {
			fmt.Fprintf(&b, "hostgroup g%d %s\n\nwatch g%d\n", w, scaleAddr(w), w)
		}
		timeout := 5
		if change && i == 0 {
			timeout = 6
		}
		var mon string
		switch kind {
		case "http":
			mon = fmt.Sprintf("http.monitor -p %s -t %d", ports[j], timeout)
		default:
			mon = fmt.Sprintf("tcp.monitor -p %s -t %d", ports[j], timeout)
		}
		fmt.Fprintf(&b, "    service s%d\n        interval %ds\n        monitor %s\n", j, int(interval.Seconds()), mon)
	}
	return b.String()
}

// accepts records when each (address, port) was connected to.
type accepts struct {
	mu    sync.Mutex
	at    map[string][]time.Time
	total atomic.Int64
}

func (a *accepts) add(key string, t time.Time) {
	a.total.Add(1)
	a.mu.Lock()
	a.at[key] = append(a.at[key], t)
	a.mu.Unlock()
}

// between is every service's connection times within [from, to).
func (a *accepts) between(from, to time.Time) map[string][]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string][]time.Time, len(a.at))
	for k, ts := range a.at {
		for _, t := range ts {
			if !t.Before(from) && t.Before(to) {
				out[k] = append(out[k], t)
			}
		}
	}
	return out
}

// scaleListeners listen on every loopback address (0.0.0.0: the
// services' addresses are all of 127.0.0.0/8) and record each
// connection by the address and port it came to. httpReply makes them
// answer one HTTP request first.
func scaleListeners(t *testing.T, k int, httpReply bool, a *accepts) []string {
	t.Helper()
	var ports []string
	for range k {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue
				}
				now := time.Now()
				a.add(c.LocalAddr().String(), now)
				if !httpReply {
					c.Close()
					continue
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(5 * time.Second))
					testnet.AnswerOK(c)
				}()
			}
		}()
	}
	return ports
}

// notifySocket receives the daemon's sd_notify datagrams.
type notifySocket struct {
	path string
	ch   chan notifyMsg
}

type notifyMsg struct {
	at   time.Time
	text string
}

func newNotifySocket(t *testing.T, dir string) *notifySocket {
	t.Helper()
	n := &notifySocket{path: dir + "/notify.sock", ch: make(chan notifyMsg, 64)}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			n.ch <- notifyMsg{time.Now(), string(buf[:k])}
		}
	}()
	return n
}

// wait returns when a message containing text arrived.
func (n *notifySocket) wait(text string, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		select {
		case m := <-n.ch:
			if strings.Contains(m.text, text) {
				return m.at, nil
			}
		case <-deadline:
			return time.Time{}, fmt.Errorf("no %s from the daemon in %v", text, timeout)
		}
	}
}

// rssPeak samples a process's RSS every second until stopped.
type rssPeak struct {
	max  atomic.Int64
	stop chan struct{}
}

func watchRSS(pid int) *rssPeak {
	p := &rssPeak{stop: make(chan struct{})}
	go func() {
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			if v, err := rssKiB(pid); err == nil && int64(v) > p.max.Load() {
				p.max.Store(int64(v))
			}
			select {
			case <-p.stop:
				return
			case <-tk.C:
			}
		}
	}()
	return p
}

// scaleResult is what one run of built-in services measured.
type scaleResult struct {
	listening, ready time.Duration // exec → pid file (sockets bound); → READY=1
	checksPerSec     float64
	cpu              float64 // share of a core over the window
	rssKiB           int64   // peak over the whole run
	gaps             gapStats
	reload           time.Duration // SIGHUP → READY=1
	reloadGaps       gapStats      // of the other services, gaps spanning the reload
	lateN, lateIn    uint64        // runs, and runs started within goalScaleLate of due (the daemon's histogram)
	reloadN          uint64        // … of them from just before the reload to 1.5 intervals after it
	reloadIn         uint64
	scrape           time.Duration // one /metrics scrape
}

// startScale starts gomon on w's mon.cf with a notify socket and
// returns it with the time to its pid file and to READY=1.
func startScale(t *testing.T, bin string, w workDir) (*daemon, *notifySocket, time.Duration, time.Duration) {
	t.Helper()
	ns := newNotifySocket(t, string(w))
	port := freePort(t)
	cmd := exec.Command(bin, "-c", w.path("mon.cf"), "-p", port, "-t", port,
		"-b", string(w), "-B", string(w), "-D", w.path("state"), "-L", w.path("log"),
		"-P", w.path("mon.pid"), "-a", w.path("alert.d"), "-s", w.path("mon.d"), "-A", w.path("auth.cf"))
	cmd.Dir = string(w)
	cmd.Env = append(cleanEnv(), "NOTIFY_SOCKET="+ns.path)
	errFile, err := os.Create(w.path("daemon.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd.Stdout, cmd.Stderr = errFile, errFile
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, port: port, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(d.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := await.File(ctx, w.path("mon.pid"), func(b []byte) bool { return strings.HasSuffix(string(b), "\n") }); err != nil {
		errText, _ := os.ReadFile(w.path("daemon.err"))
		t.Fatalf("gomon did not start: %v\n%s", err, errText)
	}
	listening := time.Since(start)
	at, err := ns.wait("READY=1", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return d, ns, listening, at.Sub(start)
}

func runScale(t *testing.T, bin string, ss scaleSettings, kind string, reload bool) scaleResult {
	t.Helper()
	a := &accepts{at: map[string][]time.Time{}}
	ports := scaleListeners(t, scalePorts, kind == "http", a)
	statusPort := freePort(t)
	w := newWorkDir(t, tools{})
	w.writeConfig(t, scaleConfig(ss.n, kind, ss.interval, ports, statusPort, false))
	var r scaleResult
	d, ns, listening, ready := startScale(t, bin, w)
	// Stopped when the part ends: left running, a tcp daemon's 10,000
	// checks a second were measured as the next part's load.
	defer d.stop()
	r.listening, r.ready = listening, ready
	rss := watchRSS(d.pid())
	defer close(rss.stop)

	// Every service has run once a little after one interval (its
	// phase); the window starts half an interval later.
	time.Sleep(ss.interval + ss.interval/2)
	cpu0, err := cpuTime(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	time.Sleep(ss.window)
	cpu1, err := cpuTime(d.pid())
	if err != nil {
		t.Fatal(err)
	}
	to := time.Now()
	win := to.Sub(from)
	r.cpu = (cpu1 - cpu0).Seconds() / win.Seconds()
	in := a.between(from, to)
	for _, ts := range in {
		r.checksPerSec += float64(len(ts))
	}
	r.checksPerSec /= win.Seconds()
	r.gaps = gaps(in, ss.interval, goalScaleLate)
	fmt.Printf("scale %s N=%d listening=%.3fs ready=%.3fs checks/s=%.0f cpu=%.1f%% gaps: p99|dev|=%.1fms within=%.2f%% covered=%d\n",
		kind, ss.n, r.listening.Seconds(), r.ready.Seconds(), r.checksPerSec, 100*r.cpu, ms(r.gaps.devP99), 100*r.gaps.within, r.gaps.covered)

	metrics := "http://127.0.0.1:" + statusPort + "/metrics"
	if reload {
		w.writeConfig(t, scaleConfig(ss.n, kind, ss.interval, ports, statusPort, true))
		// The daemon's own view: its lateness histogram just before the
		// reload and after the window below. (The listeners' gaps share
		// the two CPUs with the reload's parse, so they also show how
		// late the listeners themselves accepted.)
		n0, in0, err := scrapeLateness(metrics, goalScaleLate)
		if err != nil {
			t.Fatal(err)
		}
		sent := time.Now()
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		if _, err := ns.wait("RELOADING=1", time.Minute); err != nil {
			t.Fatal(err)
		}
		done, err := ns.wait("READY=1", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		r.reload = done.Sub(sent)
		// Gaps that span the reload: from one interval before it to
		// one after, every service but the changed one.
		time.Sleep(ss.interval + ss.interval/2)
		around := a.between(sent.Add(-ss.interval-ss.interval/2), time.Now())
		delete(around, scaleAddr(0)+":"+ports[0])
		r.reloadGaps = gaps(around, ss.interval, goalScaleLate)
		n1, in1, err := scrapeLateness(metrics, goalScaleLate)
		if err != nil {
			t.Fatal(err)
		}
		r.reloadN, r.reloadIn = n1-n0, in1-in0
		fmt.Printf("scale %s reload=%.3fs gaps around it: p99|dev|=%.1fms max=%.3fs within=%.2f%% covered=%d\n",
			kind, r.reload.Seconds(), ms(r.reloadGaps.devP99), r.reloadGaps.max.Seconds(), 100*r.reloadGaps.within, r.reloadGaps.covered)
	}
	r.rssKiB = rss.max.Load()
	// The daemon's own lateness histogram over the whole run, read last:
	// a scrape renders every service's series.
	t0 := time.Now()
	r.lateN, r.lateIn, err = scrapeLateness(metrics, goalScaleLate)
	r.scrape = time.Since(t0)
	if err != nil {
		t.Errorf("lateness histogram: %v", err)
	}
	return r
}

// scrapeLateness reads gomon_monitor_start_lateness_seconds: how many
// runs started, and how many within le of falling due (le must be one
// of the histogram's bounds).
func scrapeLateness(url string, le time.Duration) (n, in uint64, err error) {
	c := http.Client{Timeout: 2 * time.Minute}
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	want := fmt.Sprintf(`gomon_monitor_start_lateness_seconds_bucket{le="%g"} `, le.Seconds())
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	found := 0
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, want); ok {
			in, err = strconv.ParseUint(v, 10, 64)
			found++
		} else if v, ok := strings.CutPrefix(line, "gomon_monitor_start_lateness_seconds_count "); ok {
			n, err = strconv.ParseUint(v, 10, 64)
			found++
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%s: no lateness histogram (bucket %q)", url, want)
	}
	return n, in, sc.Err()
}

// scaleChecks measures n built-in services of one kind and renders
// their rows.
func scaleChecks(t *testing.T, bin string, ss scaleSettings, kind string, reload bool) [][]string {
	r := runScale(t, bin, ss, kind, reload)
	goalPerCore := float64(goalTCPPerCoreSec)
	if kind == "http" {
		goalPerCore = goalHTTPPerCore
	}
	wanted := float64(ss.n) / ss.interval.Seconds()
	perCore := r.checksPerSec / max(r.cpu, 1e-9)
	onTime := float64(r.lateIn) / float64(max(r.lateN, 1))
	rows := [][]string{
		{fmt.Sprintf("%s: %d services at %v: checks/s (the listeners' count)", kind, ss.n, ss.interval),
			fmt.Sprintf("%.0f (%.1f%% of wanted)", r.checksPerSec, 100*r.checksPerSec/wanted), fmt.Sprintf("%.0f wanted", wanted), "reported"},
		{kind + ": runs started within 50 ms of falling due (the daemon's histogram, whole run)",
			fmt.Sprintf("%.2f%% of %d", 100*onTime, r.lateN), "≥ 99%", yesNo(r.lateN > 0, onTime >= goalScaleOnTime)},
		{kind + ": gaps between a service's runs within interval ± 50 ms; p99 of \\|gap − interval\\|",
			fmt.Sprintf("%.2f%%; %.1f ms (%d services)", 100*r.gaps.within, ms(r.gaps.devP99), r.gaps.covered), "reported", ""},
		{kind + ": daemon CPU (of a core)", fmt.Sprintf("%.1f%%", 100*r.cpu), "≤ 100%", yesNo(true, r.cpu <= goalScaleCPU)},
		{kind + ": checks per core-second", fmt.Sprintf("%.0f", perCore), fmt.Sprintf("≥ %.0f", goalPerCore), yesNo(true, perCore >= goalPerCore)},
		{kind + ": daemon RSS (peak)", fmt.Sprintf("%.0f MiB", float64(r.rssKiB)/1024), fmt.Sprintf("≤ %d MiB", goalScaleRSSMiB), yesNo(true, r.rssKiB <= goalScaleRSSMiB*1024)},
	}
	if reload {
		rows = append(rows,
			[]string{fmt.Sprintf("start-up, %d services: exec → listening (pid file); → scheduler running (READY=1)", ss.n),
				fmt.Sprintf("%.3f s; %.3f s", r.listening.Seconds(), r.ready.Seconds()), "≤ 1 s", yesNo(true, r.listening <= goalStart)},
			[]string{"SIGHUP reload, one service changed → done (READY=1)", fmt.Sprintf("%.3f s", r.reload.Seconds()), "≤ 1 s", yesNo(true, r.reload <= goalReload)},
			[]string{"… runs started within 50 ms of falling due, from just before the reload to 1.5 intervals after it (the daemon's histogram)",
				fmt.Sprintf("%.2f%% of %d", 100*float64(r.reloadIn)/float64(max(r.reloadN, 1)), r.reloadN),
				"undisturbed (≥ 99%)", yesNo(r.reloadN > 0, float64(r.reloadIn) >= goalScaleOnTime*float64(r.reloadN))},
			[]string{"… gaps of the other services around the reload within interval ± 50 ms, as the listeners saw them; p99 / max \\|gap − interval\\|",
				fmt.Sprintf("%.2f%%; %.1f / %.1f ms (%d services)", 100*r.reloadGaps.within, ms(r.reloadGaps.devP99), ms((r.reloadGaps.max - ss.interval).Abs()), r.reloadGaps.covered),
				"undisturbed (≥ 99% within)", yesNo(r.reloadGaps.n > 0, r.reloadGaps.within >= goalScaleOnTime)},
		)
	}
	return rows
}

// scaleICMP measures one fping service over ss.icmp loopback addresses.
func scaleICMP(t *testing.T, bin string, ss scaleSettings) [][]string {
	w := newWorkDir(t, tools{})
	statusPort := freePort(t)
	var b strings.Builder
	fmt.Fprintf(&b, "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nstatus_listen = 127.0.0.1:%s\n\nhostgroup icmp", statusPort)
	for i := range ss.icmp {
		b.WriteString(" " + scaleAddr(i))
	}
	fmt.Fprintf(&b, "\n\nwatch icmp\n    service ping\n        interval %v\n        monitor fping.monitor\n", ss.interval)
	w.writeConfig(t, b.String())
	d, _, _, _ := startScale(t, bin, w)
	defer d.stop()
	rss := watchRSS(d.pid())
	defer close(rss.stop)
	time.Sleep(ss.interval / 2)
	cpu0, _ := cpuTime(d.pid())
	from := time.Now()
	var durs []time.Duration
	okRuns := 0
	seen := map[string]bool{}
	for time.Since(from) < ss.window+ss.interval {
		time.Sleep(time.Second)
		st, err := apiStatus("http://127.0.0.1:" + statusPort + "/api/status")
		if err != nil || len(st.Services) != 1 || st.Services[0].LastCheck == "" || st.Services[0].Duration == nil {
			continue
		}
		s := st.Services[0]
		if !seen[s.LastCheck] {
			seen[s.LastCheck] = true
			durs = append(durs, time.Duration(*s.Duration*float64(time.Second)))
			if !s.Failing {
				okRuns++
			}
		}
	}
	cpu1, _ := cpuTime(d.pid())
	cpu := (cpu1 - cpu0).Seconds() / time.Since(from).Seconds()
	slices.Sort(durs)
	var worst time.Duration
	if len(durs) > 0 {
		worst = durs[len(durs)-1]
	}
	fmt.Printf("scale icmp addresses=%d runs=%d ok=%d durations=%v cpu=%.1f%% rss=%dKiB\n", ss.icmp, len(durs), okRuns, durs, 100*cpu, rss.max.Load())
	return [][]string{
		{fmt.Sprintf("icmp: one service pinging %d addresses every %v: slowest run (runs all ok)", ss.icmp, ss.interval),
			fmt.Sprintf("%.3f s over %d runs (%d ok)", worst.Seconds(), len(durs), okRuns), "≤ 2 s", yesNo(len(durs) > 0, worst <= goalICMPRun && okRuns == len(durs))},
		{"icmp: daemon CPU (of a core); RSS", fmt.Sprintf("%.1f%%; %.0f MiB", 100*cpu, float64(rss.max.Load())/1024), "reported", ""},
	}
}

type apiReport struct {
	Services []struct {
		LastCheck string   `json:"last_check"`
		Duration  *float64 `json:"duration_seconds"`
		Failing   bool     `json:"failing"`
	} `json:"services"`
}

func apiStatus(url string) (apiReport, error) {
	var r apiReport
	resp, err := http.Get(url)
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&r)
	return r, err
}

// scaleIdle measures the RSS of ss.n idle services (tcp at 24h: they
// never run in the measurement) against the same daemon with none.
func scaleIdle(t *testing.T, bin string, ss scaleSettings) [][]string {
	measure := func(n int) int {
		w := newWorkDir(t, tools{})
		ports := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
		w.writeConfig(t, scaleConfig(n, "tcp", 24*time.Hour, ports, freePort(t), false))
		d, _, _, _ := startScale(t, bin, w)
		defer d.stop()
		time.Sleep(5 * time.Second) // past start-up's garbage
		v, err := rssKiB(d.pid())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The baseline has one service: gomon refuses a configuration
	// without any (a truncated file would stop all monitoring).
	base := measure(1)
	full := measure(ss.n)
	per := float64(full-base) / float64(ss.n-1)
	fmt.Printf("scale idle base=%dKiB n=%d rss=%dKiB per=%.2fKiB\n", base, ss.n, full, per)
	return [][]string{
		{fmt.Sprintf("idle: RSS of the daemon with 1 service; with %d idle services", ss.n), fmt.Sprintf("%.1f MiB; %.1f MiB", float64(base)/1024, float64(full)/1024), "reported", ""},
		{"idle: RSS per idle service above the 1-service daemon", fmt.Sprintf("%.2f KiB", per), "≤ 1 KiB", yesNo(true, per <= goalIdleKiB)},
	}
}
