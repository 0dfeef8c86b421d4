package monitors

import (
	"strings"

	"github.com/gomon/gomon/internal/registry"
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

var builtins registry.Registry[*Builtin]

// Register adds a built-in under its name and aliases. It is called from
// init functions; a duplicate name is a programming error.
func Register(b *Builtin) {
	builtins.Register(b, append([]string{b.Name}, b.Aliases...)...)
}

// Lookup returns the built-in registered under name (canonical name or
// script alias, with or without the builtin: prefix), or nil.
func Lookup(name string) *Builtin {
	b, _ := builtins.Lookup(strings.TrimPrefix(name, BuiltinPrefix))
	return b
}

// Names returns every registered name and alias, sorted.
func Names() []string { return builtins.Names() }

// Prefixes that force one kind of implementation in a `monitor` line.
const (
	BuiltinPrefix = "builtin:" // always the built-in; unknown name is a config error
	ScriptPrefix  = "script:"  // always the external program found in mondir
)
