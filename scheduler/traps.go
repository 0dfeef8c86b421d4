package scheduler

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// TrapEvent is an authenticated, decoded trap (protocol.md §9).
type TrapEvent struct {
	From    string // sender IP
	Group   string // grp
	Service string // svc
	Status  string // sta: "0" or "" is OK, anything else a failure
	Summary string // sum
	Detail  string // dtl
	Type    string // typ (logged only)
	OpCode  string // spc (logged only)
}

// Trap routes and processes one trap (protocol.md §9.5, scheduling §7.1).
// The error says why a trap was dropped, in mon's words.
func (s *Scheduler) Trap(t TrapEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	grp, name, intended := t.Group, t.Service, ""
	if s.watchByName(grp) == nil && s.watchByName("default") != nil {
		intended = grp + ":" + name
		grp = "default"
	}
	if grp == "default" && s.watchIdx.service("default", name) == nil && s.watchIdx.service("default", "default") != nil {
		name = "default"
	}
	if s.groups[grp] == nil {
		return fmt.Errorf("trap received for undefined group %s", grp)
	}
	svc := s.watchIdx.service(grp, name)
	if svc == nil {
		return fmt.Errorf("trap received for undefined service type %s/%s", grp, name)
	}
	if !s.owned(svc) {
		return &NotOwnerError{Group: grp, Service: name}
	}
	now := s.clk.Now()
	if tt := svc.cfg.TrapTimeout; tt > 0 {
		s.arm(svc, tTrapTimeout, now.Add(tt))
	}
	svc.st.SetLastTrap(now.Unix())
	svc.st.SetIntended(intended)
	s.log.Info(fmt.Sprintf("trap %s %s from %s grp=%s svc=%s, sta=%s", t.Type, t.OpCode, t.From, grp, name, t.Status))
	if td := svc.cfg.TrapDuration; td > 0 {
		s.arm(svc, tTrapDuration, now.Add(td))
	}
	// mon appends a newline to the summary and then joins with another:
	// the detail starts with an empty line (Q-SCH-6, kept).
	sum := t.Summary
	if len(sum) == 0 || sum[len(sum)-1] != '\n' {
		sum += "\n"
	}
	s.processEvent(svc, decide.Result{Kind: decide.Trap, Exit: staExit(t.Status), Output: sum + "\n" + t.Detail}, now)
	svc.st.SetIntended("")
	s.emit(Event{Kind: "trap", Group: grp, Service: name, Time: now})
	return nil
}

// staExit turns a trap's sta into an exit value: Perl truth decides
// failure, so "" and "0" are success and any other text is a failure.
func staExit(sta string) int {
	if sta == "" || sta == "0" {
		return 0
	}
	n, err := strconv.Atoi(sta)
	if err != nil || n == 0 {
		return 1
	}
	return n
}

// trapTimeout fires the heartbeat failure of a service whose traps
// stopped (spec §7.2). Called with s.mu held.
func (s *Scheduler) trapTimeout(svc *service, now time.Time) {
	tt := svc.cfg.TrapTimeout
	out := "trap timeout\ntrap timeout after " + seconds(tt) + "s at " + ctime(now) + "\n"
	s.processEvent(svc, decide.Result{Kind: decide.TrapTimeout, Exit: 1, Output: out}, now)
	s.arm(svc, tTrapTimeout, now.Add(tt))
}

func (s *Scheduler) watchByName(name string) *watch { return s.watchIdx[name] }
