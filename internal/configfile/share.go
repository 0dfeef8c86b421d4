package configfile

import (
	"time"

	"github.com/gomon/gomon/internal/config"
)

// specs hands out the specs of a configuration's services, one per
// distinct spec: at 100,000 services most differ only in name and
// position, and the spec is most of a service's configuration.
type specs struct {
	shared map[specKey]*config.ServiceSpec
	names  map[string]string // service names, each kept once
}

// specKey is what two specs must agree in to be shared: every field but
// the lists and pointers. A spec with any of those is not shared: those
// with periods, SNMP trap rules or downtimes carry their own positions,
// and the others (dependencies, environment, ...) are rare.
type specKey struct {
	interval, failureInterval, depMemory, randSkew            time.Duration
	trapTimeout, trapDuration, monitorTimeout                 time.Duration
	monitor, description, redistribute                        string
	depBehavior                                               config.DepBehavior
	clusterScope                                              config.Scope
	allowEmptyGroup, unackSummary, keepChildren, hostVerdicts bool
}

// keyOf returns sp's key, and false when sp is not to be shared.
func keyOf(sp *config.ServiceSpec) (specKey, bool) {
	if len(sp.ExcludeHosts) > 0 || len(sp.Env) > 0 || len(sp.Periods) > 0 ||
		len(sp.SNMPTraps) > 0 || len(sp.Downtimes) > 0 ||
		sp.ExcludePeriod != nil || sp.Schedule != nil || sp.Flap != nil ||
		sp.Depend != nil || sp.AlertDepend != nil || sp.MonitorDepend != nil || sp.HostDepend != nil {
		return specKey{}, false
	}
	return specKey{
		interval: sp.Interval, failureInterval: sp.FailureInterval, depMemory: sp.DepMemory, randSkew: sp.RandSkew,
		trapTimeout: sp.TrapTimeout, trapDuration: sp.TrapDuration, monitorTimeout: sp.MonitorTimeout,
		monitor: sp.Monitor, description: sp.Description, redistribute: sp.Redistribute,
		depBehavior: sp.DepBehavior, clusterScope: sp.ClusterScope,
		allowEmptyGroup: sp.AllowEmptyGroup, unackSummary: sp.UnackSummary, keepChildren: sp.KeepChildren, hostVerdicts: sp.HostVerdicts,
	}, true
}

// spec returns the spec to keep for a service read as sp: an equal one
// handed out before, or a copy of sp (which the builder reuses).
func (s *specs) spec(sp *config.ServiceSpec) *config.ServiceSpec {
	k, ok := keyOf(sp)
	if ok {
		if c := s.shared[k]; c != nil {
			return c
		}
	}
	c := new(config.ServiceSpec)
	*c = *sp
	if ok {
		if s.shared == nil {
			s.shared = map[specKey]*config.ServiceSpec{}
		}
		s.shared[k] = c
	}
	return c
}

// name returns name, the same string for every service of that name.
func (s *specs) name(name string) string {
	if n, ok := s.names[name]; ok {
		return n
	}
	if s.names == nil {
		s.names = map[string]string{}
	}
	s.names[name] = name
	return name
}
