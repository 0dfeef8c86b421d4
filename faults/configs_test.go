package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/testnet"
)

// seedFile is a configuration the mutations start from.
type seedFile struct {
	name   string
	data   []byte
	debian bool // names hosts off this machine: its monitors must never run
}

// seeds reads the suite's own configurations and Debian's examples.
// Absolute paths in Debian's files (/var/log/mon/history.log …) are moved
// under root, so that nothing outside the rig is read or written.
func seeds(t *testing.T, root string) []seedFile {
	t.Helper()
	var out []seedFile
	for _, n := range []string{"rig.cf", "rig.m4"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, seedFile{name: n, data: b})
	}
	ents, err := os.ReadDir("testdata/debian")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() == "README" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata/debian", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{"/var/", "/etc/", "/usr/"} {
			b = bytes.ReplaceAll(b, []byte(dir), []byte(root+dir))
		}
		out = append(out, seedFile{name: "debian/" + e.Name(), data: b, debian: true})
	}
	return out
}

// reloader is a running daemon that mutated configurations are loaded
// into with reset (or SIGHUP), and restored from.
type reloader struct {
	r    *rig
	d    *daemon
	name string
	cf   string // its configuration file
	base []byte
	svcs []string // the services of base, as list opstatus names them
	// refusedEmpty: the last reload was refused for having no services,
	// which --check-config does not object to.
	refusedEmpty bool
	restarts     int    // daemons that died and were replaced
	lastDeath    string // how the last one ended
}

func (s *suite) newReloader(t *testing.T, name, file string, base []byte) *reloader {
	t.Helper()
	rl := &reloader{r: s.newRig(t), base: base, name: name}
	rl.cf = rl.r.path(file)
	if err := os.WriteFile(rl.cf, base, 0o644); err != nil {
		t.Fatal(err)
	}
	rl.d = rl.r.start(t, name, rl.cf, nil)
	ops, err := rl.d.opstatus()
	if err != nil {
		t.Fatal(err)
	}
	rl.svcs = keys(ops)
	return rl
}

// ensure replaces a reload daemon that died (its death is recorded when
// it is stopped), so that one crash does not hide what later mutants do.
// It reports whether the daemon had died.
func (rl *reloader) ensure(t *testing.T) bool {
	t.Helper()
	if rl.d.alive() {
		return false
	}
	rl.lastDeath = rl.d.death()
	rl.d.stop(t)
	rl.restarts++
	if err := os.WriteFile(rl.cf, rl.base, 0o644); err != nil {
		t.Fatal(err)
	}
	rl.d = rl.r.start(t, fmt.Sprintf("%s-%d", rl.name, rl.restarts), rl.cf, nil)
	return true
}

func keys(m map[string]map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// missingProgramsOnly is the last line of a --check-config that failed
// only because monitor or alert programs are not installed.
var missingProgramsOnly = regexp.MustCompile(`(?m): [0-9]+ programs? not found$`)

// mutatedConfigs takes mutants of the seeds through --check-config (exit
// 0 or 1, no panic), a start when the check passed (it must start and
// answer), and a reload into a running daemon (a refused one must leave
// the old services answering; check and reload must agree).
func (s *suite) mutatedConfigs(t *testing.T) {
	work := s.newRig(t) // mutants are written and started here
	seedList := seeds(t, work.dir)
	rng := s.rng("configs")
	var rigCf, rigM4 []byte
	for _, sd := range seedList {
		switch sd.name {
		case "rig.cf":
			rigCf = sd.data
		case "rig.m4":
			rigM4 = sd.data
		}
	}
	reloadCf := s.newReloader(t, "reload-cf", "mon.cf", rigCf)
	reloadM4 := s.newReloader(t, "reload-m4", "mon.m4", rigM4)

	var (
		checked, checkOK, checkBad, started, startBad   int
		reloads, reloadBad, disagree, hups, runaways    int
		checkProbs, startProbs, reloadProbs, agreeProbs []string
	)
	problem := func(list *[]string, i int, sd seedFile, how []string, format string, args ...any) {
		what := fmt.Sprintf("%s %d (%s): %s", sd.name, i, strings.Join(how, ", "), fmt.Sprintf(format, args...))
		*list = append(*list, firstLine(what))
		t.Errorf("FAULTS_SEED=%d, %s", s.k.seed, what)
	}
	// Each seed once as it is, then the mutants.
	for i := range len(seedList) + s.k.configs {
		sd := seedList[i%len(seedList)]
		if i >= len(seedList) && rng.IntN(2) == 0 {
			sd = seedList[rng.IntN(2)] // half of the rest from the suite's own seeds
		}
		data, how := sd.data, []string{"unchanged"}
		if i >= len(seedList) {
			data, how = mutate(rng, sd.data)
		}
		ext := ".cf"
		if strings.HasSuffix(sd.name, ".m4") {
			ext = ".m4"
		}
		path := work.path(fmt.Sprintf("mutant-%d%s", i, ext))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if ext == ".m4" && i >= len(seedList) && m4Runaway(path) {
			// A macro now expands without end: the daemon gives m4 a
			// minute, too long to spend here on every such mutant.
			// slowReset and (long form) runawayCheck cover the case.
			runaways++
			continue
		}

		// 1. --check-config.
		checked++
		code, out, err := work.checkConfig(path)
		switch {
		case err != nil:
			checkBad++
			problem(&checkProbs, i, sd, how, "--check-config: %v", err)
			continue
		case code == 0:
			checkOK++
		case code != 1:
			checkBad++
			problem(&checkProbs, i, sd, how, "--check-config exit status %d:\n%s", code, tail(out, 1000))
			continue
		}

		// 2. Start it, if the check passed. The suite's own seeds, as
		// they are, run for a few intervals first: a configuration that
		// passes the check must also survive being run.
		if code == 0 {
			started++
			run := time.Duration(0)
			if i < len(seedList) && !sd.debian {
				run = 2500 * time.Millisecond
			}
			if why := s.startMutant(t, work, i, path, sd.debian, run); why != "" {
				startBad++
				problem(&startProbs, i, sd, how, "the check passed but %s", why)
			}
		}

		// 3. Load it into a running daemon.
		rl := reloadCf
		if ext == ".m4" {
			rl = reloadM4
		}
		if rl.ensure(t) {
			reloadBad++
			problem(&reloadProbs, i, sd, how, "the reload daemon had died before this mutant (%s)", rl.lastDeath)
		}
		reloads++
		hup := !sd.debian && ext == ".cf" && i%4 == 3
		if hup {
			hups++
		}
		accepted, why := rl.load(data, sd.debian, hup)
		switch {
		case why != "":
			reloadBad++
			problem(&reloadProbs, i, sd, how, "reload: %s", why)
		case accepted && code == 1 && !missingProgramsOnly.MatchString(out):
			// (A program not installed fails the check, the daemon only
			// warns: that is no disagreement.)
			disagree++
			problem(&agreeProbs, i, sd, how, "reload accepted what --check-config rejected:\n%s", tail(out, 500))
		case !accepted && code == 0 && !rl.refusedEmpty:
			disagree++
			problem(&agreeProbs, i, sd, how, "reload refused what --check-config accepted:\n%s", tail(rl.d.log(), 500))
		}
	}
	// The reload daemons go on with their own configuration for a few
	// intervals: a crash once monitors run shows here, not only by luck
	// between two resets.
	time.Sleep(2500 * time.Millisecond)
	for _, rl := range []*reloader{reloadCf, reloadM4} {
		if rl.ensure(t) {
			reloadBad++
			reloadProbs = append(reloadProbs, rl.name+" died running its own configuration ("+rl.lastDeath+")")
			t.Errorf("%s died running its own configuration (%s)", rl.name, rl.lastDeath)
		}
	}
	s.rep.add(t, "mutated configs: --check-config exits 0 or 1 in time",
		fmt.Sprintf("%d of %d (%d seeds as they are, %d mutants, %d m4 runaways set aside; %d passed, %d rejected)%s",
			checked-checkBad, checked, len(seedList), s.k.configs-runaways, runaways, checkOK, checked-checkBad-checkOK, listed(checkProbs)),
		"all, in 30 s", checkBad == 0)
	s.rep.add(t, "mutated configs: passed the check → starts, answers, ends on SIGTERM",
		fmt.Sprintf("%d of %d%s", started-startBad, started, listed(startProbs)), "all", startBad == 0 && started > 0)
	s.rep.add(t, "mutated configs: reset/SIGHUP into a running daemon",
		fmt.Sprintf("%d of %d right (%d by SIGHUP), %d daemons died%s", reloads-reloadBad, reloads, hups,
			reloadCf.restarts+reloadM4.restarts, listed(reloadProbs)), "all, none died", reloadBad == 0)
	s.rep.add(t, "mutated configs: --check-config and reload agree", fmt.Sprintf("%d disagree%s", disagree, listed(agreeProbs)), "0", disagree == 0)

	s.slowReset(t, reloadM4)
	if s.k.long {
		s.runawayCheck(t, work)
	}
}

// runawayM4 is a macro that expands without end.
const runawayM4 = "define(`LOOP', `x LOOP')dnl\nLOOP\n"

// m4Runaway reports whether m4 runs longer than 5 s on path or writes
// more than 64 MiB (the daemon's own bound on m4's output).
func m4Runaway(path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "m4", path)
	out := &countingWriter{max: 64 << 20}
	cmd.Stdout, cmd.Stderr = out, io.Discard
	cmd.Run()
	return ctx.Err() != nil || out.exceeded
}

// countingWriter discards what it is given, failing past max bytes.
type countingWriter struct {
	n, max   int
	exceeded bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n > w.max {
		w.exceeded = true
		return 0, errors.New("too much output")
	}
	return len(p), nil
}

// slowReset resets a daemon to an m4 configuration that expands without
// end, which keeps the reset busy for as long as the daemon lets m4 run,
// and times another client's command meanwhile: one slow reset must not
// hold up everyone else. The daemon is then killed (m4 must die with it)
// and replaced.
func (s *suite) slowReset(t *testing.T, rl *reloader) {
	if err := os.WriteFile(rl.cf, []byte(runawayM4), 0o644); err != nil {
		t.Fatal(err)
	}
	go rl.d.command("reset") // its reply comes after the kill, if ever
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	answer := make(chan string, 1)
	go func() {
		_, final, err := rl.d.command("version")
		answer <- fmt.Sprintf("%q, %v", final, err)
	}()
	figure := "no answer in 3 s"
	ok := false
	select {
	case a := <-answer:
		took := time.Since(start)
		figure = fmt.Sprintf("in %v (%s)", took.Round(time.Millisecond), a)
		ok = took <= time.Second && strings.HasPrefix(a, `"220`)
	case <-time.After(3 * time.Second):
	}
	s.rep.add(t, "slow reset (m4 expanding without end): another client's version answered", figure, "≤ 1 s", ok)
	rl.d.kill()
	var m4s []string
	waitFor(2*time.Second, func() bool {
		m4s = procsWith(rl.cf)
		return len(m4s) == 0
	})
	s.rep.add(t, "slow reset: m4 left after its daemon was killed", strconv.Itoa(len(m4s))+listed(m4s), "0", len(m4s) == 0)
	if err := os.WriteFile(rl.cf, rl.base, 0o644); err != nil {
		t.Fatal(err)
	}
	rl.d = rl.r.start(t, rl.name+"-after-slow-reset", rl.cf, nil)
}

// runawayCheck runs --check-config on an m4 file that expands without
// end: it must be refused within the daemon's bound on m4 (a minute),
// plus some slack.
func (s *suite) runawayCheck(t *testing.T, r *rig) {
	path := r.path("runaway.m4")
	if err := os.WriteFile(path, []byte(runawayM4), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out, err := r.checkConfigWithin(path, 90*time.Second)
	took := time.Since(start)
	s.rep.add(t, "mutated configs: m4 expanding without end, --check-config",
		fmt.Sprintf("exit %d in %v (%v) %.100q", code, took.Round(time.Second), err, firstLine(out)), "exit 1 within 75 s",
		err == nil && code == 1 && took <= 75*time.Second)
}

// procsWith lists the processes whose command line contains s.
func procsWith(s string) []string {
	var out []string
	for _, p := range pids() {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		if err == nil && strings.Contains(string(b), s) {
			if st, err := readStat(p); err == nil && st.state != "Z" {
				out = append(out, fmt.Sprintf("%d %s", p, strings.ReplaceAll(string(b), "\x00", " ")))
			}
		}
	}
	return out
}

// startMutant starts mon on a configuration the check passed, lets it
// run, asks for list opstatus and stops it; it returns what went wrong. A Debian
// configuration starts with its scheduler stopped (-S): its monitors
// would reach for hosts off this machine.
func (s *suite) startMutant(t *testing.T, r *rig, i int, path string, debian bool, run time.Duration) string {
	t.Helper()
	var extra []string
	if debian {
		extra = []string{"-S"}
	}
	name := fmt.Sprintf("start-%d", i)
	var d *daemon
	var err error
	for attempt := 0; ; attempt++ {
		d, err = r.tryStart(t, name, path, nil, extra...)
		if err == nil || !strings.Contains(err.Error(), errBind.Error()) || attempt == 3 {
			break
		}
		r.port = testnet.Port(t)
	}
	if err != nil {
		return "mon did not start: " + err.Error()
	}
	time.Sleep(run)
	if !d.alive() {
		d.stop(t)
		return fmt.Sprintf("it died within %v (%s)", run, d.death())
	}
	_, final, err := d.command("list opstatus")
	d.stop(t)
	if err != nil || !strings.HasPrefix(final, "220") {
		return fmt.Sprintf("list opstatus: %q, %v", final, err)
	}
	if code := d.cmd.ProcessState.ExitCode(); code != 1 {
		return fmt.Sprintf("exit status %d on SIGTERM", code)
	}
	return ""
}

// load writes data over the running configuration and resets (SIGHUP
// with hup). It reports whether the daemon took it, and what went wrong:
// a refused configuration must leave the old services answering; a taken
// one must answer, and the old one must then load again.
func (rl *reloader) load(data []byte, debian, hup bool) (accepted bool, why string) {
	rl.refusedEmpty = false
	if err := os.WriteFile(rl.cf, data, 0o644); err != nil {
		return false, err.Error()
	}
	if hup {
		accepted, why = rl.hup()
	} else {
		cmd := "reset"
		if debian {
			cmd = "reset stopped" // Debian's monitors must not run
		}
		_, final, err := rl.d.command(cmd)
		switch {
		case err != nil:
			return false, fmt.Sprintf("%s: %v", cmd, err)
		case strings.HasPrefix(final, "220 reset"):
			accepted = true
		case strings.Contains(final, "refused: the new configuration has no services"):
			rl.refusedEmpty = true
		case !strings.Contains(final, "failed, error in config file"):
			return false, fmt.Sprintf("%s: %q", cmd, final)
		}
	}
	if why != "" {
		return accepted, why
	}
	ops, err := rl.d.opstatus()
	if err != nil {
		return accepted, fmt.Sprintf("list opstatus after the reload: %v", err)
	}
	if !accepted {
		if got := keys(ops); !slices.Equal(got, rl.svcs) {
			return false, fmt.Sprintf("refused, but the services are now %v, were %v", got, rl.svcs)
		}
		return false, ""
	}
	// Back to the base configuration, running.
	if err := os.WriteFile(rl.cf, rl.base, 0o644); err != nil {
		return true, err.Error()
	}
	for _, cmd := range []string{"reset", "start"} {
		if _, final, err := rl.d.command(cmd); err != nil || !strings.HasPrefix(final, "220") {
			return true, fmt.Sprintf("restoring: %s: %q, %v", cmd, final, err)
		}
	}
	ops, err = rl.d.opstatus()
	if err != nil || !slices.Equal(keys(ops), rl.svcs) {
		return true, fmt.Sprintf("restored, but the services are %v (%v)", keys(ops), err)
	}
	return true, ""
}

// hup resets by SIGHUP and waits for the outcome in the log.
func (rl *reloader) hup() (accepted bool, why string) {
	count := func() (ok, failed int) {
		l := rl.d.log()
		return strings.Count(l, "resetting, and re-reading configuration"), strings.Count(l, "reset on SIGHUP failed")
	}
	ok0, failed0 := count()
	if err := rl.d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		return false, err.Error()
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, failed := count()
		switch {
		case ok > ok0:
			return true, ""
		case failed > failed0:
			rl.refusedEmpty = strings.Contains(tail(rl.d.log(), 2000), "has no services")
			return false, ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false, "no outcome in the log 20 s after SIGHUP"
}
