package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/scheduler/decide"
)

// Service is one service as the scheduler sees it: its configuration,
// whose alert lines name what to keep, and its health.
type Service struct {
	Group, Name string
	Config      *config.Service
	State       decide.State
	// Disabled is true while the service or its watch is disabled: its
	// last result is then no verdict on its hosts.
	Disabled bool
	// Members are the group's hosts its monitor is given; Unchecked are
	// the others (disabled hosts, exclude_hosts), on which it has no
	// opinion.
	Members, Unchecked []string
}

// Ref names a service.
type Ref struct{ Group, Service string }

// Line is one alert or upalert line of a service that names the
// reconciled built-in, with its parsed arguments.
type Line[A any] struct {
	Ref
	Svc    *Service
	Period int // index of the line's period in the service
	Config config.AlertLine
	Alert  A
}

// IsBuiltin reports whether an alert line's name is the built-in kind
// (kind, kind.alert, builtin:kind…; script:kind.alert is someone else's).
func IsBuiltin(name, kind string) bool {
	b := alerts.Builtins()
	return !strings.HasPrefix(name, registry.ScriptPrefix) &&
		b.Lookup(name) != nil && b.Lookup(name) == b.Lookup(kind)
}

// Names reports whether an alert or upalert line of cfg names the
// built-in kind (cfg nil: no).
func Names(cfg *config.Config, kind string) bool {
	if cfg == nil {
		return false
	}
	seen := map[string]bool{} // IsBuiltin per distinct name: lines repeat
	is := func(name string) bool {
		b, ok := seen[name]
		if !ok {
			b = IsBuiltin(name, kind)
			seen[name] = b
		}
		return b
	}
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			for _, p := range s.Periods {
				for _, l := range p.Alerts {
					if is(l.Name) {
						return true
					}
				}
				for _, l := range p.UpAlerts {
					if is(l.Name) {
						return true
					}
				}
			}
		}
	}
	return false
}

// Lines returns the alert and upalert lines of services that name the
// built-in kind, in config order, parsed by parse.
func Lines[A any](services []Service, kind string, parse func([]string) (A, error)) ([]Line[A], []error) {
	var (
		out  []Line[A]
		errs []error
	)
	for i := range services {
		s := &services[i]
		if s.Config == nil {
			continue
		}
		for p, per := range s.Config.Periods {
			for _, al := range slices.Concat(per.Alerts, per.UpAlerts) {
				if !IsBuiltin(al.Name, kind) {
					continue
				}
				a, err := parse(al.Args)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s/%s: %w", s.Group, s.Name, err))
					continue
				}
				out = append(out, Line[A]{Ref: Ref{s.Group, s.Name}, Svc: s, Period: p, Config: al, Alert: a})
			}
		}
	}
	return out, errs
}

// Group splits lines by key, in the order each key first appears, each
// group in config order (what one connection or one record set serves).
func Group[A any, K comparable](lines []Line[A], key func(Line[A]) K) [][]Line[A] {
	index := map[K]int{}
	var out [][]Line[A]
	for _, l := range lines {
		k := key(l)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], l)
	}
	return out
}

// Failing returns the members the line's service reports failing (an
// empty, non-nil list when it is up), or nil when it gives no verdict:
// no result yet, disabled, a failure the line does not stand for
// (decide.Firing: its period has sent no alert for it yet, or it is
// outside the line's exit= range; the alert has not acted either), or a
// failure naming no member when the alert acts on the failing hosts. An
// alert that names its own target (fixed: lvs -R, dnsupdate -A) counts
// every member failing on any failure.
func (l Line[A]) Failing(fixed bool) []string {
	s := l.Svc
	op := s.State.OpStatus
	switch {
	case op == decide.Untested || op == decide.Depend || s.Disabled:
		return nil
	case !op.IsFailure():
		return []string{}
	case !decide.Firing(s.Config, &s.State, l.Period, l.Config):
		return nil
	case fixed:
		return s.Members
	case len(s.Members) == 0:
		return nil
	}
	// As the alert reads its event: the summary's words that are members.
	return FailingMembers(s.State.LastSummary, s.Members) // nil when it names none
}

// FailingMembers returns the words of summary that are group members, in
// summary order without duplicates (all words when members is empty):
// the hosts a failure's summary names, as an alert that acts on the
// failing hosts reads them.
func FailingMembers(summary string, members []string) []string {
	var out []string
	for _, w := range strings.Fields(summary) {
		if (len(members) == 0 || slices.Contains(members, w)) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
