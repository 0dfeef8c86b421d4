package alerts

import (
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/internal/spawn"
)

// Builtin describes a registered built-in alert.
type Builtin = registry.Builtin[Alert]

// builtins is filled by the init functions of the built-ins' files.
var builtins registry.Registry[Alert]

// Register adds a built-in under its name and aliases. It is called from
// init functions; a duplicate name is a programming error.
func Register(b *Builtin) { builtins.Register(b) }

// Builtins returns the registry of built-in alerts.
func Builtins() *registry.Registry[Alert] { return &builtins }

// Resolver resolves alert lines: built-ins, or programs in dirs
// (alertdir) run by External on run.
func Resolver(dirs []string, run *spawn.Runner) *registry.Resolver[Alert] {
	return &registry.Resolver[Alert]{Kind: "alert", Builtins: &builtins, Dirs: dirs,
		Program: func(path string) Alert { return &External{Path: path, Runner: run} }}
}
