// Package registry is a name → value table for the built-in monitors and
// alerts: each registers itself from an init function under its name and
// the script names it replaces.
package registry

import (
	"fmt"
	"sort"
	"sync"
)

// Registry maps names to values of type T. The zero value is ready to use.
type Registry[T any] struct {
	mu sync.RWMutex
	m  map[string]T
}

// Register adds v under every name. A duplicate name is a programming
// error and panics (registration happens in init functions).
func (r *Registry[T]) Register(v T, names ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]T{}
	}
	for _, n := range names {
		if _, dup := r.m[n]; dup {
			panic(fmt.Sprintf("registry: %q registered twice", n))
		}
		r.m[n] = v
	}
}

// Lookup returns the value registered under name.
func (r *Registry[T]) Lookup(name string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v, ok := r.m[name]
	return v, ok
}

// Names returns every registered name, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
