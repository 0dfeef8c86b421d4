// Package registry holds the built-in monitors and alerts and resolves a
// `monitor` or alert line's name to what runs it: a built-in (by its name
// or the script name it replaces), or a program found on a search path.
// Monitors and alerts use the same generic types, so the two can never
// resolve by different rules.
package registry

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Prefixes that force one kind of implementation in a monitor or alert
// line.
const (
	BuiltinPrefix = "builtin:" // always the built-in; an unknown name is a config error
	ScriptPrefix  = "script:"  // always the program found on the search path
)

// Builtin describes one built-in implementation of T.
type Builtin[T any] struct {
	Name    string   // canonical name, e.g. "http"
	Aliases []string // script names it replaces (its drop-in names), e.g. "http.monitor"
	Usage   string   // one-line synopsis of its flags
	// New builds it from its configured arguments. It parses and checks
	// them once, when the configuration is loaded, so a bad option is a
	// configuration error rather than a failing check.
	New func(args []string) (T, error)
}

// Registry maps names to built-ins. The zero value is ready to use.
type Registry[T any] struct {
	mu   sync.RWMutex
	m    map[string]*Builtin[T]
	list []*Builtin[T] // registration order
}

// Register adds b under its name and aliases. It is called from init
// functions; a duplicate name is a programming error and panics.
func (r *Registry[T]) Register(b *Builtin[T]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]*Builtin[T]{}
	}
	for _, n := range append([]string{b.Name}, b.Aliases...) {
		if _, dup := r.m[n]; dup {
			panic(fmt.Sprintf("registry: %q registered twice", n))
		}
		r.m[n] = b
	}
	r.list = append(r.list, b)
}

// Lookup returns the built-in registered under name (canonical name or
// alias, with or without the builtin: prefix), or nil.
func (r *Registry[T]) Lookup(name string) *Builtin[T] {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.m[strings.TrimPrefix(name, BuiltinPrefix)]
}

// Names returns every registered name and alias, sorted.
func (r *Registry[T]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.m))
	for n := range r.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// DropIns returns every alias, sorted: the script names under which the
// multi-call binary runs a built-in in place of the script.
func (r *Registry[T]) DropIns() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var names []string
	for _, b := range r.list {
		names = append(names, b.Aliases...)
	}
	slices.Sort(names)
	return names
}

// Resolver resolves names of one kind (monitors or alerts).
type Resolver[T any] struct {
	Kind     string // "monitor" or "alert", for messages
	Builtins *Registry[T]
	Dirs     []string // the search path: mondir or alertdir
	// Program returns the implementation that runs the program at path.
	Program func(path string) T
}

// Resolved is a resolved name.
type Resolved[T any] struct {
	Impl T
	Path string // the program's path, or "builtin:NAME"
}

// Resolve resolves a line's name and arguments: `builtin:NAME` is the
// built-in, `script:NAME` the program on the search path, and a bare NAME
// the built-in registered under it (a script name such as http.monitor)
// or else the program. A program that is not installed is a *NotFound.
func (r *Resolver[T]) Resolve(name string, args []string) (Resolved[T], error) {
	script, forced := strings.CutPrefix(name, ScriptPrefix)
	if !forced {
		if b := r.Builtins.Lookup(name); b != nil {
			impl, err := b.New(args)
			if err != nil {
				return Resolved[T]{}, fmt.Errorf("%s %s: %w", r.Kind, name, err)
			}
			return Resolved[T]{Impl: impl, Path: BuiltinPrefix + b.Name}, nil
		}
		if strings.HasPrefix(name, BuiltinPrefix) {
			return Resolved[T]{}, fmt.Errorf("no built-in %s %q", r.Kind, name)
		}
	}
	path, err := FindProgram(r.Dirs, script)
	if err != nil {
		return Resolved[T]{}, &NotFound{Kind: r.Kind, Name: script, Err: err}
	}
	return Resolved[T]{Impl: r.Program(path), Path: path}, nil
}

// NotFound is a monitor or alert program that is not installed. mon logs
// it and carries on, so it is not a configuration error.
type NotFound struct {
	Kind, Name string
	Err        error // from FindProgram
}

// Error is mon's log text for the miss.
func (e *NotFound) Error() string {
	if e.Kind == "monitor" {
		return "no monitor found while trying to run [" + e.Name + "]: " + e.Err.Error()
	}
	return "no " + e.Kind + " found while trying to run " + e.Name
}

func (e *NotFound) Unwrap() error { return e.Err }

// FindProgram returns the first dirs[i]/name that is an executable regular
// file, the way mon builds its monitor and alert tables (config.md §1.4).
// Elements that are not searchable directories are skipped.
func FindProgram(dirs []string, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty program name")
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		st, err := os.Stat(p)
		if err == nil && st.Mode().IsRegular() && unix.Access(p, unix.X_OK) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in one of (%s)", name, strings.Join(dirs, " "))
}
