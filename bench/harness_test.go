package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/testnet"
)

// realMon is where Debian's mon package installs the original daemon.
const realMon = "/usr/sbin/mon"

// clkTck is USER_HZ, the unit of the CPU times in /proc/PID/stat; it is
// 100 on every Linux architecture Go supports.
const clkTck = 100

// tools are the programs every measurement needs, built once.
type tools struct {
	gomon    string // gomon's daemon
	stamp    string // testdata/stamp.c, the monitor's and alerts' body
	refsched string // testdata/refsched.c, the reference scheduler
}

// buildTools compiles the stamp helper, the reference scheduler and,
// unless a prebuilt gomon is given, gomon into dir.
func buildTools(dir, gomon string) (tools, error) {
	tl := tools{stamp: filepath.Join(dir, "stamp"), refsched: filepath.Join(dir, "refsched")}
	var err error
	if tl.gomon, err = buildGomon(dir, gomon); err != nil {
		return tl, err
	}
	if err := buildStamp(tl.stamp); err != nil {
		return tl, err
	}
	if err := buildC(tl.refsched, "testdata/refsched.c"); err != nil {
		return tl, err
	}
	return tl, nil
}

// buildGomon compiles gomon's daemon into dir, unless prebuilt names one.
func buildGomon(dir, prebuilt string) (string, error) {
	if prebuilt != "" {
		return prebuilt, nil
	}
	bin := filepath.Join(dir, "gomon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gomon/gomon/cmd/mon").CombinedOutput(); err != nil {
		return "", fmt.Errorf("building gomon: %w\n%s", err, out)
	}
	return bin, nil
}

// errNoCC means there is no C compiler to build the stamp helper.
var errNoCC = errors.New("no C compiler (cc) found; install gcc")

func buildStamp(path string) error {
	// Static: recording the time costs one exec and no dynamic linking.
	return buildC(path, "testdata/stamp.c", "-static")
}

// buildC compiles one of the harness's C programs.
func buildC(path, src string, flags ...string) error {
	cc, err := exec.LookPath("cc")
	if err != nil {
		return errNoCC
	}
	args := append([]string{"-O2", "-o", path, src}, flags...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %w\n%s", src, err, out)
	}
	return nil
}

// workDir is one daemon's directory, laid out as mon's -b/-D/-L/-a/-s
// options expect.
type workDir string

func newWorkDir(t *testing.T, tl tools) workDir {
	t.Helper()
	w := workDir(t.TempDir())
	for _, d := range []string{"mon.d", "alert.d", "state", "log"} {
		if err := os.Mkdir(w.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := "'" + tl.stamp + "' "
	scripts := map[string]string{
		// $1 is the single host of the service's group.
		"mon.d/bench.monitor": "exec " + s + w.quoted("runs.log") + ` "$1"`,
		"mon.d/flag.monitor":  "exec " + s + "-f " + w.quoted("flag") + " " + w.quoted("runs.log") + ` "$1"`,
		"alert.d/fail.alert":  "exec " + s + "-i " + w.quoted("alerts.log") + " failure",
		"alert.d/up.alert":    "exec " + s + "-i " + w.quoted("alerts.log") + " up",
	}
	for name, body := range scripts {
		if err := os.WriteFile(w.path(name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	auth := "command section\nlist: all\nversion: all\n\ntrap section\n* * *\n"
	if err := os.WriteFile(w.path("auth.cf"), []byte(auth), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w workDir) path(name string) string   { return filepath.Join(string(w), name) }
func (w workDir) quoted(name string) string { return "'" + w.path(name) + "'" }

func (w workDir) writeConfig(t *testing.T, cf string) {
	t.Helper()
	if err := os.WriteFile(w.path("mon.cf"), []byte(cf), 0o644); err != nil {
		t.Fatal(err)
	}
}

// daemon is a running mon, gomon or reference scheduler.
type daemon struct {
	cmd  *exec.Cmd
	port string        // its client port, once startDaemon has it
	done chan struct{} // closed once the process has been reaped
}

// startDaemon runs bin on w's mon.cf with mon's full command line (plus
// extra options) and waits until its client port answers.
func startDaemon(t *testing.T, bin string, w workDir, extra ...string) *daemon {
	t.Helper()
	port := freePort(t)
	args := []string{
		"-c", w.path("mon.cf"), "-p", port, "-t", port,
		"-b", string(w), "-B", string(w), "-D", w.path("state"), "-L", w.path("log"),
		"-P", w.path("mon.pid"), "-a", w.path("alert.d"), "-s", w.path("mon.d"),
		"-A", w.path("auth.cf"),
	}
	os.Remove(w.path("mon.pid"))
	d := startProcess(t, w, bin, append(args, extra...)...)
	d.port = port
	// mon and gomon write the pid file once their sockets listen; the
	// wait ends early if the daemon exits instead.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second) // mon parses 3,000 watches slowly
	defer cancel()
	go func() {
		select {
		case <-d.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	_, err := await.File(ctx, w.path("mon.pid"), func(b []byte) bool { return bytes.HasSuffix(b, []byte("\n")) })
	select {
	case <-d.done:
		errText, _ := os.ReadFile(w.path("daemon.err"))
		t.Fatalf("%s exited during start-up: %v\n%s", bin, d.cmd.ProcessState, errText)
	default:
	}
	if err != nil {
		t.Fatalf("%s did not start: %v", bin, err)
	}
	c, err := net.DialTimeout("tcp4", "127.0.0.1:"+port, time.Second)
	if err != nil {
		t.Fatalf("%s wrote its pid file but port %s does not answer: %v", bin, port, err)
	}
	c.Close()
	return d
}

// startRefsched runs the reference scheduler on n services of w's
// benchmark monitor.
func startRefsched(t *testing.T, tl tools, w workDir, n int) *daemon {
	t.Helper()
	return startProcess(t, w, tl.refsched, strconv.Itoa(n), w.path("mon.d/bench.monitor"))
}

// startProcess runs bin in w with a clean environment and its output in
// w's daemon.err; it is stopped when the test ends.
func startProcess(t *testing.T, w workDir, bin string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = string(w)
	cmd.Env = cleanEnv()
	errFile, err := os.Create(w.path("daemon.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd.Stdout, cmd.Stderr = errFile, errFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(d.done) }()
	t.Cleanup(d.stop)
	return d
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// stop sends SIGTERM and, if the daemon lingers, SIGKILL.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
	}
}

// cleanEnv is our environment without mon's variables, so nothing leaks
// into the daemon's monitors and alerts.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MON_") || strings.HasPrefix(kv, "MONHOST=") || strings.HasPrefix(kv, "MONPORT=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	return strconv.Itoa(testnet.Port(t))
}

// cpuTime is a process's own user+system CPU time (not its children's).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces; the fields after it do not.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * time.Second / clkTck, nil
}

// rssKiB is a process's resident set size (VmRSS).
func rssKiB(pid int) (int, error) { return statusKiB(pid, "VmRSS") }

// statusKiB is one of the memory fields of /proc/PID/status, in KiB.
// RssAnon is a process's private memory; RssFile the pages of files it
// maps (its binary and libraries), which the page cache shares.
func statusKiB(pid int, field string) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// stamp is one line written by the stamp helper.
type stamp struct {
	label  string // host name for monitors, "failure"/"up" for alerts
	at     time.Time
	failed bool // the monitor saw the flag file
}

// readStamps parses a stamp log; a missing file is an empty log.
func readStamps(path string) ([]stamp, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []stamp
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		st, err := parseStamp(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, st)
	}
	return out, sc.Err()
}

func parseStamp(line string) (stamp, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return stamp{}, fmt.Errorf("bad stamp line %q", line)
	}
	secText, nsecText, _ := strings.Cut(f[1], ".")
	sec, err1 := strconv.ParseInt(secText, 10, 64)
	nsec, err2 := strconv.ParseInt(nsecText, 10, 64)
	if err1 != nil || err2 != nil {
		return stamp{}, fmt.Errorf("bad time in stamp line %q", line)
	}
	return stamp{label: f[0], at: time.Unix(sec, nsec), failed: f[2] == "fail"}, nil
}

// spawnLoopEnv, when set in the environment, makes the test binary a
// spawner process (see TestMain): it runs the script named by the
// variable in a tight loop for spawnLoopTimeEnv and prints its counts.
const (
	spawnLoopEnv     = "BENCH_SPAWN_LOOP_SCRIPT"
	spawnLoopTimeEnv = "BENCH_SPAWN_LOOP_TIME"
)

func TestMain(m *testing.M) {
	if script := os.Getenv(spawnLoopEnv); script != "" {
		os.Exit(spawnLoopMain(script, os.Getenv(spawnLoopTimeEnv)))
	}
	os.Exit(m.Run())
}

// spawnLoopMain runs script, each run with its stdout and stderr captured
// through a pipe as a scheduler does, until the time is up, and prints
// "spawns ELAPSED_NS CPU_NS" (CPU is this process's own).
func spawnLoopMain(script, duration string) int {
	d, err := time.ParseDuration(duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cpu0, err := selfCPU()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		if out, err := exec.Command(script, "ceiling").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v: %s\n", script, err, out)
			return 1
		}
		n++
	}
	elapsed := time.Since(start)
	cpu1, err := selfCPU()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(n, int64(elapsed), int64(cpu1-cpu0))
	return 0
}

// spawnCeiling runs `parallel` spawner processes (separate processes, as
// separate programs would be, so they share no Go runtime lock) looping
// over script for d. It returns their total spawns per second and their
// own CPU time per 1,000 spawns: what a Go program spends on os/exec alone.
func spawnCeiling(ctx context.Context, script string, parallel int, d time.Duration) (float64, time.Duration, error) {
	cmds := make([]*exec.Cmd, parallel)
	outs := make([]*strings.Builder, parallel)
	for i := range cmds {
		outs[i] = &strings.Builder{}
		cmds[i] = exec.CommandContext(ctx, os.Args[0])
		cmds[i].Env = append(os.Environ(), spawnLoopEnv+"="+script, spawnLoopTimeEnv+"="+d.String())
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			return 0, 0, err
		}
	}
	var rate float64
	var spawns int64
	var cpu time.Duration
	var errs []error
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("spawner: %w: %s", err, outs[i]))
			continue
		}
		var n, elapsed, cpuNs int64
		if _, err := fmt.Sscan(outs[i].String(), &n, &elapsed, &cpuNs); err != nil || n == 0 || elapsed <= 0 {
			errs = append(errs, fmt.Errorf("spawner printed %q", outs[i]))
			continue
		}
		rate += float64(n) / time.Duration(elapsed).Seconds()
		spawns += n
		cpu += time.Duration(cpuNs)
	}
	if err := errors.Join(errs...); err != nil {
		return 0, 0, err
	}
	return rate, cpu * 1000 / time.Duration(spawns), nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// percentile is the nearest-rank p-th percentile (0 < p <= 1) of sorted.
func percentile[T any](sorted []T, p float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// gapStats describes the time between consecutive starts of each service.
type gapStats struct {
	n             int // gaps measured
	p50, p99, max time.Duration
	devP99        time.Duration // p99 of |gap - interval|
	within        float64       // fraction of gaps within interval ± tolerance
	covered       int           // services that ran at least twice
}

// gaps computes gapStats from each service's start times.
func gaps(starts map[string][]time.Time, interval, tolerance time.Duration) gapStats {
	var all, dev []time.Duration
	var g gapStats
	for _, ts := range starts {
		slices.SortFunc(ts, time.Time.Compare)
		if len(ts) >= 2 {
			g.covered++
		}
		for i := 1; i < len(ts); i++ {
			d := ts[i].Sub(ts[i-1])
			all = append(all, d)
			dev = append(dev, (d - interval).Abs())
		}
	}
	if len(all) == 0 {
		return g
	}
	slices.Sort(all)
	slices.Sort(dev)
	in := 0
	for _, d := range dev {
		if d <= tolerance {
			in++
		}
	}
	g.n = len(all)
	g.p50, g.p99, g.max = percentile(all, 0.5), percentile(all, 0.99), all[len(all)-1]
	g.devP99 = percentile(dev, 0.99)
	g.within = float64(in) / float64(len(all))
	return g
}
