package bench

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	date, cpu, kernel  string
	loadStart, loadEnd string // load averages: the host may be shared
	cpus               int
}

func machineInfo() machine {
	m := machine{date: time.Now().Format("2006-01-02 15:04 MST"), cpus: runtime.NumCPU(), cpu: "unknown CPU"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	m.loadStart = loadAvg()
	return m
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// Goals from issue 3, item 9.
const (
	goalRunsShare    = 0.99 // of the wanted runs, up to 1,000 services
	goalCeilingShare = 0.80 // of the machine's ceiling, above 1,000 services
	goalCPURatio     = 0.10 // gomon CPU per run / mon CPU per run
	goalDetectSlack  = 20 * time.Millisecond
	// Issue 17, item 3: against the C reference scheduler in the same run.
	goalFloorCPU = 1.25
	goalFloorGap = 5 * time.Millisecond
)

// report renders the one table of docs/performance.md's Scheduler
// section: both systems, the ceiling, the ratios and the goals.
func report(m machine, cfg settings, ceil map[int]ceiling, systems []*system) string {
	var mon, gomon *system
	for _, s := range systems {
		if s.bin == realMon {
			mon = s
		} else {
			gomon = s
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %d × %s, Linux %s; load average %s at start, %s at end.\n",
		m.date, m.cpus, m.cpu, m.kernel, m.loadStart, m.loadEnd)
	fmt.Fprintf(&b, "Interval 1s; %v warm-up, %v window per point; %d detection repetitions.\n\n", cfg.warmup, cfg.window, cfg.detectReps)
	b.WriteString("Machine: the spawn ceiling (Go loops spawning the monitor back to back) and the C reference scheduler (testdata/refsched.c: the same services, one epoll loop, posix_spawn, no decisions), measured between the two daemons.\n\n")
	b.WriteString("| measurement | machine | mon 1.3.6 | gomon | gomon / mon | gomon goal | met |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	row := func(cells ...string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }

	for _, n := range cfg.ns {
		c := ceil[n]
		row(fmt.Sprintf("N=%d: machine spawns/s of the monitor, captured: 1 loop / %d loops", n, c.loops),
			fmt.Sprintf("%.0f / %.0f", c.one, c.all), "", "", "", "", "")
		tpMon, okMon := lookup(mon, n)
		tpGo, okGo := lookup(gomon, n)
		runs := func(tp throughput, ok bool) string {
			if !ok {
				return "–"
			}
			s := fmt.Sprintf("%.0f (%.0f%% of wanted", tp.perSec, 100*tp.perSec/tp.wanted())
			if tp.wanted() >= c.all {
				s += fmt.Sprintf(", %.0f%% of ceiling", 100*tp.perSec/c.all)
			}
			return s + ")"
		}
		var goal, met, ceilCell string
		if n <= 1000 {
			goal = fmt.Sprintf("≥ %.0f%% of wanted", 100*goalRunsShare)
			met = yesNo(okGo, tpGo.perSec >= goalRunsShare*tpGo.wanted())
		} else {
			ceilCell = fmt.Sprintf("%.0f", c.all)
			goal = fmt.Sprintf("≥ %.0f%% of ceiling", 100*goalCeilingShare)
			met = yesNo(okGo, tpGo.perSec >= goalCeilingShare*c.all)
		}
		if ref := c.ref; ref.runs > 0 {
			ceilCell = strings.TrimPrefix(ceilCell+"; C reference "+runs(ref, true), "; ")
		}
		row(fmt.Sprintf("N=%d: monitor runs/s (wanted %.0f)", n, float64(n)/interval.Seconds()), ceilCell,
			runs(tpMon, okMon), runs(tpGo, okGo), ratio(tpGo.perSec, tpMon.perSec, okMon && okGo), goal, met)

		gap := func(tp throughput, ok bool) string {
			switch {
			case !ok:
				return "–"
			case tp.gap.n == 0:
				return "no service ran twice"
			}
			return fmt.Sprintf("%.3f / %.3f / %.3f", sec(tp.gap.p50), sec(tp.gap.p99), sec(tp.gap.max))
		}
		row(fmt.Sprintf("N=%d: gap between a service's runs, p50 / p99 / max (s)", n), gap(c.ref, c.ref.runs > 0),
			gap(tpMon, okMon), gap(tpGo, okGo), "", "", "")

		acc := func(tp throughput, ok bool) string {
			if !ok || tp.gap.n == 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f%%; %.1f ms", 100*tp.gap.within, ms(tp.gap.devP99))
		}
		goal, met = "", ""
		if n <= 1000 {
			goal = fmt.Sprintf("p99 ≤ %v", tolerance)
			met = yesNo(okGo, tpGo.gap.n > 0 && tpGo.gap.devP99 <= tolerance)
		}
		row(fmt.Sprintf("N=%d: gaps within 1 s ± 10 ms; p99 of \\|gap − 1 s\\|", n), acc(c.ref, c.ref.runs > 0),
			acc(tpMon, okMon), acc(tpGo, okGo), "", goal, met)

		cpu := func(tp throughput, ok bool) string {
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.3f (%.1f%% of a core)", tp.cpuPer1000.Seconds(), 100*tp.cpuShare)
		}
		row(fmt.Sprintf("N=%d: daemon CPU s per 1,000 runs", n), fmt.Sprintf("Go loop %.3f; C reference %s", c.cpuPer1000.Seconds(), cpu(c.ref, c.ref.runs > 0)), cpu(tpMon, okMon), cpu(tpGo, okGo),
			ratio(tpGo.cpuPer1000.Seconds(), tpMon.cpuPer1000.Seconds(), okMon && okGo),
			fmt.Sprintf("≤ %.1f × mon", goalCPURatio),
			yesNo(okMon && okGo, tpGo.cpuPer1000.Seconds() <= goalCPURatio*tpMon.cpuPer1000.Seconds()))
		if ref := c.ref; ref.runs > 0 && okMon {
			// The goal is only reachable if it is above what the machine
			// needs to start the monitor at all.
			row(fmt.Sprintf("N=%d: … the C reference's CPU per run against mon's", n),
				ratio(ref.cpuPer1000.Seconds(), tpMon.cpuPer1000.Seconds(), true), "", "", "",
				fmt.Sprintf("%.1f × mon", goalCPURatio), "")
		}

		mem := func(tp throughput, ok bool) string {
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.1f MiB; %.1f KiB", float64(tp.rssKiB)/1024, float64(tp.rssKiB)/float64(n))
		}
		rssGoal, rssMet := "reported", ""
		if n >= 1000 {
			rssGoal, rssMet = "≤ mon's (issue 17)", yesNo(okMon && okGo, tpGo.rssKiB <= tpMon.rssKiB)
		}
		row(fmt.Sprintf("N=%d: daemon RSS; RSS per configured service", n), "",
			mem(tpMon, okMon), mem(tpGo, okGo), ratio(float64(tpGo.rssKiB), float64(tpMon.rssKiB), okMon && okGo), rssGoal, rssMet)
		anon := func(tp throughput, ok bool) string {
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.1f MiB; mapped files %.1f MiB", float64(tp.anonKiB)/1024, float64(tp.fileKiB)/1024)
		}
		row(fmt.Sprintf("N=%d: … daemon private memory (RssAnon); mapped files (RssFile: binary, libraries)", n), "",
			anon(tpMon, okMon), anon(tpGo, okGo), ratio(float64(tpGo.anonKiB), float64(tpMon.anonKiB), okMon && okGo), "reported", "")
		if ref := c.ref; n >= 1000 && ref.runs > 0 && okGo {
			// Issue 17, item 3: against the machine's floor, same run.
			cpuRatio := tpGo.cpuPer1000.Seconds() / ref.cpuPer1000.Seconds()
			row(fmt.Sprintf("N=%d: gomon's CPU per run against the C reference's (issue 17)", n),
				fmt.Sprintf("C reference %.3f s", ref.cpuPer1000.Seconds()), "", fmt.Sprintf("%.3f s (%.2f×)", tpGo.cpuPer1000.Seconds(), cpuRatio), "",
				fmt.Sprintf("≤ %.2f × C reference", goalFloorCPU), yesNo(true, cpuRatio <= goalFloorCPU))
			row(fmt.Sprintf("N=%d: p99 of \\|gap − 1 s\\| against the C reference's (issue 17)", n),
				fmt.Sprintf("C reference %.1f ms", ms(ref.gap.devP99)), "", fmt.Sprintf("%.1f ms", ms(tpGo.gap.devP99)), "",
				fmt.Sprintf("≤ C reference + %v", goalFloorGap), yesNo(tpGo.gap.n > 0 && ref.gap.n > 0, tpGo.gap.devP99 <= ref.gap.devP99+goalFloorGap))
		}
	}
	if len(cfg.ns) >= 2 {
		lo, hi := cfg.ns[0], cfg.ns[len(cfg.ns)-1]
		marginal := func(s *system) (float64, bool) {
			a, okA := lookup(s, lo)
			z, okZ := lookup(s, hi)
			return float64(z.rssKiB-a.rssKiB) / float64(hi-lo), okA && okZ && hi != lo
		}
		vm, okM := marginal(mon)
		vg, okG := marginal(gomon)
		row(fmt.Sprintf("RSS per added service, N=%d → %d (KiB)", lo, hi), "",
			kib(vm, okM), kib(vg, okG), ratio(vg, vm, okM && okG), "reported", "")
	}
	if cfg.detectReps > 0 {
		det := func(s *system) (detection, bool) {
			if s == nil || len(s.det.latency) == 0 {
				return detection{}, false
			}
			return s.det, true
		}
		dm, okM := det(mon)
		dg, okG := det(gomon)
		lat := func(d detection, ok bool) string {
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.3f / %.3f", sec(percentile(d.latency, 0.5)), sec(percentile(d.latency, 0.99)))
		}
		p99 := func(d detection) float64 { return sec(percentile(d.latency, 0.99)) }
		row("failure → alert process started, p50 / p99 (s)", "", lat(dm, okM), lat(dg, okG),
			ratio(p99(dg), p99(dm), okM && okG), fmt.Sprintf("p99 ≤ %.3f s", sec(interval+goalDetectSlack)),
			yesNo(okG, percentile(dg.latency, 0.99) <= interval+goalDetectSlack))
		split := func(d detection, ok bool) string {
			if !ok || len(d.runToAlert) == 0 {
				return "–"
			}
			return fmt.Sprintf("%.3f / %.3f", sec(percentile(d.waitRun, 0.5)), sec(percentile(d.runToAlert, 0.5)))
		}
		row("… of which flag → failing run, failing run → alert, p50 (s)", "", split(dm, okM), split(dg, okG), "", "", "")
	}
	return b.String()
}

func lookup(s *system, n int) (throughput, bool) {
	if s == nil {
		return throughput{}, false
	}
	tp, ok := s.tp[n]
	return tp, ok
}

func ratio(a, b float64, ok bool) string {
	if !ok || b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func yesNo(ok, cond bool) string {
	switch {
	case !ok:
		return "n/a"
	case cond:
		return "yes"
	default:
		return "**no**"
	}
}

func kib(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.1f", v)
}

// Goals from issue 11, item 7.
const goalShareSlack = 0.05 // each node's share: a third ± 5% of a third

// clusterReport renders docs/performance.md's Cluster table: each
// figure beside its goal.
func clusterReport(m machine, cs clusterSettings, r clusterResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %d × %s, Linux %s; load average %s at start, %s at end.\n",
		m.date, m.cpus, m.cpu, m.kernel, m.loadStart, m.loadEnd)
	fmt.Fprintf(&b, "%d gomon nodes (separate processes), one etcd 3.4 member, %d built-in tcp services at interval %v against %d loopback listeners; cluster_lease %v; %v window.\n\n",
		len(r.shares), cs.n, cs.interval, cs.listeners, cs.lease, r.window.Round(100*time.Millisecond))
	b.WriteString("| measurement | gomon | goal | met |\n|---|---|---|---|\n")
	row := func(cells ...string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }

	third := float64(cs.n) / float64(len(r.shares))
	for _, s := range r.shares {
		dev := float64(s.owned)/third - 1
		row(fmt.Sprintf("node %s: services owned", s.node), fmt.Sprintf("%d (%+.1f%% of a third)", s.owned, 100*dev),
			fmt.Sprintf("%.0f ± %.0f", third, goalShareSlack*third), yesNo(true, math.Abs(dev) <= goalShareSlack))
	}
	row("tcp checks/s the listeners accepted (all nodes)", fmt.Sprintf("%.0f (%.1f%% of wanted)", r.checksPerSec, 100*r.checksPerSec*cs.interval.Seconds()/float64(cs.n)),
		fmt.Sprintf("%.0f wanted", float64(cs.n)/cs.interval.Seconds()), "reported")
	writes := r.etcd["etcd_mvcc_put_total"] + r.etcd["etcd_mvcc_delete_total"] + r.etcd["etcd_mvcc_txn_total"]
	row("etcd writes/s in steady state: puts / deletes / write txns",
		fmt.Sprintf("%.2f / %.2f / %.2f", r.etcd["etcd_mvcc_put_total"], r.etcd["etcd_mvcc_delete_total"], r.etcd["etcd_mvcc_txn_total"]),
		"0 (lease keep-alives only)", yesNo(true, writes == 0))
	row("… raft proposals committed/s; lease keep-alives/s (not writes: no revision, no proposal)",
		fmt.Sprintf("%.2f; %.2f", r.etcd["etcd_server_proposals_committed_total"], r.etcd["etcd_debugging_lease_renewed_total"]), "reported", "")
	bound := cs.lease + cs.interval
	row(fmt.Sprintf("kill -9 of %s (%d services) → every one run again by its new owner", r.victim, r.victimOwned),
		fmt.Sprintf("%.1f s (%.1f–%.1f s: last_check has whole seconds)", r.takeover.Seconds(), r.takeoverLow.Seconds(), r.takeover.Seconds()),
		fmt.Sprintf("≤ %v (lease + interval)", bound), yesNo(r.victimOwned > 0, r.takeover <= bound))
	row("… of which kill → its member key gone from etcd (lease expiry)", fmt.Sprintf("%.1f s", r.leaseGone.Seconds()), fmt.Sprintf("≤ %v", cs.lease), "")
	row("longest time any service was unowned (etcd's members vs the nodes' owned counts, 4 samples/s)",
		fmt.Sprintf("%.2f s (up to %d services)", r.unowned.longest.Seconds(), r.unowned.services), fmt.Sprintf("≤ %v", bound), yesNo(true, r.unowned.longest <= bound))
	row("longest time any service was owned twice", fmt.Sprintf("%.2f s (up to %d services)", r.twice.longest.Seconds(), r.twice.services),
		fmt.Sprintf("≤ %v", bound), yesNo(true, r.twice.longest <= bound))
	for _, s := range r.shares {
		runs := float64(s.owned) / cs.interval.Seconds() * r.window.Seconds()
		row(fmt.Sprintf("node %s: CPU (of a core); per 1,000 runs; RSS", s.node),
			fmt.Sprintf("%.1f%%; %.3f s; %.0f MiB", 100*r.nodeCPU[s.node], r.nodeCPU[s.node]*r.window.Seconds()*1000/runs, float64(r.nodeRSS[s.node])/1024),
			"reported", "")
	}
	row("start: last node started → shares settled; → every service run once; → every first result in etcd",
		fmt.Sprintf("%.1f s; %.1f s; %.1f s", r.settle.Seconds(), r.firstRuns.Seconds(), r.published.Seconds()), "reported", "")
	row("etcd puts from the first start to the window (one per service's first result)", fmt.Sprintf("%.0f", r.startPuts), "reported", "")
	return b.String()
}
