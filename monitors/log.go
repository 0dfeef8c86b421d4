package monitors

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// logMonitor reports new lines matching a pattern in log files since its
// previous run. Where it stopped reading is kept per file in the state
// directory, with the file's identity, so that rotation and truncation
// are noticed.
type logMonitor struct {
	files    []string
	match    *regexp.Regexp
	exclude  *regexp.Regexp // nil = none
	maxLines int            // matching lines shown per file
	stateDir string         // "" = $MON_STATEDIR
}

const logUsage = "log -f FILE [-f FILE...] -r REGEX [-x EXCLUDE-REGEX] [-m MAXLINES] [-S STATEDIR]"

// logMaxLine bounds one line; longer lines are cut when matched and shown.
const logMaxLine = 4096

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func newLog(args []string) (Monitor, error) {
	fset := flag.NewFlagSet("log", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	m := &logMonitor{}
	var files stringList
	fset.Var(&files, "f", "log file (repeatable)")
	match := fset.String("r", "", "regular expression lines must match")
	exclude := fset.String("x", "", "regular expression of lines to ignore")
	fset.IntVar(&m.maxLines, "m", 20, "matching lines shown per file")
	fset.StringVar(&m.stateDir, "S", "", "state directory (default $MON_STATEDIR)")
	if err := fset.Parse(args); err != nil {
		return nil, err
	}
	// Positional arguments are files too, so `log -r RE FILE...` works.
	m.files = append(files, fset.Args()...)
	if len(m.files) == 0 {
		return nil, errors.New("no log file given (-f FILE)")
	}
	if *match == "" {
		return nil, errors.New("no pattern given (-r REGEX)")
	}
	var err error
	if m.match, err = regexp.Compile(*match); err != nil {
		return nil, fmt.Errorf("-r: %w", err)
	}
	if *exclude != "" {
		if m.exclude, err = regexp.Compile(*exclude); err != nil {
			return nil, fmt.Errorf("-x: %w", err)
		}
	}
	if m.maxLines < 0 {
		return nil, fmt.Errorf("-m %d: want a count", m.maxLines)
	}
	return m, nil
}

// logState is where the previous run stopped in one file.
type logState struct {
	Path   string `json:"path"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	Offset int64  `json:"offset"`
	// Tail fingerprints the bytes just before Offset, so that a file
	// truncated and refilled past the old offset is noticed too.
	Tail string `json:"tail"`
}

// logScan is what one file yielded in this run.
type logScan struct {
	file    string
	matches int
	lines   []string // the first maxLines matches
	note    string   // rotation or truncation noticed
	err     error
}

func (m *logMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	dir := m.stateDir
	if dir == "" {
		dir = envValue(req.Env, "MON_STATEDIR")
	}
	if dir == "" {
		return Result{Exit: 1, Output: []byte("log: no state directory (set -S or MON_STATEDIR)\n")}
	}
	var scans []logScan
	for _, f := range m.files {
		statePath := filepath.Join(dir, logStateName(req.Group, req.Service, f))
		scans = append(scans, m.scanFile(f, statePath))
	}

	var res Result
	var bad []string
	var detail strings.Builder
	for _, s := range scans {
		res.Values = append(res.Values, Value{Name: s.file + ":matches", Value: float64(s.matches)})
		switch {
		case s.err != nil:
			bad = append(bad, s.file)
			fmt.Fprintf(&detail, "%s: %v\n", s.file, s.err)
		case s.matches > 0:
			bad = append(bad, s.file)
			fmt.Fprintf(&detail, "%s: %d new matching line%s", s.file, s.matches, plural(s.matches))
			if len(s.lines) < s.matches {
				fmt.Fprintf(&detail, " (first %d shown)", len(s.lines))
			}
			detail.WriteString("\n")
			for _, l := range s.lines {
				detail.WriteString("  " + l + "\n")
			}
		}
		if s.note != "" {
			fmt.Fprintf(&detail, "%s: %s\n", s.file, s.note)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		res.Exit = 1
		res.Output = []byte(strings.Join(bad, " ") + "\n" + detail.String())
	}
	res.Duration = time.Since(start)
	return res
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// envValue returns the value of name in a K=V list; the last one wins.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// logStateName names the state file of one file watched by one service,
// so that two services reading the same log do not share a position.
func logStateName(group, service, file string) string {
	sum := sha256.Sum256([]byte(group + "\x00" + service + "\x00" + file))
	return "gomon-log-" + hex.EncodeToString(sum[:8]) + ".json"
}

func fileID(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), st.Ino
	}
	return 0, 0
}

// scanFile reads what was appended to file since the saved state and
// saves the new position. The first run only records the end of the file.
func (m *logMonitor) scanFile(file, statePath string) logScan {
	scan := logScan{file: file}
	f, err := os.Open(file)
	if err != nil {
		scan.err = err
		return scan
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		scan.err = err
		return scan
	}
	dev, ino := fileID(fi)
	cur := logState{Path: file, Dev: dev, Ino: ino}

	prev, err := loadLogState(statePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cur.Offset = fi.Size() // nothing is "new" before the first run
	case err != nil:
		scan.err = err
		return scan
	case prev.Dev != dev || prev.Ino != ino:
		// Rotated: finish the old file if it is still next to the new one.
		if old := findRotated(file, prev.Dev, prev.Ino); old != "" {
			scan.note = "rotated to " + old
			if n, err := m.scanFrom(old, prev.Offset, &scan); err == nil {
				scan.note += fmt.Sprintf(", read its last %d bytes", n)
			}
		} else {
			scan.note = "rotated, the previous file was not found"
		}
		cur.Offset = 0
	case fi.Size() < prev.Offset:
		scan.note = fmt.Sprintf("truncated (%d < %d bytes), read from the start", fi.Size(), prev.Offset)
		cur.Offset = 0
	case tailSum(f, prev.Offset) != prev.Tail:
		scan.note = "rewritten since the last run, read from the start"
		cur.Offset = 0
	default:
		cur.Offset = prev.Offset
	}
	if cur.Offset < fi.Size() {
		n, err := m.scanReader(f, cur.Offset, &scan)
		if err != nil {
			scan.err = err
			return scan
		}
		cur.Offset += n
	}
	cur.Tail = tailSum(f, cur.Offset)
	if err := saveLogState(statePath, cur); err != nil {
		scan.err = err
	}
	return scan
}

// tailSum fingerprints the up to 64 bytes before offset.
func tailSum(f *os.File, offset int64) string {
	from := max(offset-64, 0)
	buf := make([]byte, offset-from)
	if _, err := f.ReadAt(buf, from); err != nil {
		return ""
	}
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:8])
}

// scanFrom scans a file other than the watched one from offset.
func (m *logMonitor) scanFrom(path string, offset int64, scan *logScan) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return m.scanReader(f, offset, scan)
}

// scanReader matches the complete lines from offset on and returns how
// many bytes they took. A last line without its newline is left for the
// next run, when the writer has finished it.
func (m *logMonitor) scanReader(f *os.File, offset int64, scan *logScan) (int64, error) {
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var consumed int64
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An overlong line: match on its head, skip the rest.
			n := int64(len(line))
			head := string(line[:min(len(line), logMaxLine)])
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil {
				return consumed, ignoreEOF(err)
			}
			consumed += n
			m.consider(head, scan)
			continue
		}
		if err != nil {
			return consumed, ignoreEOF(err)
		}
		consumed += int64(len(line))
		m.consider(strings.TrimRight(string(line), "\r\n"), scan)
	}
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (m *logMonitor) consider(line string, scan *logScan) {
	if !m.match.MatchString(line) || (m.exclude != nil && m.exclude.MatchString(line)) {
		return
	}
	scan.matches++
	if len(scan.lines) < m.maxLines {
		if len(line) > logMaxLine {
			line = line[:logMaxLine]
		}
		scan.lines = append(scan.lines, line)
	}
}

// findRotated looks beside file for the file with the given identity:
// the usual rotation names (file.1, file-20240101, file.old) start with
// the base name.
func findRotated(file string, dev, ino uint64) string {
	dir, base := filepath.Split(file)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		if e.Name() == base || !strings.HasPrefix(e.Name(), base) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(p); err == nil {
			if d, i := fileID(fi); d == dev && i == ino {
				return p
			}
		}
	}
	return ""
}

func loadLogState(path string) (logState, error) {
	var st logState
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("state file %s: %w", path, err)
	}
	return st, nil
}

// saveLogState replaces the state file atomically, so a crash never
// leaves half a file behind.
func saveLogState(path string, st logState) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gomon-log-*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

func init() {
	Register(&Builtin{Name: "log", Usage: logUsage, New: newLog})
}
