package scheduler

// SingletonGroups returns the groups whose only member is host (mon's
// host_singleton_group): disabling or enabling the host also disables or
// enables their watches, and monremote is told about each.
func (s *Scheduler) SingletonGroups(host string) []string {
	s.mu.readLock()
	defer s.mu.Unlock()
	var out []string
	for _, g := range s.groups {
		if len(g.hosts) == 1 && g.hosts[0] == host {
			out = append(out, g.name)
		}
	}
	return out
}
