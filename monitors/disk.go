package monitors

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// This file holds freespace.monitor (mon-local.d) and df, a friendlier
// free-space check with byte units and an all-filesystems mode.

// fsStat is what statfs tells about one filesystem, in bytes.
type fsStat struct {
	total, avail uint64 // avail: free to unprivileged users
	files, ffree uint64 // inodes; files == 0: not reported
}

func statFS(path string) (fsStat, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fsStat{}, err
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return fsStat{total: st.Blocks * bs, avail: st.Bavail * bs, files: st.Files, ffree: st.Ffree}, nil
}

type mountEntry struct{ dir, fstype string }

// readMounts lists mounted filesystems from a mounts(5) table.
func readMounts(file string) ([]mountEntry, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 3 {
			out = append(out, mountEntry{dir: unescapeMount(fields[1]), fstype: fields[2]})
		}
	}
	return out, sc.Err()
}

// unescapeMount undoes the octal escapes (\040 for a blank) of mounts(5).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

const mountsFile = "/proc/self/mounts"

// freespaceMonitor replaces freespace.monitor.
type freespaceMonitor struct{ checks []freespaceCheck }

type freespaceCheck struct {
	path      string
	minAvail  string // as written: KiB, or with M/G/T, or N%
	minInodes string // count or N%; "" = the default 10 %
}

const freespaceUsage = "freespace.monitor PATH:MIN[:MININODES] ... (MIN in KiB, or NM/NG/NT, or N%)"

var numPrefixRE = regexp.MustCompile(`^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)`)
var percentRE = regexp.MustCompile(`([0-9]+(\.[0-9]+)?)%`)

func newFreespace(args []string) (Monitor, error) {
	m := &freespaceMonitor{}
	for _, a := range args {
		parts := strings.SplitN(a, ":", 3)
		c := freespaceCheck{path: parts[0]}
		if len(parts) > 1 {
			c.minAvail = parts[1]
			if !percentRE.MatchString(c.minAvail) && !numPrefixRE.MatchString(c.minAvail) {
				return nil, fmt.Errorf("%q: %q is not a size", a, c.minAvail)
			}
		}
		if len(parts) > 2 {
			c.minInodes = parts[2]
			if !percentRE.MatchString(c.minInodes) && !numPrefixRE.MatchString(c.minInodes) {
				return nil, fmt.Errorf("%q: %q is not an inode count", a, c.minInodes)
			}
		}
		m.checks = append(m.checks, c)
	}
	return m, nil
}

// perlNum is Perl's numeric value of a string: its leading number, or 0.
func perlNum(s string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(numPrefixRE.FindString(s)), 64)
	return f
}

func (m *freespaceMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	mounts, err := readMounts(mountsFile)
	if err != nil {
		return Result{Exit: 1, Output: fmt.Appendf(nil, "cannot list mounts: %v\n", err)}
	}
	var failures []string
	for _, c := range m.checks {
		failures = append(failures, c.run(mounts)...)
	}
	res := Result{Duration: time.Since(start)}
	if len(failures) > 0 {
		res.Exit = 1
		res.Output = []byte(strings.Join(failures, ", ") + "\n")
	}
	return res
}

func (c freespaceCheck) run(mounts []mountEntry) []string {
	mounted := false
	for _, me := range mounts {
		mounted = mounted || me.dir == c.path
	}
	if !mounted {
		return []string{c.path + " is not a mount point"}
	}
	st, err := statFS(c.path)
	if err == nil && st.total == 0 {
		// Filesys::Df gives up on filesystems without blocks (/proc).
		err = errors.New("no block counts reported")
	}
	if err != nil {
		return []string{fmt.Sprintf("statfs error for %s: %v", c.path, err)}
	}
	// The script works in KiB, as Filesys::Df reports.
	totalK, availK := float64(st.total)/1024, float64(st.avail)/1024
	var minK float64
	if p := percentRE.FindStringSubmatch(c.minAvail); p != nil {
		pct, _ := strconv.ParseFloat(p[1], 64)
		minK = float64(int64(totalK * pct / 100))
	} else {
		minK = perlNum(c.minAvail)
		switch {
		case strings.HasSuffix(c.minAvail, "M"), strings.HasSuffix(c.minAvail, "m"):
			minK *= 1024
		case strings.HasSuffix(c.minAvail, "G"), strings.HasSuffix(c.minAvail, "g"):
			minK *= 1024 * 1024
		case strings.HasSuffix(c.minAvail, "T"), strings.HasSuffix(c.minAvail, "t"):
			minK *= 1024 * 1024 * 1024
		}
	}
	minInodes := -1.0 // no inode check
	switch {
	case c.minInodes != "" && st.files == 0:
		return []string{c.path + " doesn't tell us how many Inodes are free"}
	case c.minInodes != "":
		if p := percentRE.FindStringSubmatch(c.minInodes); p != nil {
			pct, _ := strconv.ParseFloat(p[1], 64)
			minInodes = float64(int64(float64(st.files) * pct / 100))
		} else {
			minInodes = perlNum(c.minInodes)
		}
	case st.files > 0:
		minInodes = float64(st.files / 10)
	}
	var failures []string
	if availK < minK {
		failures = append(failures, fmt.Sprintf("%1.1fGB free on %s", availK/1024/1024, c.path))
	}
	if minInodes >= 0 && float64(st.ffree) < minInodes {
		failures = append(failures, fmt.Sprintf("%d inodes free on %s", st.ffree, c.path))
	}
	return failures
}

// dfMonitor checks free space and inodes with thresholds in bytes or
// percent, on listed mount points or on every mounted filesystem.
type dfMonitor struct {
	free, ifree threshold
	exclude     map[string]bool // filesystem types skipped in all-mounts mode
	checks      []dfCheck       // empty: every mounted filesystem
}

type dfCheck struct {
	path        string
	free, ifree threshold
}

// threshold is a minimum in absolute units or in percent of the total.
type threshold struct {
	value   float64
	percent bool
}

func (t threshold) min(total uint64) float64 {
	if t.percent {
		return float64(total) * t.value / 100
	}
	return t.value
}

func (t threshold) String() string {
	if t.percent {
		return fmtPerlNum(t.value) + "%"
	}
	return humanBytes(t.value)
}

const dfUsage = "df [-free SIZE|N%] [-ifree COUNT|N%] [-x FSTYPE,...] [MOUNT[:FREE[:IFREE]] ...]"

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*(%|[KkMmGgTtPp]?(?:i?B)?)$`)

// parseThreshold reads "10%", "512M", "2GiB", "100000" (bytes, or a plain
// count when counting inodes).
func parseThreshold(s string, count bool) (threshold, error) {
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || (count && m[2] != "%" && m[2] != "") {
		return threshold{}, fmt.Errorf("%q: want a size like 10%%, 512M or 2G", s)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	if m[2] == "%" {
		if v > 100 {
			return threshold{}, fmt.Errorf("%q: more than 100%%", s)
		}
		return threshold{value: v, percent: true}, nil
	}
	if m[2] != "" {
		shift := strings.IndexByte("KMGTP", strings.ToUpper(m[2])[0]) + 1
		v *= float64(uint64(1) << (10 * shift))
	}
	return threshold{value: v}, nil
}

func newDf(args []string) (Monitor, error) {
	fs := flag.NewFlagSet("df", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	free := fs.String("free", "10%", "minimum free space")
	ifree := fs.String("ifree", "5%", "minimum free inodes")
	exclude := fs.String("x", "squashfs,iso9660,overlay", "filesystem types to skip when checking every mount")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	m := &dfMonitor{exclude: map[string]bool{}}
	var err error
	if m.free, err = parseThreshold(*free, false); err != nil {
		return nil, fmt.Errorf("-free %w", err)
	}
	if m.ifree, err = parseThreshold(*ifree, true); err != nil {
		return nil, fmt.Errorf("-ifree %w", err)
	}
	for _, t := range strings.Split(*exclude, ",") {
		if t != "" {
			m.exclude[t] = true
		}
	}
	for _, a := range fs.Args() {
		parts := strings.SplitN(a, ":", 3)
		c := dfCheck{path: parts[0], free: m.free, ifree: m.ifree}
		if len(parts) > 1 && parts[1] != "" {
			if c.free, err = parseThreshold(parts[1], false); err != nil {
				return nil, err
			}
		}
		if len(parts) > 2 && parts[2] != "" {
			if c.ifree, err = parseThreshold(parts[2], true); err != nil {
				return nil, err
			}
		}
		m.checks = append(m.checks, c)
	}
	return m, nil
}

func (m *dfMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	mounts, err := readMounts(mountsFile)
	if err != nil {
		return Result{Exit: 1, Output: fmt.Appendf(nil, "cannot list mounts: %v\n", err)}
	}
	checks := m.checks
	explicit := len(checks) > 0
	if !explicit {
		seen := map[string]bool{}
		for _, me := range mounts {
			if !seen[me.dir] && !m.exclude[me.fstype] {
				seen[me.dir] = true
				checks = append(checks, dfCheck{path: me.dir, free: m.free, ifree: m.ifree})
			}
		}
	}
	var failed []string
	var detail strings.Builder
	metrics := map[string]float64{}
	for _, c := range checks {
		line, ok := c.run(mounts, explicit, metrics)
		if line == "" {
			continue
		}
		detail.WriteString(line + "\n")
		if !ok {
			failed = append(failed, c.path)
		}
	}
	res := Result{Values: values("", metrics), Duration: time.Since(start)}
	if len(failed) > 0 {
		sort.Strings(failed)
		res.Exit = 1
		res.Output = []byte(strings.Join(failed, " ") + "\n" + detail.String())
	}
	return res
}

// run checks one mount point and describes it in one line. Outside
// explicit mode, filesystems without block counts (/proc, /sys) are
// skipped with an empty line.
func (c dfCheck) run(mounts []mountEntry, explicit bool, metrics map[string]float64) (string, bool) {
	mounted := false
	for _, me := range mounts {
		mounted = mounted || me.dir == c.path
	}
	if !mounted {
		return c.path + ": not a mount point", false
	}
	st, err := statFS(c.path)
	if err != nil {
		// A mount we cannot stat only fails when it was asked for.
		return fmt.Sprintf("%s: statfs: %v", c.path, err), !explicit
	}
	if st.total == 0 {
		if !explicit {
			return "", true
		}
		return c.path + ": reports no block counts", false
	}
	ok := true
	line := fmt.Sprintf("%s: %s free of %s (%.1f%%)", c.path, humanBytes(float64(st.avail)),
		humanBytes(float64(st.total)), 100*float64(st.avail)/float64(st.total))
	metrics[c.path+":free_bytes"] = float64(st.avail)
	if float64(st.avail) < c.free.min(st.total) {
		ok = false
		line += ", below " + c.free.String()
	}
	if st.files > 0 {
		line += fmt.Sprintf("; %d inodes free (%.1f%%)", st.ffree, 100*float64(st.ffree)/float64(st.files))
		metrics[c.path+":free_inodes"] = float64(st.ffree)
		if float64(st.ffree) < c.ifree.min(st.files) {
			ok = false
			line += ", below " + c.ifree.String()
		}
	}
	return line, ok
}

// humanBytes prints a byte count with a binary unit, e.g. 1.5GiB.
func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0fB", v)
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

func init() {
	Register(&Builtin{Name: "freespace", Aliases: []string{"freespace.monitor"}, Usage: freespaceUsage, New: newFreespace})
	Register(&Builtin{Name: "df", Usage: dfUsage, New: newDf})
}
