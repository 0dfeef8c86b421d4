package faults

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clkTck is USER_HZ, the unit of /proc/PID/stat times; 100 on every
// Linux architecture Go supports.
const clkTck = 100

// procStat is the part of /proc/PID/stat the suite reads.
type procStat struct {
	state     string
	ppid      int
	startTime float64 // seconds after boot
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may contain blanks and parentheses; the fields
	// after its last ')' do not.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseFloat(f[19], 64) // field 22, starttime
	return procStat{state: f[0], ppid: ppid, startTime: start / clkTck}, nil
}

// pids lists the processes now running.
func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// zombieChildren lists the children of pid that have exited and not
// been reaped.
func zombieChildren(pid int) []int {
	var out []int
	for _, p := range pids() {
		if st, err := readStat(p); err == nil && st.state == "Z" && st.ppid == pid {
			out = append(out, p)
		}
	}
	return out
}

// persistentZombies lists the zombie children of pid that are still
// unreaped half a second later: a child is a zombie for a moment
// between its exit and the daemon's wait, which is not a leak.
func persistentZombies(pid int) []int {
	first := zombieChildren(pid)
	if len(first) == 0 {
		return nil
	}
	time.Sleep(500 * time.Millisecond)
	var out []int
	for _, z := range zombieChildren(pid) {
		if slices.Contains(first, z) {
			out = append(out, z)
		}
	}
	return out
}

// tagged is a process whose argv carries the run's tag.
type tagged struct {
	pid     int
	cmdline string
	age     time.Duration
}

// taggedProcs lists the live processes (not zombies) with an argument
// ending in ".TAG": the suite's monitors' sleepers (sleep 3001.TAG …).
func taggedProcs(tag string) []tagged {
	up := uptime()
	var out []tagged
	for _, p := range pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if err != nil || !slices.ContainsFunc(strings.Split(string(b), "\x00"), func(arg string) bool {
			return strings.HasSuffix(arg, "."+tag)
		}) {
			continue
		}
		st, err := readStat(p)
		if err != nil || st.state == "Z" {
			continue
		}
		out = append(out, tagged{pid: p, cmdline: strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " ")),
			age: time.Duration((up - st.startTime) * float64(time.Second))})
	}
	return out
}

// uptime is the seconds since boot, the clock of /proc/PID/stat.
func uptime() float64 {
	b, _ := os.ReadFile("/proc/uptime")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// killProc kills one leftover process by its id.
func killProc(pid int) { syscall.Kill(pid, syscall.SIGKILL) }

// usage is a daemon's resources at one moment.
type usage struct {
	at      time.Time
	rssKiB  int
	threads int
	fds     int
}

func readUsage(pid int) (usage, error) {
	u := usage{at: time.Now()}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		switch k {
		case "VmRSS":
			u.rssKiB, _ = strconv.Atoi(v)
		case "Threads":
			u.threads, _ = strconv.Atoi(v)
		}
	}
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return u, err
	}
	u.fds = len(ents)
	return u, nil
}

// median of a copy of xs; 0 when empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
