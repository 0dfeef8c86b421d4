package conformance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
)

// Environment:
//
//	MON_SERVER_CMD         daemon command (word-split); default: gomon built from ../cmd/mon
//	CONFORMANCE_REFERENCE=1  check the harness itself: run /usr/sbin/mon (unless
//	                       MON_SERVER_CMD is set) and compare with the golden files only
//	CONFORMANCE_UPDATE=1   write differing transcripts to testdata/conformance/expected
//	                       (only for documented deviations, see docs/compat/conformance.md)
//	CONFORMANCE_JOBS       scenarios run at the same time (default 3, at most -parallel)
//	CONFORMANCE_OUT        directory for the transcripts of failing scenarios
//	PEER_KEEP_WORK=1       keep the work directories
//	PEER_WAIT_TIMEOUT      default timeout of the wait_* steps in seconds (20)
//	PEER_START_TIMEOUT     seconds to wait for the daemon's port (15)
//	PEER_LOOSE_EXIT=1      print "nonzero" for a failed start's exit status
const dataDir = "../testdata/conformance"

func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite takes minutes; skipped with -short")
	}
	requireClients(t)
	// The reference harness runs everything with SIGPIPE ignored (Perl's
	// $SIG{PIPE} = 'IGNORE' is inherited through exec by the daemon, its
	// monitors and moncmd); an ignored disposition survives exec here too.
	signal.Ignore(syscall.SIGPIPE)

	data, err := filepath.Abs(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := scenarioNames(filepath.Join(data, "scenarios"))
	if err != nil {
		t.Fatal(err)
	}
	reference := os.Getenv("CONFORMANCE_REFERENCE") == "1"
	serverCmd := daemonCommand(t, reference)
	t.Logf("daemon: %s", strings.Join(serverCmd, " "))

	ports := newPortPool()
	jobs := make(chan struct{}, max(envInt("CONFORMANCE_JOBS", 3), 1))
	out := &failureDir{}
	var sum summary
	suiteStart := time.Now()
	// Cleanup runs after every parallel subtest has finished.
	t.Cleanup(func() {
		fmt.Println(sum.line())
		t.Logf("suite ran in %s", time.Since(suiteStart).Round(time.Second))
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			jobs <- struct{}{}
			defer func() { <-jobs }()
			v := mismatch // also when the scenario stops with t.Fatal
			defer func() { sum.add(v) }()
			start := time.Now()
			got := runScenario(t, data, name, serverCmd, ports)
			t.Logf("%s ran in %s", name, time.Since(start).Round(100*time.Millisecond))
			v = compareTranscript(t, data, name, got, reference, out)
		})
	}
}

// verdict is how one scenario's transcript compared.
type verdict int

const (
	mismatch  verdict = iota
	matched           // the golden transcript (or a variant of it)
	deviation         // the expected transcript of a documented deviation
)

// summary counts the verdicts for the one line the suite reports.
type summary struct {
	mu                    sync.Mutex
	total, ok, deviations int
}

func (s *summary) add(v verdict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total++
	if v != mismatch {
		s.ok++
	}
	if v == deviation {
		s.deviations++
	}
}

func (s *summary) line() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%d/%d scenarios match mon (%d documented deviations)", s.ok, s.total, s.deviations)
}

// requireClients skips unless the stock client tools the scenarios use are
// installed (Debian/Ubuntu package mon-client).
func requireClients(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/moncmd"); err != nil {
		t.Skip("/usr/bin/moncmd is missing (apt-get install mon-client)")
	}
	if err := exec.Command("perl", "-MMon::Client", "-e", "1").Run(); err != nil {
		t.Skip("Perl Mon::Client is missing (apt-get install mon-client)")
	}
}

func scenarioNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "steps")); err == nil {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// daemonCommand returns $MON_SERVER_CMD word-split, the original mon in
// reference mode, or else a gomon binary built for this run.
func daemonCommand(t *testing.T, reference bool) []string {
	t.Helper()
	if c := strings.Fields(os.Getenv("MON_SERVER_CMD")); len(c) > 0 {
		return c
	}
	if reference {
		if _, err := os.Stat("/usr/sbin/mon"); err != nil {
			t.Skip("reference mode needs /usr/sbin/mon (apt-get install mon)")
		}
		return []string{"/usr/sbin/mon"}
	}
	bin := filepath.Join(t.TempDir(), "mon")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/gomon/gomon/cmd/mon")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building gomon: %v\n%s\n(MON_SERVER_CMD=/usr/sbin/mon CONFORMANCE_REFERENCE=1 checks the harness against the original)", err, out)
	}
	return []string{bin}
}

// runScenario prepares a work directory, interprets the steps and cleans
// up like run-scenario.sh; it returns the transcript.
func runScenario(t *testing.T, data, name string, serverCmd []string, ports *portPool) string {
	t.Helper()
	port, err := ports.get()
	if err != nil {
		t.Fatal(err)
	}
	defer ports.put(port)
	work, err := prepareWork(data, filepath.Join(data, "scenarios", name))
	if work != "" {
		defer cleanWork(t, work)
	}
	if err != nil {
		t.Fatalf("preparing the work directory: %v", err)
	}
	r := newRunner(name, filepath.Join(data, "scenarios", name), work, port, serverCmd)
	defer func() {
		r.closeAll()
		r.stopDaemon()
	}()
	got, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func cleanWork(t *testing.T, work string) {
	killed := append(killWorkProcesses(work), (&runner{work: work}).killLeftovers()...)
	// A leftover process may still be writing into the work directory
	// until it has exited.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, pid := range killed {
		if err := await.Exit(ctx, pid); err != nil {
			t.Logf("leftover process: %v", err)
		}
	}
	if os.Getenv("PEER_KEEP_WORK") == "1" {
		t.Logf("work directory kept: %s", work)
		return
	}
	if err := os.RemoveAll(work); err != nil {
		t.Logf("removing the work directory: %v", err)
	}
}

// failedStatusRE matches the exit status of a daemon that failed to start:
// mon's is whatever errno was when it died (255, 25, 2 ...), so only
// "nonzero" is compared.
var failedStatusRE = regexp.MustCompile(`(?m)^server exited with status [1-9][0-9]*$`)

func looseExit(s string) string {
	return failedStatusRE.ReplaceAllString(s, "server exited with status nonzero")
}

// compareTranscript checks a transcript against the ones the scenario may
// produce: expected/NAME.txt (a documented deviation of gomon) or else
// golden/NAME.txt.  NAME.N.txt files next to them (variants/ for the
// golden file) are further transcripts of the same kind that differ only
// by timing the scenario does not control.
func compareTranscript(t *testing.T, data, name, got string, reference bool, out *failureDir) verdict {
	t.Helper()
	goldenPath := filepath.Join(data, "golden", name+".txt")
	expectedPath := filepath.Join(data, "expected", name+".txt")
	golden, err := accepted(goldenPath, filepath.Join(data, "variants"), name)
	if err != nil {
		t.Fatal(err)
	}
	if !reference && os.Getenv("CONFORMANCE_UPDATE") == "1" {
		updateExpected(t, expectedPath, golden, got)
		return mismatch
	}
	want, ok := golden, matched
	if _, err := os.Stat(expectedPath); err == nil && !reference {
		if want, err = accepted(expectedPath, filepath.Dir(expectedPath), name); err != nil {
			t.Fatal(err)
		}
		ok = deviation
	}
	if matchesAny(got, want) {
		return ok
	}
	actual := out.write(t, name, got)
	t.Errorf("transcript differs from %s (actual transcript: %s)\n%s",
		want[0].path, actual, unifiedDiff(want[0].path, "actual", looseExit(want[0].text), looseExit(got)))
	return mismatch
}

type transcript struct{ path, text string }

// accepted reads the transcript at path and its variants NAME.N.txt in dir.
func accepted(path, dir, name string) ([]transcript, error) {
	variants, err := filepath.Glob(filepath.Join(dir, name+".*.txt"))
	if err != nil {
		return nil, err
	}
	var ts []transcript
	for _, p := range append([]string{path}, variants...) {
		d, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		ts = append(ts, transcript{p, string(d)})
	}
	return ts, nil
}

func matchesAny(got string, want []transcript) bool {
	for _, w := range want {
		if looseExit(got) == looseExit(w.text) {
			return true
		}
	}
	return false
}

// updateExpected records a deviation, or removes the record when the
// transcript matches the golden file again.
func updateExpected(t *testing.T, path string, golden []transcript, got string) {
	t.Helper()
	if matchesAny(got, golden) {
		if err := os.Remove(path); err == nil {
			t.Logf("matches the golden file again: removed %s", path)
		}
		return
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: document the deviation in docs/compatibility.md", path)
}

// failureDir is where the transcripts of failing scenarios go, created on
// first use.
type failureDir struct {
	once sync.Once
	dir  string
	err  error
}

func (f *failureDir) write(t *testing.T, name, transcript string) string {
	f.once.Do(func() {
		if f.dir = os.Getenv("CONFORMANCE_OUT"); f.dir != "" {
			f.err = os.MkdirAll(f.dir, 0o755)
			return
		}
		f.dir, f.err = os.MkdirTemp("", "gomon-conformance.")
	})
	if f.err != nil {
		t.Logf("cannot keep the transcript: %v", f.err)
		return "(not written)"
	}
	p := filepath.Join(f.dir, name+".txt")
	if err := os.WriteFile(p, []byte(transcript), 0o644); err != nil {
		t.Logf("cannot keep the transcript: %v", err)
		return "(not written)"
	}
	return p
}
