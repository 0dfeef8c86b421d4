package scheduler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// Replica links the scheduler to a cluster of gomon nodes
// (internal/cluster, docs/cluster.md). Without one (Options.Replica nil)
// the scheduler runs alone, exactly as mon.
//
// In cluster mode a shard-scope service runs on its owner only. The owner
// publishes the service's state on every transition and operator action
// (never on every result), and sends the service's alerts only once the
// cluster has accepted that state under the owner's lease. Alert lines
// marked local, and every alert of an all-scope service, run on each node
// without asking anyone.
type Replica interface {
	// Owns reports whether this node runs the shard-scope service now.
	// It is asked on the scheduler's hot path and must not block.
	Owns(group, service string) bool
	// Commit publishes a service's state, in order. Send, when not nil,
	// starts the alerts the transition decided; the replica calls it
	// once the cluster accepted the state under this node's lease and
	// ownership, and never otherwise (docs/cluster.md, "fencing").
	Commit(c Commit)
}

// Commit is one published state of a service.
type Commit struct {
	Group, Service string
	State          []byte // as Import reads it
	Send           func() // nil: nothing to send
}

// NotOwnerError is Trap's answer for a shard-scope service that another
// cluster node runs: the trap is its owner's to process.
type NotOwnerError struct{ Group, Service string }

func (e *NotOwnerError) Error() string {
	return "trap for " + e.Group + "/" + e.Service + " belongs to another cluster node"
}

// replicated is what the cluster keeps of a service.
type replicated struct {
	State     decide.State
	LastCheck int64 `json:",omitempty"` // unix seconds
	// Local are the node-local alerts the owner's last result decided:
	// every other node runs them when it imports the state.
	Local []decide.Action `json:",omitempty"`
}

// clustered reports whether svc's alerts and state belong to the cluster.
func (s *Scheduler) clustered(svc *service) bool {
	return s.opts.Replica != nil && svc.cfg.ClusterScope == config.ScopeShard
}

// owned reports whether this node runs svc: always alone or for an
// all-scope service, else when the replica says so.
func (s *Scheduler) owned(svc *service) bool {
	return !s.clustered(svc) || s.opts.Replica.Owns(svc.w.name, svc.cfg.Name)
}

// heldAlert is an alert that waits for its service's state to be
// accepted by the cluster.
type heldAlert struct {
	a   decide.Action
	env []string
	now time.Time
}

// carryOut records a decision's trace, starts the alerts it asked for
// and, in cluster mode, publishes the service's state. fromResult is set
// for decisions on this node's own results (monitor runs, traps): their
// node-local alerts travel with the state so that the other nodes run
// them too. Operator actions reach every node, which runs its own.
// Called with s.mu held.
func (s *Scheduler) carryOut(svc *service, d decide.Decision, now time.Time, fromResult bool) {
	s.addTrace(svc, d.Trace)
	s.noteState(svc, now)
	var local []decide.Action
	for _, a := range d.Actions {
		s.dispatch(svc, a, s.alertEnv(svc, a), now)
		if a.Line.Local && fromResult {
			local = append(local, a)
		}
	}
	s.publish(svc, local, !fromResult)
}

// publish hands svc's state to the replica when this node owns it and
// something worth keeping changed (or force is set), with the alerts held
// for it. Called with s.mu held.
func (s *Scheduler) publish(svc *service, local []decide.Action, force bool) {
	held := svc.peek().held
	if svc.m != nil {
		svc.m.held = nil
	}
	if !s.clustered(svc) || !s.owned(svc) {
		return
	}
	sig := signature(svc.st)
	if !force && len(held) == 0 && len(local) == 0 && sig == svc.peek().sig {
		return // a result that changed nothing the cluster keeps
	}
	svc.more().sig = sig
	r := replicated{State: *svc.st, Local: local}
	if !svc.lastCheck.IsZero() {
		r.LastCheck = svc.lastCheck.Unix()
	}
	data, err := json.Marshal(r)
	if err != nil {
		s.log.Error("cannot encode service state", "group", svc.w.name, "service", svc.cfg.Name, "err", err)
		return
	}
	c := Commit{Group: svc.w.name, Service: svc.cfg.Name, State: data}
	if len(held) > 0 {
		gen := s.gen
		c.Send = func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if gen != s.gen {
				return // a reset replaced the service
			}
			for _, h := range held {
				s.startAlert(svc, h.a, h.env, h.now)
			}
		}
	}
	s.opts.Replica.Commit(c)
}

// signature is the part of a state whose change is a transition for the
// cluster: the status, acks, disables and each period's alert
// bookkeeping. Counters that move with every result (consecutive
// failures, last success) ride along with the next transition.
func signature(st *decide.State) string {
	b, _ := json.Marshal(struct {
		Op    decide.Status
		Ack   int64
		AckC  string
		Dis   bool
		First bool
		FI    bool
		P     []decide.PeriodState
		H     []string `json:",omitempty"` // per-host verdicts: the failing hosts
		Flap  bool     `json:",omitempty"`
	}{st.OpStatus, st.Ack, st.AckComment, st.Disabled, st.HasFirstFailure, st.FailureIntervalActive, periodMarks(st.Periods),
		st.FailingHosts(nil), st.Flapping})
	return string(b)
}

// periodMarks drops the per-result failure count from the period states.
func periodMarks(ps []decide.PeriodState) []decide.PeriodState {
	out := make([]decide.PeriodState, len(ps))
	for i, p := range ps {
		p.FailCount = 0
		out[i] = p
	}
	return out
}

// ExportState returns the state of one service as the cluster keeps it.
func (s *Scheduler) ExportState(group, service string) ([]byte, error) {
	s.mu.readLock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return nil, err
	}
	r := replicated{State: *svc.st}
	if !svc.lastCheck.IsZero() {
		r.LastCheck = svc.lastCheck.Unix()
	}
	return json.Marshal(r)
}

// Import applies a service's state published by another node; nil data
// means the cluster has none, and the service starts afresh. With replay
// set (a transition seen as it happened, not a state loaded at start or
// takeover) the node-local alerts that transition decided run here too.
// An "import" event follows, for the reconcilers.
func (s *Scheduler) Import(group, service string, data []byte, replay bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil {
		return err
	}
	r := replicated{State: *decide.NewState(svc.cfg)}
	if data != nil {
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("service %s/%s: bad state from the cluster: %w", group, service, err)
		}
	}
	if len(r.State.Periods) != len(svc.cfg.Periods) {
		return fmt.Errorf("service %s/%s: state from the cluster has %d periods, the configuration %d",
			group, service, len(r.State.Periods), len(svc.cfg.Periods))
	}
	interval := svc.st.Interval
	*svc.st = r.State
	if svc.st.Interval == 0 {
		svc.st.Interval = interval
	}
	now := s.clk.Now()
	// A node whose clock runs ahead would otherwise hold this node's
	// alertevery window (and show a failure from the future) by the skew.
	for i := range svc.st.Periods {
		if p := &svc.st.Periods[i]; p.LastAlert > now.Unix() {
			s.log.Warn("state from the cluster has an alert time in the future (clock skew between nodes?); taken as now",
				"group", group, "service", service, "skew", time.Duration(p.LastAlert-now.Unix())*time.Second)
			p.LastAlert = now.Unix()
		}
	}
	svc.more().sig = signature(svc.st)
	if r.LastCheck != 0 {
		svc.lastCheck = time.Unix(r.LastCheck, 0)
	}
	if replay {
		for _, a := range r.Local {
			if a.Line.Local {
				s.startAlert(svc, a, s.alertEnv(svc, a), now)
			}
		}
	}
	if !svc.st.Disabled && svc.m != nil {
		svc.m.disabled = nil
	}
	s.noteState(svc, now)
	s.noteState(svc, now)
	s.emit(Event{Kind: "import", Group: group, Service: service, Time: now})
	return nil
}

// PublishAll publishes the state of every service this node owns, after
// a reset cleared them. Called with s.mu held.
func (s *Scheduler) publishAll() {
	for _, svc := range s.services {
		s.publish(svc, nil, true)
	}
}

// TakeOver runs a service this node has just taken over at once when its
// last run (by whichever node) is an interval old or more, instead of at
// its next slot: a takeover then costs the lease, not the lease plus an
// interval.
func (s *Scheduler) TakeOver(group, service string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc, err := s.lookup(group, service)
	if err != nil || svc.running || svc.cfg.Interval == 0 || svc.cfg.Schedule != nil {
		return
	}
	now := s.clk.Now()
	if !svc.lastCheck.IsZero() && now.Sub(svc.lastCheck) < svc.st.Interval {
		return
	}
	s.arm(svc, tRun, now)
}

// DisabledHostsAndWatches is the part of the disabled state that belongs
// to no single service, in mon's state-file format: what a cluster keeps
// for nodes that join later.
func (s *Scheduler) DisabledHostsAndWatches() []byte {
	s.mu.readLock()
	defer s.mu.Unlock()
	d := s.disabledState()
	d.Services = nil
	var b bytes.Buffer
	protocol.WriteDisabledState(&b, d)
	return b.Bytes()
}

// ImportDisabledHostsAndWatches replaces the disabled hosts and watches
// by the cluster's (DisabledHostsAndWatches' format).
func (s *Scheduler) ImportDisabledHostsAndWatches(data []byte) error {
	d, err := protocol.ParseDisabledState(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("disabled hosts and watches from the cluster: %w", err)
	}
	d.Services = nil
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.disabledHosts)
	clear(s.disabledWatches)
	s.applyDisabled(d)
	s.writeDisabled()
	return nil
}
