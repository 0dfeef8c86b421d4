package config

import (
	"maps"
	"slices"
	"strings"
)

// MonitorName is the monitor program of s: the first word of its monitor
// line ("" when there is none).
func (s *Service) MonitorName() string { return firstField(s.Monitor) }

// RedistributeName is the alert program of s's redistribute line. mon
// looks up the whole value including arguments (Q-CFG-3); gomon uses the
// first word.
func (s *Service) RedistributeName() string { return firstField(s.Redistribute) }

// ProgramNames returns the sorted, distinct monitor and alert names the
// configuration uses, for building the lookup tables at (re)load.
func (c *Config) ProgramNames() (monitors, alerts []string) {
	mons, alrt := map[string]bool{}, map[string]bool{}
	for _, w := range c.Watches {
		for _, s := range w.Services {
			if n := s.MonitorName(); n != "" {
				mons[n] = true
			}
			if n := s.RedistributeName(); n != "" {
				alrt[n] = true
			}
			for _, p := range s.Periods {
				for _, list := range [][]AlertLine{p.Alerts, p.UpAlerts, p.StartupAlerts, p.AckAlerts, p.DisableAlerts} {
					for _, a := range list {
						alrt[a.Name] = true
					}
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(mons)), slices.Sorted(maps.Keys(alrt))
}

// firstField is the first blank-separated word of s, or "".
func firstField(s string) string {
	isSpace := func(r rune) bool { return strings.ContainsRune(" \t\n\r\f\v", r) }
	if f := strings.FieldsFunc(s, isSpace); len(f) > 0 {
		return f[0]
	}
	return ""
}
