package scheduler

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/atomicfile"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// Reset re-reads the configuration and starts over (protocol `reset`,
// SIGHUP). A configuration that fails to load is rejected and the running
// one keeps going with its state intact — unlike mon, which kills the
// running monitors first. With keepstate the disabled and opstatus state
// survive; disabled hosts and watches always do. With stopped the
// scheduler is stopped first.
func (s *Scheduler) Reset(stopped, keepstate bool) error {
	if s.opts.Reload == nil {
		return ErrNoReload
	}
	cfg, err := s.opts.Reload()
	if err != nil {
		s.log.Error("error reading config file: " + err.Error())
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	if stopped && !s.stopped {
		s.stopped = true
		s.stoppedAt = now
	}
	var (
		saved    []byte
		disabled protocol.DisabledState
	)
	if keepstate {
		s.saveState("all") // as mon does; errors are logged
		saved, disabled = s.encodeOpstatus(), s.disabledState()
	}
	for _, svc := range s.services {
		if svc.cancel != nil {
			svc.cancel() // the run's result is dropped: its generation is gone
		}
	}
	s.log.Info("resetting, and re-reading configuration " + cfg.Source)
	s.load(cfg, now)
	if keepstate {
		s.decodeOpstatus(saved)
		s.applyDisabled(disabled)
	}
	s.beginLog(now)
	if cfg.Globals.StartupAlertsOnReset {
		s.startupAlerts(now)
	}
	s.emit(Event{Kind: "load", Time: now})
	s.poke()
	return nil
}

// beginLog writes the downtime-log header and reloads the alert history
// from historicfile, as mon does at start and after every reset.
func (s *Scheduler) beginLog(now time.Time) {
	g := s.cfg.Globals
	if g.DtLogging {
		hdr := fmt.Sprintf("#\n# downtime log start %d\n# time back up, group, service, first failure, downtime, interval, summary\n#", now.Unix())
		if err := atomicfile.AppendLine(g.DtLogFile, hdr); err != nil {
			s.log.Error("could not write downtime log, turning dtlogging off", "file", g.DtLogFile, "err", err)
		}
	}
	if g.HistoricFile != "" {
		// A missing file is normal until the first alert creates it.
		if h, err := readHistoric(g.HistoricFile, g.HistoricTime, now, s.maxKeep); errors.Is(err, os.ErrNotExist) {
			s.log.Debug("no alert history yet", "file", g.HistoricFile)
		} else if err != nil {
			s.log.Error(fmt.Sprintf("Could not read history from %s : %v", g.HistoricFile, err))
		} else {
			s.alertHist = h
		}
	}
}

// readHistoric loads alert history lines newer than now-maxAge (all when
// maxAge is 0), keeping the last keep of them.
func readHistoric(path string, maxAge time.Duration, now time.Time, keep int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if maxAge > 0 {
			f := strings.Fields(t)
			if len(f) < 4 {
				continue
			}
			when, err := strconv.ParseInt(f[3], 10, 64)
			if err != nil || when < now.Add(-maxAge).Unix() {
				continue
			}
		}
		out = append(out, line)
	}
	if len(out) > keep {
		out = out[len(out)-keep:]
	}
	return out, sc.Err()
}

// startupAlerts sends every service's startup alerts. Called with s.mu held.
func (s *Scheduler) startupAlerts(now time.Time) {
	for _, svc := range s.services {
		d := decide.Startup(svc.cfg, svc.st, s.world(svc, now))
		s.addTrace(svc, d.Trace)
		for _, a := range d.Actions {
			s.dispatch(svc, a, s.alertEnv(svc, a), now)
		}
	}
}
