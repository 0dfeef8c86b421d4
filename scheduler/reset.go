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
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// ResetOptions say how to reset.
type ResetOptions struct {
	Stopped   bool // stop the scheduler first
	KeepState bool // the disabled and opstatus state survive
	// Force applies a configuration that has no services while the
	// running one has some; without it such a reload is refused, since a
	// truncated or half-written file would silently stop all monitoring.
	Force bool
}

// ErrNoServices refuses a reload that would remove every service.
var ErrNoServices = errors.New("the new configuration has no services; the running one stays (force the reset to apply it)")

// Reset re-reads the configuration and starts over (protocol `reset`,
// SIGHUP). A configuration that fails to load is rejected and the running
// one keeps going with its state intact — unlike mon, which kills the
// running monitors first. Disabled hosts and watches always survive.
func (s *Scheduler) Reset(o ResetOptions) error {
	if s.opts.Reload == nil {
		return ErrNoReload
	}
	// Resets take turns, so that between the build and the install
	// below no other load replaces the services the new ones pair with.
	s.resetMu.Lock()
	defer s.resetMu.Unlock()
	cfg, err := s.opts.Reload()
	if err != nil {
		s.log.Error("error reading config file: " + err.Error())
		return err
	}
	s.mu.readLock()
	// Only a load replaces them, and loads wait for resetMu.
	old, oldIdx := s.services, s.watchIdx
	s.mu.Unlock()
	if !o.Force && len(old) > 0 && !hasServices(cfg) {
		s.log.Error("reset refused: "+ErrNoServices.Error(), "file", cfg.Source, "running_services", len(old))
		return ErrNoServices
	}
	// The new records, and which old service each takes its state from,
	// are made without the lock: names and configuration do not change.
	l := s.build(cfg)
	var (
		prev []pairing
		gone []*service
	)
	if o.KeepState {
		prev, gone = pairServices(l, old, oldIdx)
	}
	s.mu.Lock()
	stopped, keepstate := o.Stopped, o.KeepState
	now := s.clk.Now()
	if stopped && !s.stopped {
		s.stopped = true
		s.stoppedAt = now
	}
	var (
		disabled protocol.DisabledState
		save     *stateSave
	)
	if keepstate {
		// As mon does; written once the lock is released (errors are
		// logged), from the services replaced below.
		disabled, save = s.resetSave(old)
	}
	// Running monitors are ended, their results dropped: their generation
	// is gone. install ends those of the services it carries over.
	ending := old
	if keepstate {
		ending = gone
	}
	for _, svc := range ending {
		if svc.cancel != nil {
			svc.cancel(nil)
		}
	}
	s.log.Info("resetting, and re-reading configuration " + cfg.Source)
	s.bulkArm = true
	s.install(l, now, prev)
	s.endBulkArm()
	if keepstate {
		// The services' disables came with their state (carry); what
		// mon's state file would name without a service to apply to:
		s.applyDisabled(disabled)
		for _, svc := range gone {
			if svc.st.Disabled {
				s.log.Error("undefined group or service reading state file: disable service " + svc.w.name + " " + svc.cfg.Name)
			}
		}
	}
	s.downtimesDue(now, true)
	s.beginLog(now)
	if cfg.Globals.StartupAlertsOnReset {
		s.startupAlerts(now)
	}
	if s.opts.Replica != nil {
		s.publishAll() // the cluster keeps what this reset made of them
	}
	s.emit(Event{Kind: "load", Time: now})
	s.poke()
	s.mu.Unlock()
	if save != nil {
		s.writeState(save)
	}
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
			// As mon: off until the next reset (`list dtlog` says so).
			// A copy, because readers may hold the current config.
			c := *s.cfg
			c.Globals.DtLogging = false
			s.cfg = &c
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
		if d := decide.Startup(svc.cfg, svc.st, s.world(svc, now)); len(d.Actions) > 0 {
			s.carryOut(svc, d, now, false)
		} else {
			s.addTrace(svc, d.Trace)
		}
	}
}

// hasServices reports whether cfg defines at least one service.
func hasServices(cfg *config.Config) bool {
	for _, w := range cfg.Watches {
		if len(w.Services) > 0 {
			return true
		}
	}
	return false
}

// pairing is what a keep-state reset carries to a new service: from,
// the old service of the same name (nil if none), and what the two
// configurations, which do not change, decide about it, so that the
// pass with the lock held reads no more of them.
type pairing struct {
	from     *service
	plain    bool // plainRecord(from): no text round trip needed
	sameRate bool // both run at the same fixed rate (keepsSchedule)
}

// pairServices returns the pairing of each of l's services and the old
// services without a new one: what a keep-state reset carries over, and
// what it drops. It reads only names and configuration.
func pairServices(l *loaded, old []*service, oldIdx watchIndex) (prev []pairing, gone []*service) {
	prev = make([]pairing, len(l.services))
	for i, svc := range l.services {
		o := oldIdx.service(svc.w.name, svc.cfg.Name)
		if o == nil {
			continue
		}
		c, oc := svc.cfg, o.cfg
		prev[i] = pairing{from: o, plain: plainRecord(o),
			sameRate: c.Schedule == nil && oc.Schedule == nil && c.Interval > 0 && c.Interval == oc.Interval}
	}
	for _, o := range old {
		if l.watchIdx.service(o.w.name, o.cfg.Name) == nil {
			gone = append(gone, o)
		}
	}
	return prev, gone
}

// carry gives svc, a new record not yet armed, what a keep-state reset
// keeps of its old service: the opstatus and disabled state as mon's
// state files give them back. Called with s.mu held.
func (p pairing) carry(svc *service) {
	if p.plain {
		carryState(svc, p.from)
	} else {
		carryOpstatus(svc, p.from)
	}
	if p.from.st.Disabled {
		svc.st.Disabled = true
	}
}

// keepsSchedule reports whether a keep-state reset keeps the fixed-rate
// schedule of svc's old service: when the reload leaves its interval as it
// was, its next run stays where it was planned instead of one interval
// (plus phase) after the reset, so a reload does not disturb the
// services it does not change. (mon restarts every schedule; what a run
// sees is the same, only when.) Services that were running, waiting for
// a slot or on failure_interval start over, as do all while the
// scheduler is stopped. Called with s.mu held.
func (s *Scheduler) keepsSchedule(svc *service, p pairing) bool {
	o := p.from // its configured interval is svc's (sameRate)
	return p.sameRate && !s.stopped && !o.running && !o.queued && o.due[tRun] != 0 && o.st.Interval == svc.cfg.Interval
}
