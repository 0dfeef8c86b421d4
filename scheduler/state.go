package scheduler

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/atomicfile"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

// SaveState writes the named state files ("disabled", "opstatus", "all")
// to the state directory, atomically. Unknown names are ignored, as in mon.
func (s *Scheduler) SaveState(names ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveState(names...)
}

func (s *Scheduler) saveState(names ...string) error {
	var opstatus []byte
	if wants(names, "opstatus") {
		opstatus = s.encodeOpstatus()
	}
	return s.saveEncoded(names, opstatus)
}

// saveEncoded is saveState with the opstatus file already rendered, so
// that a reset keeping the state renders it once for the file and for
// itself (at 100,000 services that is a third of a second).
func (s *Scheduler) saveEncoded(names []string, opstatus []byte) error {
	var errs []error
	if wants(names, "disabled") {
		var b bytes.Buffer
		protocol.WriteDisabledState(&b, s.disabledState())
		if err := atomicfile.WriteFileAtomic(s.statePath("disabled"), b.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("could not write to state file: %w", err))
		}
		if err := s.saveDowntimes(); err != nil {
			errs = append(errs, fmt.Errorf("could not write to downtimes state file: %w", err))
		}
	}
	if wants(names, "opstatus") {
		if err := atomicfile.WriteFileAtomic(s.statePath("opstatus"), opstatus, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("could not write to opstatus state file: %w", err))
		}
	}
	for _, err := range errs {
		s.log.Error(err.Error())
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
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
	var d protocol.DisabledState
	// One line per group the host is disabled in, as mon writes it.
	for _, g := range s.cfg.HostGroups {
		for _, h := range g.Hosts {
			if s.disabledHosts[g.Name][h] {
				d.Hosts = append(d.Hosts, h)
			}
		}
	}
	for _, w := range s.watches {
		if s.disabledWatches[w.name] {
			d.Watches = append(d.Watches, w.name)
		}
		for _, svc := range w.services {
			if svc.st.Disabled {
				d.Services = append(d.Services, protocol.GroupService{Group: w.name, Service: svc.cfg.Name})
			}
		}
	}
	return d
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

// encodeOpstatus renders every service's state in mon's opstatus file
// format (scheduling §13.2).
func (s *Scheduler) encodeOpstatus() []byte {
	b := make([]byte, 0, 400*len(s.services))
	for _, svc := range s.services {
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

// carryOpstatus gives the services of a new load the state of the old
// services of the same names: field for field what writing the old ones'
// opstatus file and reading it back (mon's reset keepstate) gives, without
// the text, which took most of a second at 100,000 services.
// match is matchServices of old.
func (s *Scheduler) carryOpstatus(old, match []*service) {
	for i, o := range old {
		svc := match[i]
		if svc == nil {
			continue
		}
		if !plainRecord(o) {
			// Names the text format would cut apart: do the round trip.
			r, ok := protocol.ParseStateRecord(protocol.FormatStateRecord(stateRecord(o)))
			if ok && r.Group+"/"+r.Service == svc.key() {
				applyStateVars(svc, r)
			}
			continue
		}
		carryState(svc, o)
	}
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
func textRoundTrip(v string) string { return protocol.Unescape(protocol.EscapeRaw(v)) }
