package scheduler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gomon/gomon/internal/atomicfile"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// SaveState writes the named state files ("disabled", "opstatus", "all")
// to the state directory, atomically. Unknown names are ignored, as in mon.
// The files are rendered with the lock held and written after it is
// released.
func (s *Scheduler) SaveState(names ...string) error {
	s.mu.Lock()
	sv := s.snapshotState(names)
	s.mu.Unlock()
	return s.writeState(sv)
}

// saveState is SaveState with s.mu held, written before it returns.
func (s *Scheduler) saveState(names ...string) error {
	return s.writeState(s.snapshotState(names))
}

// The state files, in the order a save writes them.
const (
	fileDisabled = iota
	fileDowntimes
	fileOpstatus
	nStateFiles
)

// stateFile orders the writes of one state file: writes happen after
// s.mu is released, so a save may reach the file after a later one; it
// is then skipped, and an older state never replaces a newer one.
type stateFile struct {
	mu      sync.Mutex
	written uint64 // the newest save written (seq of stateSave)
}

// stateSave is what one save writes: the contents of each file, taken
// with s.mu held, and the save's place among all saves (seq).
type stateSave struct {
	seq   uint64
	files [nStateFiles]*fileSave // nil: not part of this save
}

// fileSave is one file of a save: data, or what render makes when the
// save is written (render must read only what no longer changes: the
// services a reset has replaced), or no file (remove).
type fileSave struct {
	path   string
	data   []byte
	render func() []byte
	remove bool
	errMsg string // what the error log line says
}

// snapshotState takes the named state files' contents. Called with s.mu
// held.
func (s *Scheduler) snapshotState(names []string) *stateSave {
	sv := s.newSave()
	if wants(names, "disabled") {
		var b bytes.Buffer
		protocol.WriteDisabledState(&b, s.disabledState())
		sv.files[fileDisabled] = &fileSave{path: s.statePath("disabled"), data: b.Bytes(), errMsg: "could not write to state file"}
		sv.files[fileDowntimes] = s.downtimesSave()
	}
	if wants(names, "opstatus") {
		sv.files[fileOpstatus] = &fileSave{path: s.statePath("opstatus"), data: encodeOpstatus(s.services), errMsg: "could not write to opstatus state file"}
	}
	return sv
}

// newSave numbers a save. Called with s.mu held.
func (s *Scheduler) newSave() *stateSave {
	s.saveSeq++
	return &stateSave{seq: s.saveSeq}
}

// writeState writes a save's files, each unless a later save has been
// written to it already. Errors are logged; the first is returned.
func (s *Scheduler) writeState(sv *stateSave) error {
	// Everything is rendered first: what render reads (a reset's
	// replaced services) can then be freed while the files are written.
	for _, f := range sv.files {
		if f != nil && f.render != nil {
			f.data, f.render = f.render(), nil
		}
	}
	var first error
	for i, f := range sv.files {
		if f == nil {
			continue
		}
		sf := &s.stateFiles[i]
		sf.mu.Lock()
		var err error
		if sv.seq > sf.written {
			sf.written = sv.seq
			err = f.write()
		}
		sf.mu.Unlock()
		if err != nil {
			err = fmt.Errorf("%s: %w", f.errMsg, err)
			s.log.Error(err.Error())
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (f *fileSave) write() error {
	if f.remove {
		if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return atomicfile.WriteFileAtomic(f.path, f.data, 0o644)
}

// LoadState reads the named state files back ("disabled", "opstatus",
// "all"). Entries for unknown watches or services are logged and skipped.
func (s *Scheduler) LoadState(names ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	if wants(names, "disabled") {
		f, err := os.Open(s.statePath("disabled"))
		if err == nil {
			d, perr := protocol.ParseDisabledState(f)
			f.Close()
			err = perr
			if err == nil {
				s.applyDisabled(d)
				err = s.loadDowntimes()
				s.log.Info("state 'disabled' loaded")
			}
		}
		if err != nil {
			s.log.Error("could not read state file: " + err.Error())
			first = err
		}
	}
	if wants(names, "opstatus") {
		b, err := os.ReadFile(s.statePath("opstatus"))
		if err == nil {
			s.decodeOpstatus(b)
			s.log.Info("state 'opstatus' loaded")
		} else {
			s.log.Error("could not read state file: " + err.Error())
			if first == nil {
				first = err
			}
		}
	}
	s.downtimesDue(s.clk.Now(), true)
	return first
}

func wants(names []string, what string) bool {
	for _, n := range names {
		if n == what || n == "all" {
			return true
		}
	}
	return false
}

func (s *Scheduler) statePath(name string) string {
	return filepath.Join(s.cfg.Globals.StateDir, name)
}

func (s *Scheduler) disabledState() protocol.DisabledState {
	d := s.disabledGroups()
	d.Services = disabledServices(s.services)
	return d
}

// disabledGroups is disabledState without the services.
func (s *Scheduler) disabledGroups() protocol.DisabledState {
	var d protocol.DisabledState
	// (Without any disabled, skip walking every group with the lock held.)
	// One line per group the host is disabled in, as mon writes it.
	for _, g := range s.cfg.HostGroups {
		if len(s.disabledHosts) == 0 {
			break
		}
		for _, h := range g.Hosts {
			if s.disabledHosts[g.Name][h] {
				d.Hosts = append(d.Hosts, h)
			}
		}
	}
	for _, w := range s.watches {
		if len(s.disabledWatches) == 0 {
			break
		}
		if s.disabledWatches[w.name] {
			d.Watches = append(d.Watches, w.name)
		}
	}
	return d
}

// disabledServices is the services part of disabledState.
func disabledServices(services []*service) []protocol.GroupService {
	var out []protocol.GroupService
	for _, svc := range services {
		if svc.st.Disabled {
			out = append(out, protocol.GroupService{Group: svc.w.name, Service: svc.cfg.Name})
		}
	}
	return out
}

// resetSave is a keep-state reset's save of every state file, as mon
// writes them before it re-reads the configuration, and the disabled
// hosts and watches, which the reset restores. The services' parts are
// rendered when written, from old: the reset replaces them under the
// same lock hold, and nothing changes a replaced service (its runs'
// results and alerts' outcomes are dropped by generation). Called with
// s.mu held, before the new services are installed.
func (s *Scheduler) resetSave(old []*service) (protocol.DisabledState, *stateSave) {
	sv := s.newSave()
	d := s.disabledGroups()
	sv.files[fileDisabled] = &fileSave{path: s.statePath("disabled"), errMsg: "could not write to state file", render: func() []byte {
		all := d
		all.Services = disabledServices(old)
		var b bytes.Buffer
		protocol.WriteDisabledState(&b, all)
		return b.Bytes()
	}}
	sv.files[fileDowntimes] = s.downtimesSave()
	sv.files[fileOpstatus] = &fileSave{path: s.statePath("opstatus"), errMsg: "could not write to opstatus state file",
		render: func() []byte { return encodeOpstatus(old) }}
	return d, sv
}

// writeDisabled rewrites the disabled state file after an enable or
// disable command changed something, as mon does.
func (s *Scheduler) writeDisabled() {
	if s.cfg.Globals.StateDir != "" {
		s.saveState("disabled")
	}
}

func (s *Scheduler) applyDisabled(d protocol.DisabledState) {
	for _, h := range d.Hosts {
		for _, g := range s.groups {
			if contains(g.hosts, h) {
				if s.disabledHosts[g.name] == nil {
					s.disabledHosts[g.name] = map[string]bool{}
				}
				s.disabledHosts[g.name][h] = true
			}
		}
	}
	for _, w := range d.Watches {
		if s.watchByName(w) == nil {
			s.log.Error("undefined watch reading state file: disable watch " + w)
			continue
		}
		s.disabledWatches[w] = true
	}
	for _, gs := range d.Services {
		svc := s.watchIdx.service(gs.Group, gs.Service)
		if svc == nil {
			s.log.Error("undefined group or service reading state file: disable service " + gs.Group + " " + gs.Service)
			continue
		}
		svc.st.Disabled = true
	}
}

// encodeOpstatus renders the services' state in mon's opstatus file
// format (scheduling §13.2).
func encodeOpstatus(services []*service) []byte {
	b := make([]byte, 0, 400*len(services))
	for _, svc := range services {
		b = appendStateLine(b, svc)
	}
	return b
}

// appendStateLine appends the service's opstatus line, as
// protocol.FormatStateRecord(stateRecord(svc)) and a newline, but without
// the maps: a reset keeping the state writes it for every service.
func appendStateLine(b []byte, svc *service) []byte {
	st := svc.st
	str := func(k, v string) { b = append(append(append(append(b, '\t'), k...), '='), protocol.EscapeRaw(v)...) }
	num := func(k string, n int64) { b = strconv.AppendInt(append(append(append(b, '\t'), k...), '='), n, 10) }
	b = append(append(append(append(b, "group="...), svc.w.name...), "\tservice="...), svc.cfg.Name...)
	// In protocol.StateVars order; what gomon does not keep is empty.
	num("op_status", int64(st.OpStatus))
	num("failure_count", int64(st.FailureCount))
	num("alert_count", int64(st.AlertCount))
	num("last_success", st.LastSuccess)
	str("first_success", st.FirstSuccess)
	num("consec_failures", int64(st.ConsecFailures))
	num("last_failure", st.LastFailure)
	if st.HasFirstFailure && !st.FirstFailureBlank {
		num("first_failure", st.FirstFailure)
	} else {
		str("first_failure", "")
	}
	str("last_summary", st.LastSummary)
	b = append(b, "\tlast_failure_time=\tlast_failure_summary=\tlast_failure_detail="...)
	str("last_detail", st.LastDetail)
	num("ack", st.Ack)
	str("ack_comment", st.AckComment)
	num("last_trap", st.LastTrap())
	str("last_traphost", "")
	if st.HasExitVal {
		num("exitval", int64(st.ExitVal))
	} else {
		str("exitval", "undef")
	}
	if !svc.lastCheck.IsZero() {
		num("last_check", svc.lastCheck.Unix())
	} else {
		str("last_check", "")
	}
	num("last_op_status", int64(st.LastOpStatus))
	str("failure_output", st.FailureOutput())
	str("trap_timer", "")
	for i, p := range svc.cfg.Periods {
		ps := &st.Periods[i]
		// What mon never assigned is undefined there, written empty.
		pnum := func(k string, d decide.PeriodVars, n int64) {
			b = append(append(append(append(append(b, '\t'), p.Key...), ':'), k...), '=')
			if d == 0 || ps.Defined&d != 0 {
				b = strconv.AppendInt(b, n, 10)
			}
		}
		pnum("last_alert", decide.DefLastAlert, ps.LastAlert)
		pnum("alert_sent", 0, int64(ps.AlertSent))
		pnum("1stfailtime", decide.DefFirstFailTime, ps.FirstFailTime)
		pnum("failcount", decide.DefFailCount, int64(ps.FailCount))
	}
	return append(b, '\n')
}

// stateRecord is the service's line of the opstatus file.
func stateRecord(svc *service) protocol.StateRecord {
	st := svc.st
	v := map[string]string{
		"op_status":            strconv.Itoa(int(st.OpStatus)),
		"failure_count":        strconv.Itoa(st.FailureCount),
		"alert_count":          strconv.Itoa(st.AlertCount),
		"last_success":         itoa(st.LastSuccess),
		"consec_failures":      strconv.Itoa(st.ConsecFailures),
		"last_failure":         itoa(st.LastFailure),
		"last_summary":         st.LastSummary,
		"last_detail":          st.LastDetail,
		"ack":                  itoa(st.Ack),
		"ack_comment":          st.AckComment,
		"last_trap":            itoa(st.LastTrap()),
		"last_op_status":       strconv.Itoa(int(st.LastOpStatus)),
		"failure_output":       st.FailureOutput(),
		"exitval":              "undef",
		"last_failure_summary": "",
	}
	if st.HasExitVal {
		v["exitval"] = strconv.Itoa(st.ExitVal)
	}
	if st.HasFirstFailure {
		v["first_failure"] = firstFailureText(st.FirstFailure, st.FirstFailureBlank)
	}
	v["first_success"] = st.FirstSuccess
	if !svc.lastCheck.IsZero() {
		v["last_check"] = itoa(svc.lastCheck.Unix())
	}
	r := protocol.StateRecord{Group: svc.w.name, Service: svc.cfg.Name, Vars: v}
	for i, p := range svc.cfg.Periods {
		ps := st.Periods[i]
		// What mon never assigned is undefined there, written empty.
		ifDef := func(d decide.PeriodVars, v string) string {
			if ps.Defined&d == 0 {
				return ""
			}
			return v
		}
		r.Periods = append(r.Periods, protocol.PeriodState{Key: p.Key, Vars: map[string]string{
			"last_alert":  ifDef(decide.DefLastAlert, itoa(ps.LastAlert)),
			"alert_sent":  strconv.Itoa(ps.AlertSent),
			"1stfailtime": ifDef(decide.DefFirstFailTime, itoa(ps.FirstFailTime)),
			"failcount":   ifDef(decide.DefFailCount, strconv.Itoa(ps.FailCount)),
		}})
	}
	return r
}

// decodeOpstatus applies an opstatus file to the services it names.
func (s *Scheduler) decodeOpstatus(data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		r, ok := protocol.ParseStateRecord(sc.Text())
		if !ok {
			continue
		}
		svc := s.watchIdx.service(r.Group, r.Service)
		if svc == nil {
			continue
		}
		applyStateVars(svc, r)
	}
}

func applyStateVars(svc *service, r protocol.StateRecord) {
	st := svc.st
	num := func(k string) (int64, bool) {
		n, err := strconv.ParseInt(strings.TrimSpace(r.Vars[k]), 10, 64)
		return n, err == nil
	}
	setInt := func(k string, dst *int) {
		if n, ok := num(k); ok {
			*dst = int(n)
		}
	}
	setTime := func(k string, dst *int64) {
		if n, ok := num(k); ok {
			*dst = n
		}
	}
	if n, ok := num("op_status"); ok {
		st.OpStatus = decide.Status(n)
	}
	if n, ok := num("last_op_status"); ok {
		st.LastOpStatus = decide.Status(n)
	}
	if n, ok := num("exitval"); ok {
		st.ExitVal, st.HasExitVal = int(n), true
	}
	setInt("failure_count", &st.FailureCount)
	setInt("alert_count", &st.AlertCount)
	setInt("consec_failures", &st.ConsecFailures)
	setTime("last_success", &st.LastSuccess)
	setTime("last_failure", &st.LastFailure)
	setTime("ack", &st.Ack)
	if n, ok := num("last_trap"); ok {
		st.SetLastTrap(n)
	}
	// mon loads every field in the file as it is, so one saved empty
	// (never set before the save) is defined afterwards: its MON_*
	// variable is exported, empty.
	if n, ok := num("first_failure"); ok {
		st.FirstFailure, st.HasFirstFailure, st.FirstFailureBlank = n, true, false
	} else if v, ok := r.Vars["first_failure"]; ok && v == "" {
		st.FirstFailure, st.HasFirstFailure, st.FirstFailureBlank = 0, true, true
	}
	if v, ok := r.Vars["first_success"]; ok {
		st.FirstSuccess, st.HasFirstSuccess = v, true
	}
	if v, ok := r.Vars["last_summary"]; ok {
		st.LastSummary, st.HasLastEvent = v, true
	}
	if n, ok := num("last_check"); ok {
		svc.lastCheck = time.Unix(n, 0) // list opstatus shows it, as mon does
	}
	st.LastDetail = r.Vars["last_detail"]
	st.AckComment = r.Vars["ack_comment"]
	st.SetFailureOutput(r.Vars["failure_output"])
	for _, ps := range r.Periods {
		for i, p := range svc.cfg.Periods {
			if p.Key != ps.Key {
				continue
			}
			dst := &st.Periods[i]
			// mon loads every field as it is: an empty one is written
			// back empty, one not in the file keeps its value.
			for k, d := range map[string]decide.PeriodVars{"last_alert": decide.DefLastAlert, "1stfailtime": decide.DefFirstFailTime, "failcount": decide.DefFailCount} {
				if v, ok := ps.Vars[k]; ok {
					dst.Defined &^= d
					if v != "" {
						dst.Defined |= d
					}
				}
			}
			if n, err := strconv.ParseInt(ps.Vars["last_alert"], 10, 64); err == nil {
				dst.LastAlert = n
			}
			if n, err := strconv.Atoi(ps.Vars["alert_sent"]); err == nil {
				dst.AlertSent = n
			}
			if n, err := strconv.ParseInt(ps.Vars["1stfailtime"], 10, 64); err == nil {
				dst.FirstFailTime = n
			}
			if n, err := strconv.Atoi(ps.Vars["failcount"]); err == nil {
				dst.FailCount = n
			}
		}
	}
}

// carryOpstatus gives svc, a service of a new load, the state of from,
// the old service of the same name: field for field what writing from's
// opstatus line and reading it back (mon's reset keepstate) gives,
// without the text, which took most of a second at 100,000 services.
func carryOpstatus(svc, from *service) {
	if !plainRecord(from) {
		// Names the text format would cut apart: do the round trip.
		r, ok := protocol.ParseStateRecord(protocol.FormatStateRecord(stateRecord(from)))
		if ok && r.Group+"/"+r.Service == svc.key() {
			applyStateVars(svc, r)
		}
		return
	}
	carryState(svc, from)
}

// plainRecord reports whether the service's opstatus line would read back
// as written: no tab or line end in its names, no '=' in a period key.
func plainRecord(svc *service) bool {
	if strings.ContainsAny(svc.w.name, "\t\r\n") || strings.ContainsAny(svc.cfg.Name, "\t\r\n") {
		return false
	}
	for _, p := range svc.cfg.Periods {
		if strings.ContainsAny(p.Key, "=\t\r\n") {
			return false
		}
	}
	return true
}

// carryState is applyStateVars of src's opstatus record, applied to dst.
func carryState(dst, src *service) {
	d, o := dst.st, src.st
	d.OpStatus, d.LastOpStatus = o.OpStatus, o.LastOpStatus
	if o.HasExitVal { // written "undef" otherwise, which reads as nothing
		d.ExitVal, d.HasExitVal = o.ExitVal, true
	}
	d.FailureCount, d.AlertCount, d.ConsecFailures = o.FailureCount, o.AlertCount, o.ConsecFailures
	d.LastSuccess, d.LastFailure, d.Ack = o.LastSuccess, o.LastFailure, o.Ack
	d.SetLastTrap(o.LastTrap())
	// first_failure, first_success and last_summary are always written
	// (empty when never set) and read back as defined.
	if o.HasFirstFailure && !o.FirstFailureBlank {
		d.FirstFailure, d.HasFirstFailure, d.FirstFailureBlank = o.FirstFailure, true, false
	} else {
		d.FirstFailure, d.HasFirstFailure, d.FirstFailureBlank = 0, true, true
	}
	d.FirstSuccess, d.HasFirstSuccess = textRoundTrip(o.FirstSuccess), true
	d.LastSummary, d.HasLastEvent = textRoundTrip(o.LastSummary), true
	if !src.lastCheck.IsZero() {
		dst.lastCheck = time.Unix(src.lastCheck.Unix(), 0)
	}
	d.LastDetail = textRoundTrip(o.LastDetail)
	d.AckComment = textRoundTrip(o.AckComment)
	d.SetFailureOutput(textRoundTrip(o.FailureOutput()))
	const carried = decide.DefLastAlert | decide.DefFirstFailTime | decide.DefFailCount
	for i, p := range dst.cfg.Periods {
		// Of old periods sharing a key the last one's fields come last
		// in the line, and win.
		j := -1
		for k, op := range src.cfg.Periods {
			if op.Key == p.Key {
				j = k
			}
		}
		if j < 0 {
			continue
		}
		sp, dp := &o.Periods[j], &d.Periods[i]
		dp.Defined = dp.Defined&^carried | sp.Defined&carried
		if sp.Defined&decide.DefLastAlert != 0 {
			dp.LastAlert = sp.LastAlert
		}
		dp.AlertSent = sp.AlertSent
		if sp.Defined&decide.DefFirstFailTime != 0 {
			dp.FirstFailTime = sp.FirstFailTime
		}
		if sp.Defined&decide.DefFailCount != 0 {
			dp.FailCount = sp.FailCount
		}
	}
}

// textRoundTrip is a value as the state file gives it back: escaping
// does not double backslashes, so a literal "\0a" comes back a newline.
// Without a backslash the value comes back as it was, uncopied.
func textRoundTrip(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	return protocol.Unescape(protocol.EscapeRaw(v))
}
