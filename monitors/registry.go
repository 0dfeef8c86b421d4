package monitors

import (
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/internal/spawn"
)

// Builtin describes a registered built-in monitor.
type Builtin = registry.Builtin[Monitor]

// builtins is filled by the init functions of the built-ins' files.
var builtins registry.Registry[Monitor]

// Register adds a built-in under its name and aliases. It is called from
// init functions; a duplicate name is a programming error.
func Register(b *Builtin) { builtins.Register(b) }

// Builtins returns the registry of built-in monitors.
func Builtins() *registry.Registry[Monitor] { return &builtins }

// Resolver resolves `monitor` lines: built-ins, or programs in dirs
// (mondir) run by External on run.
func Resolver(dirs []string, run *spawn.Runner) *registry.Resolver[Monitor] {
	return &registry.Resolver[Monitor]{Kind: "monitor", Builtins: &builtins, Dirs: dirs,
		Program: func(path string) Monitor { return &External{Path: path, Runner: run} }}
}
