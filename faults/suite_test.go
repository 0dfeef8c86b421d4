package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// knobs are the suite's sizes (see doc.go): the short form by default,
// the long form with GOMON_FAULTS=1, each overridable on its own.
type knobs struct {
	long     bool
	soak     time.Duration // the mixed-monitor soak
	hugeLine time.Duration // the 10 MB one-line monitor
	configs  int           // mutated configurations
	kills    int           // kill -9 during savestate
	junk     int           // protocol junk lines
	traps    int           // junk trap datagrams
	flood    int           // idle and slow connections
	seed     uint64        // the mutations' and junk's random seed
}

func loadKnobs() (knobs, error) {
	k := knobs{soak: 20 * time.Second, hugeLine: 20 * time.Second, configs: 60, kills: 8,
		junk: 10000, traps: 20000, flood: 1000, seed: uint64(time.Now().UnixNano())}
	if os.Getenv("GOMON_FAULTS") == "1" {
		k = knobs{long: true, soak: 10 * time.Minute, hugeLine: 2 * time.Minute, configs: 600, kills: 40,
			junk: 200000, traps: 500000, flood: 1000, seed: k.seed}
	}
	for name, d := range map[string]*time.Duration{"FAULTS_SOAK": &k.soak, "FAULTS_HUGELINE": &k.hugeLine} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *d, err = time.ParseDuration(v); err != nil || *d < 10*time.Second {
				return k, fmt.Errorf("%s: %q is not a duration of at least 10s", name, v)
			}
		}
	}
	for name, n := range map[string]*int{"FAULTS_CONFIGS": &k.configs, "FAULTS_KILLS": &k.kills,
		"FAULTS_JUNK": &k.junk, "FAULTS_TRAPS": &k.traps, "FAULTS_FLOOD": &k.flood} {
		if v := os.Getenv(name); v != "" {
			var err error
			if *n, err = strconv.Atoi(v); err != nil || *n < 1 {
				return k, fmt.Errorf("%s: %q is not a positive count", name, v)
			}
		}
	}
	if v := os.Getenv("FAULTS_SEED"); v != "" {
		var err error
		if k.seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return k, fmt.Errorf("FAULTS_SEED: %q is not a number", v)
		}
	}
	return k, nil
}

// suite is one run of the fault suite: the binary under test, the sizes,
// the table, and what every daemon it started left behind.
type suite struct {
	bin string
	k   knobs
	// tag makes this run's monitor sleepers recognizable (sleep 3001.TAG):
	// a leftover process is one with an argument ending in ".TAG".
	tag string
	rep report

	mu      sync.Mutex
	panics  []string // where a panic or fatal runtime error was seen
	exits   []string // daemons that exited when nobody stopped them
	zombies []string // zombie children that stayed unreaped
	daemons int      // daemons started
	checks  int      // --check-config runs
}

// rng returns a generator for one part of the suite, derived from the
// seed and the part's name, so a part replays the same way whatever else
// ran before it.
func (s *suite) rng(part string) *rand.Rand {
	h := uint64(14695981039346656037)
	for _, c := range []byte(part) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(s.k.seed, h))
}

func (s *suite) notePanic(where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.panics = append(s.panics, where)
}

func (s *suite) noteExit(where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exits = append(s.exits, where)
}

func (s *suite) noteZombies(where string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zombies = append(s.zombies, where)
}

// TestFaults runs the whole suite and prints its table. The huge-line
// run measures only memory and log size, so it runs beside the checks
// that do not time anything; the soak, which measures cadence, runs
// alone.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mon binary for about a minute")
	}
	k, err := loadKnobs()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	dir := t.TempDir()
	bin := filepath.Join(dir, "mon")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gomon/gomon/cmd/mon").CombinedOutput(); err != nil {
		t.Fatalf("building mon: %v\n%s", err, out)
	}
	// The process id keeps the tag apart from any other run's, even one
	// replaying the same seed at the same time.
	s := &suite{bin: bin, k: k, tag: strconv.Itoa(os.Getpid())}
	form := "short"
	if k.long {
		form = "long (GOMON_FAULTS=1)"
	}
	t.Logf("fault suite, %s form, FAULTS_SEED=%d", form, k.seed)

	t.Run("checks", func(t *testing.T) {
		t.Run("hugeline", func(t *testing.T) { t.Parallel(); s.hugeLine(t) })
		t.Run("serial", func(t *testing.T) {
			t.Parallel()
			t.Run("auth", s.authMatrix)
			t.Run("protocol", s.protocolAbuse)
			t.Run("traps", s.trapAbuse)
			t.Run("idleflood", s.idleFlood)
			t.Run("savestate", s.killDuringSave)
			t.Run("alertretry", s.alertRetries)
			t.Run("configs", s.mutatedConfigs)
		})
	})
	t.Run("soak", s.soak)

	// Whatever this run's sleepers still exist now outlived every daemon.
	left := taggedProcs(s.tag)
	var names []string
	for _, p := range left {
		names = append(names, fmt.Sprintf("%d %q", p.pid, p.cmdline))
		killProc(p.pid) // so that nothing of this run outlives it
	}
	s.rep.add(t, "leftover processes after all daemons stopped", strconv.Itoa(len(left))+listed(names), "0", len(left) == 0)
	s.mu.Lock()
	s.rep.add(t, "panics (daemons and --check-config runs)",
		fmt.Sprintf("%d in %d daemons, %d checks%s", len(s.panics), s.daemons, s.checks, listed(s.panics)), "0", len(s.panics) == 0)
	s.rep.add(t, "unexpected daemon exits", strconv.Itoa(len(s.exits))+listed(s.exits), "0", len(s.exits) == 0)
	s.rep.add(t, "zombie children left unreaped", strconv.Itoa(len(s.zombies))+listed(s.zombies), "0", len(s.zombies) == 0)
	s.mu.Unlock()

	table := fmt.Sprintf("gomon fault suite, %s form, FAULTS_SEED=%d, %s\n%s", form, k.seed, time.Since(start).Round(time.Second), s.rep.String())
	if testing.Verbose() {
		fmt.Print(table)
	} else {
		t.Log("\n" + table)
	}
}

// listed appends up to three items to a figure.
func listed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	if len(items) > 3 {
		return fmt.Sprintf(" (%s, … %d more)", strings.Join(items[:3], "; "), len(items)-3)
	}
	return " (" + strings.Join(items, "; ") + ")"
}

// row is one line of the table.
type row struct {
	check, figure, goal string
	pass                bool
}

// report is the table: every check with its figure and goal.
type report struct {
	mu   sync.Mutex
	rows []row
}

// add records a check; a missed goal fails the test.
func (r *report) add(t *testing.T, check, figure, goal string, pass bool) {
	t.Helper()
	r.mu.Lock()
	r.rows = append(r.rows, row{check, figure, goal, pass})
	r.mu.Unlock()
	if !pass {
		t.Errorf("%s: %s, goal %s", check, figure, goal)
	}
}

// info records a figure that has no goal of its own.
func (r *report) info(check, figure string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row{check, figure, "(info)", true})
}

// sections order the table: rows come in as checks finish, some side by
// side; the suite-wide ones last.
var sections = []string{"auth", "protocol", "trap", "idle flood", "kill -9", "alert retries", "huge line", "mutated", "slow reset", "soak"}

func section(check string) int {
	for i, p := range sections {
		if strings.HasPrefix(check, p) {
			return i
		}
	}
	return len(sections)
}

func (r *report) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows := slices.Clone(r.rows)
	slices.SortStableFunc(rows, func(a, b row) int { return section(a.check) - section(b.check) })
	w := [3]int{len("check"), len("figure"), len("goal")}
	for _, x := range rows {
		w[0], w[1], w[2] = max(w[0], len(x.check)), max(w[1], len(x.figure)), max(w[2], len(x.goal))
	}
	w[1] = min(w[1], 90) // long figures run over instead of widening every line
	var b strings.Builder
	line := func(c, f, g, p string) { fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %s\n", w[0], c, w[1], f, w[2], g, p) }
	line("check", "figure", "goal", "result")
	line(strings.Repeat("-", w[0]), strings.Repeat("-", w[1]), strings.Repeat("-", w[2]), "------")
	checks, failed := 0, 0
	for _, x := range rows {
		res := "pass"
		switch {
		case x.goal == "(info)":
			res = ""
			checks--
		case !x.pass:
			res = "FAIL"
			failed++
		}
		checks++
		line(x.check, x.figure, x.goal, res)
	}
	fmt.Fprintf(&b, "%d checks, %d failed\n", checks, failed)
	return b.String()
}
