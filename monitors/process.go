package monitors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// psMonitor replaces mon-local.d/ps.monitor: it counts local processes by
// name and fails when a count is outside its range.
type psMonitor struct {
	watches []psWatch
	pid     int // -x PID: only report the name of this process
}

type psWatch struct {
	name     string
	min, max int // 0 = no bound, as in the script
}

const psUsage = "ps.monitor NAME:[MIN]-[MAX] ... | -x PID"

// The script's pattern, unanchored like Perl's m//.
var psArgRE = regexp.MustCompile(`([^:]+):([0-9]*)-([0-9]*)`)

// Interpreters whose script, not the interpreter, names the process.
var psInterpreters = map[string]bool{
	"perl": true, "python": true, "python3": true, "python3.9": true, "lua5.1": true, "lua5.2": true,
}

func newPs(args []string) (Monitor, error) {
	if len(args) > 0 && strings.Contains(args[0], "-x") {
		if len(args) < 2 {
			return nil, fmt.Errorf("-x needs a PID")
		}
		pid, err := strconv.Atoi(args[1])
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-x %q: want a PID", args[1])
		}
		return &psMonitor{pid: pid}, nil
	}
	m := &psMonitor{}
	seen := map[string]int{}
	for _, a := range args {
		sub := psArgRE.FindStringSubmatch(a)
		if sub == nil {
			return nil, fmt.Errorf("Can't parse %q", a)
		}
		w := psWatch{name: sub[1]}
		// Perl's `$min || $count`: empty and 0 both mean "no bound".
		w.min, _ = strconv.Atoi(sub[2])
		w.max, _ = strconv.Atoi(sub[3])
		if i, dup := seen[w.name]; dup {
			m.watches[i] = w // a later argument for the same name wins
			continue
		}
		seen[w.name] = len(m.watches)
		m.watches = append(m.watches, w)
	}
	if len(m.watches) == 0 {
		return nil, fmt.Errorf("no NAME:[MIN]-[MAX] arguments")
	}
	return m, nil
}

func (m *psMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	procs, err := readProcNames("/proc")
	if err != nil {
		return Result{Exit: 1, Output: []byte(err.Error() + "\n"), Duration: time.Since(start)}
	}
	if m.pid != 0 {
		for _, p := range procs {
			if p.pid == m.pid {
				out := fmt.Sprintf("PID:%d has name %q\n", m.pid, p.name)
				return Result{Output: []byte(out), Duration: time.Since(start)}
			}
		}
		return Result{Duration: time.Since(start)}
	}

	counts := map[string]int{}
	for _, p := range procs {
		counts[p.name]++
		if p.longName != "" {
			counts[p.longName]++
		}
	}
	var sum, detail strings.Builder
	metrics := map[string]float64{}
	for _, w := range m.watches {
		n := counts[w.name]
		metrics[w.name] = float64(n)
		lo, hi := w.min, w.max
		if lo == 0 {
			lo = n
		}
		if hi == 0 {
			hi = n
		}
		switch {
		case n < lo:
			fmt.Fprintf(&sum, "%s:%d ", w.name, n)
			fmt.Fprintf(&detail, "%s:%d < %d (%d-%d)\n", w.name, n, lo, lo, hi)
		case n > hi:
			fmt.Fprintf(&sum, "%s:%d ", w.name, n)
			fmt.Fprintf(&detail, "%s:%d > %d (%d-%d)\n", w.name, n, hi, lo, hi)
		}
	}
	res := Result{Values: values("", metrics), Duration: time.Since(start)}
	if sum.Len() > 0 {
		res.Exit = 1
		res.Output = []byte(sum.String() + "\n" + detail.String())
	}
	return res
}

// taskCommLen is the kernel's comm buffer size, NUL included.
const taskCommLen = 16

type procName struct {
	pid  int
	name string
	// longName is the untruncated name when the kernel's 15-byte comm
	// cut it short (an extension: the script never matches such names).
	longName string
}

// readProcNames names every process the way ps.monitor does: the base
// name of the kernel's comm up to the first blank, or for an interpreter
// the base name of the first argument.
func readProcNames(proc string) ([]procName, error) {
	ents, err := os.ReadDir(proc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", proc, err)
	}
	var out []procName
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		dir := filepath.Join(proc, e.Name())
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue // the process exited meanwhile
		}
		open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
		if open < 0 || end < open {
			continue
		}
		comm := string(stat[open+1 : end])
		cmdline, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")

		p := procName{pid: pid, name: psBase(comm)}
		if psInterpreters[p.name] {
			// The script splits the blank-joined command line on blanks.
			words := strings.Split(strings.Join(argv, " "), " ")
			p.name = ""
			if len(words) > 1 {
				p.name = psBase(words[1])
			}
		} else if len(comm) == taskCommLen-1 {
			if long := psBase(argv[0]); len(long) > len(p.name) && strings.HasPrefix(long, p.name) {
				p.longName = long
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// psBase is the text after the last '/', cut at the first blank.
func psBase(s string) string {
	s = s[strings.LastIndexByte(s, '/')+1:]
	s, _, _ = strings.Cut(s, " ")
	return s
}

func init() {
	Register(&Builtin{Name: "ps", Aliases: []string{"ps.monitor"}, Usage: psUsage, New: newPs})
}
