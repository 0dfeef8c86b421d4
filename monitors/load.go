package monitors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// loadavgMonitor replaces mon-local.d/loadavg.monitor: it fails when a
// load average exceeds its limit or RAM+swap use exceeds a percentage.
type loadavgMonitor struct {
	limits  [3]float64
	swapPct float64
}

const loadavgUsage = "loadavg.monitor L1 L5 L15 [SWAP%]"

func newLoadavg(args []string) (Monitor, error) {
	if len(args) < 3 || len(args) > 4 {
		return nil, fmt.Errorf("Usage min 5min 15min [%%swap]")
	}
	m := &loadavgMonitor{swapPct: 90}
	for i, a := range args {
		v, err := strconv.ParseFloat(a, 64)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%q: want a non-negative number", a)
		}
		if i < 3 {
			m.limits[i] = v
		} else {
			m.swapPct = v
		}
	}
	return m, nil
}

// readMeminfo returns /proc/meminfo's values in KiB, by name.
func readMeminfo() (map[string]float64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, err
	}
	info := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) > 0 {
			v, err := strconv.ParseFloat(f[0], 64)
			if err == nil {
				info[name] = v
			}
		}
	}
	return info, nil
}

func (m *loadavgMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	fail := func(err error) Result {
		return Result{Exit: 1, Output: fmt.Appendf(nil, "%v\n", err), Duration: time.Since(start)}
	}
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return fail(err)
	}
	fields := strings.Fields(string(data))
	if len(fields) < 3 {
		return fail(fmt.Errorf("/proc/loadavg: unexpected %q", data))
	}
	mem, err := readMeminfo()
	if err != nil {
		return fail(err)
	}
	metrics := map[string]float64{}
	var summary []string
	over := false
	for i, name := range []string{"load1", "load5", "load15"} {
		v, _ := strconv.ParseFloat(fields[i], 64)
		metrics[name] = v
		over = over || v > m.limits[i]
	}
	if over {
		summary = append(summary, fmt.Sprintf("%s %s %s >= %s %s %s", fields[0], fields[1], fields[2],
			fmtPerlNum(m.limits[0]), fmtPerlNum(m.limits[1]), fmtPerlNum(m.limits[2])))
	}
	swapUsed := mem["SwapTotal"] - mem["SwapFree"]
	used := 100 * (swapUsed + mem["MemTotal"] - mem["MemAvailable"]) / (mem["SwapTotal"] + mem["MemTotal"])
	metrics["swap_ram_used_pct"] = used
	if used > m.swapPct {
		summary = append(summary, fmt.Sprintf("Swap+RAM Use: %d%% > %d%%", int(used), int(m.swapPct)))
	}
	res := Result{Values: values("", metrics)}
	if len(summary) > 0 {
		res.Exit = 1
		res.Output = []byte(strings.Join(summary, "   ") + "\n" + loadDetail(mem, swapUsed))
	}
	res.Duration = time.Since(start)
	return res
}

// loadDetail lists what the script shows to explain a high load: processes
// in uninterruptible sleep, the top CPU and RAM users, swap use, and the
// system's pressure stall information.
func loadDetail(mem map[string]float64, swapUsed float64) string {
	procs := readProcTable()
	var b strings.Builder
	section := func(title string) {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(title + "\n")
	}
	const memFmt = "%8s %5s %6s %6s %s\n"

	var dstate []procInfo
	for _, p := range procs {
		if p.state == 'D' {
			dstate = append(dstate, p)
		}
	}
	if len(dstate) > 0 {
		section("Here are D state processes:")
		fmt.Fprintf(&b, memFmt, "USER", "PID", "VSZ", "RSS", "COMMAND")
		for _, p := range dstate {
			fmt.Fprintf(&b, memFmt, p.user, strconv.Itoa(p.pid), fmt2(p.vsize), fmt2(p.rss), p.command())
		}
	}

	sort.SliceStable(procs, func(i, j int) bool { return procs[i].pctcpu > procs[j].pctcpu })
	for i, p := range procs {
		if i > 9 || p.pctcpu < 5 {
			break
		}
		if i == 0 {
			section("Here are processes with the top CPU percentages:")
			fmt.Fprintf(&b, "%8s %5s %4s %s\n", "USER", "PID", "CPU", "COMMAND")
		}
		fmt.Fprintf(&b, "%8s %5d %4.1f %s\n", p.user, p.pid, p.pctcpu, p.command())
	}

	sort.SliceStable(procs, func(i, j int) bool { return procs[i].rss > procs[j].rss })
	for i, p := range procs {
		if i > 9 || mem["MemTotal"] == 0 || p.rss*100/1024/mem["MemTotal"] < 2 {
			break
		}
		if i == 0 {
			section("Here are processes with the top RAM use:")
			fmt.Fprintf(&b, memFmt, "USER", "PID", "VIRT", "RES", "COMMAND")
		}
		fmt.Fprintf(&b, memFmt, p.user, strconv.Itoa(p.pid), fmt2(p.vsize), fmt2(p.rss), p.command())
	}

	fmt.Fprintf(&b, "\nSwap Used: %s / %s\n", fmt2(swapUsed*1024), fmt2(mem["SwapTotal"]*1024))
	for _, r := range []string{"cpu", "io", "memory"} {
		if data, err := os.ReadFile("/proc/pressure/" + r); err == nil {
			fmt.Fprintf(&b, "%s pressure:\n%s", r, data)
		}
	}
	return b.String()
}

// fmt2 is the script's size format: 1000 and above scale by 1024 with
// three significant digits, e.g. 2.5GB.
func fmt2(n float64) string {
	suffix := []string{"", "K", "M", "G", "T", "P", "E"}
	i := 0
	for n >= 1000 && i < len(suffix)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0fB", n)
	}
	return strconv.FormatFloat(n, 'g', 3, 64) + suffix[i] + "B"
}

// procInfo is one process as loadavg's detail reports it.
type procInfo struct {
	pid        int
	state      byte
	user       string
	comm       string
	cmdline    string  // arguments joined by blanks
	vsize, rss float64 // bytes
	pctcpu     float64 // CPU time over lifetime, percent
}

// command is the command line cut to 60 bytes, or [comm] for kernel
// threads.
func (p procInfo) command() string {
	if p.cmdline == "" {
		return "[" + p.comm + "]"
	}
	if len(p.cmdline) > 60 {
		return p.cmdline[:60]
	}
	return p.cmdline
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// readProcTable reads every process it can from /proc; processes that
// vanish meanwhile are skipped.
func readProcTable() []procInfo {
	uptime := 0.0
	if data, err := os.ReadFile("/proc/uptime"); err == nil {
		fmt.Sscan(string(data), &uptime)
	}
	users := map[uint32]string{}
	pageSize := float64(os.Getpagesize())
	ents, _ := os.ReadDir("/proc")
	var out []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open {
			continue
		}
		// Fields after the comm, numbered from 3 (state) as in proc(5).
		f := strings.Fields(string(stat[end+1:]))
		if len(f) < 22 {
			continue
		}
		num := func(field int) float64 { v, _ := strconv.ParseFloat(f[field-3], 64); return v }
		p := procInfo{pid: pid, state: f[0][0], comm: string(stat[open+1 : end])}
		p.vsize = num(23)
		p.rss = num(24) * pageSize
		if life := uptime - num(22)/clockTicks; life > 0 {
			p.pctcpu = 100 * (num(14) + num(15)) / clockTicks / life
		}
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		p.cmdline = strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if fi, err := os.Stat(dir); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				p.user = userName(users, st.Uid)
			}
		}
		out = append(out, p)
	}
	return out
}

// userName maps a uid to a login name, caching lookups; unknown uids
// print as numbers, as the script does.
func userName(cache map[uint32]string, uid uint32) string {
	if n, ok := cache[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	cache[uid] = n
	return n
}

func init() {
	Register(&Builtin{Name: "loadavg", Aliases: []string{"loadavg.monitor"}, Usage: loadavgUsage, New: newLoadavg})
}
