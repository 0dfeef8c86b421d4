package monitors

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Factory builds a built-in monitor from its configured arguments. It
// parses and validates the flags once, at config load, so that a bad
// option is a config error rather than a failing check.
type Factory func(args []string) (Monitor, error)

// Builtin describes a registered built-in monitor.
type Builtin struct {
	Name    string   // canonical name, e.g. "http"
	Aliases []string // script names it replaces, e.g. "http.monitor"
	Usage   string   // one-line synopsis of its flags
	New     Factory
}

var (
	mu       sync.RWMutex
	builtins = map[string]*Builtin{}
)

// Register adds a built-in under its name and aliases. It is called from
// init functions; a duplicate name is a programming error.
func Register(b *Builtin) {
	mu.Lock()
	defer mu.Unlock()
	for _, n := range append([]string{b.Name}, b.Aliases...) {
		if _, dup := builtins[n]; dup {
			panic(fmt.Sprintf("monitors: %q registered twice", n))
		}
		builtins[n] = b
	}
}

// Lookup returns the built-in registered under name (canonical name or
// script alias), or nil.
func Lookup(name string) *Builtin {
	mu.RLock()
	defer mu.RUnlock()
	return builtins[strings.TrimPrefix(name, BuiltinPrefix)]
}

// Names returns every registered name and alias, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Prefixes that force one kind of implementation in a `monitor` line.
const (
	BuiltinPrefix = "builtin:" // always the built-in; unknown name is a config error
	ScriptPrefix  = "script:"  // always the external program found in mondir
)
