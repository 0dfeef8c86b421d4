package monitors

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// vmstatMonitor checks memory, swap and CPU wait/steal shares against
// thresholds; the CPU shares come from two /proc/stat samples.
type vmstatMonitor struct {
	minMemAvail float64 // % of MemTotal
	maxSwapUsed float64 // % of SwapTotal
	maxIOWait   float64 // % of CPU time
	maxSteal    float64 // % of CPU time
	sample      time.Duration
}

const vmstatUsage = "vmstat [-mem-available PCT] [-swap-used PCT] [-iowait PCT] [-steal PCT] [-sample DURATION]"

func newVmstat(args []string) (Monitor, error) {
	fs := flag.NewFlagSet("vmstat", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	m := &vmstatMonitor{}
	fs.Float64Var(&m.minMemAvail, "mem-available", 10, "minimum available memory, % of RAM")
	fs.Float64Var(&m.maxSwapUsed, "swap-used", 50, "maximum swap use, %")
	fs.Float64Var(&m.maxIOWait, "iowait", 30, "maximum CPU iowait, %")
	fs.Float64Var(&m.maxSteal, "steal", 20, "maximum CPU steal, %")
	fs.DurationVar(&m.sample, "sample", time.Second, "CPU sampling interval")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if m.sample <= 0 || m.sample > time.Minute {
		return nil, fmt.Errorf("-sample %v: want between 0 and 1m", m.sample)
	}
	return m, nil
}

// cpuTicks indexes the aggregate cpu line of /proc/stat.
const (
	cpuIOWait = 4
	cpuSteal  = 7
)

// readProcStatCPU returns the aggregate "cpu" line of /proc/stat in ticks:
// user nice system idle iowait irq softirq steal guest guest_nice.
func readProcStatCPU() ([]float64, error) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > cpuSteal+1 && fields[0] == "cpu" {
			vals := make([]float64, len(fields)-1)
			for i, s := range fields[1:] {
				vals[i], _ = strconv.ParseFloat(s, 64)
			}
			return vals, nil
		}
	}
	return nil, fmt.Errorf("/proc/stat: no cpu line")
}

func (m *vmstatMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	fail := func(err error) Result {
		return Result{Exit: 1, Output: fmt.Appendf(nil, "vmstat: %v\n", err), Duration: time.Since(start)}
	}
	before, err := readProcStatCPU()
	if err != nil {
		return fail(err)
	}
	select {
	case <-time.After(m.sample):
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	after, err := readProcStatCPU()
	if err != nil {
		return fail(err)
	}
	mem, err := readMeminfo()
	if err != nil {
		return fail(err)
	}
	// Guest time is already counted in user time: leave it out of the total.
	var total float64
	for i := 0; i < len(after) && i < 8; i++ {
		total += after[i] - before[i]
	}
	share := func(i int) float64 {
		if total <= 0 {
			return 0
		}
		return 100 * (after[i] - before[i]) / total
	}
	pct := func(part, whole float64) float64 {
		if whole <= 0 {
			return 0
		}
		return 100 * part / whole
	}
	metrics := map[string]float64{
		"mem_available_pct": pct(mem["MemAvailable"], mem["MemTotal"]),
		"swap_used_pct":     pct(mem["SwapTotal"]-mem["SwapFree"], mem["SwapTotal"]),
		"iowait_pct":        share(cpuIOWait),
		"steal_pct":         share(cpuSteal),
	}
	var problems []string
	check := func(bad bool, format string, v, limit float64) {
		if bad {
			problems = append(problems, fmt.Sprintf(format, v, limit))
		}
	}
	check(metrics["mem_available_pct"] < m.minMemAvail, "memory available %.1f%% < %g%%", metrics["mem_available_pct"], m.minMemAvail)
	check(metrics["swap_used_pct"] > m.maxSwapUsed, "swap used %.1f%% > %g%%", metrics["swap_used_pct"], m.maxSwapUsed)
	check(metrics["iowait_pct"] > m.maxIOWait, "iowait %.1f%% > %g%%", metrics["iowait_pct"], m.maxIOWait)
	check(metrics["steal_pct"] > m.maxSteal, "steal %.1f%% > %g%%", metrics["steal_pct"], m.maxSteal)

	res := Result{Values: values("", metrics), Duration: time.Since(start)}
	if len(problems) > 0 {
		res.Exit = 1
		res.Output = fmt.Appendf(nil, "%s\nmemory available %.1f%% of %s, swap used %.1f%% of %s, iowait %.1f%%, steal %.1f%% over %v\n",
			strings.Join(problems, ", "),
			metrics["mem_available_pct"], fmt2(mem["MemTotal"]*1024),
			metrics["swap_used_pct"], fmt2(mem["SwapTotal"]*1024),
			metrics["iowait_pct"], metrics["steal_pct"], m.sample)
	}
	return res
}

func init() {
	Register(&Builtin{Name: "vmstat", Usage: vmstatUsage, New: newVmstat})
}
