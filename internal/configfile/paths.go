package configfile

import (
	"github.com/gomon/gomon/internal/auth"
	"github.com/gomon/gomon/internal/config"

	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// Resolve makes the paths of c.Globals absolute the way mon does after
// every successful read (config.md §1.3); cwd is the daemon's working
// directory. Unlike mon, which stores a relative basedir/cfbasedir as
// "./X", gomon makes them absolute so a later chdir cannot change them.
// Missing directories and files are added to c.Warnings (mon logs them).
func Resolve(c *config.Config, cwd string) {
	g := &c.Globals
	g.BaseDir = under(cwd, g.BaseDir)
	g.CfBaseDir = under(cwd, g.CfBaseDir)
	g.StateDir = under(g.BaseDir, g.StateDir)
	g.LogDir = under(g.BaseDir, g.LogDir)
	g.MonDir = underAll(g.BaseDir, g.MonDir)
	g.AlertDir = underAll(g.BaseDir, g.AlertDir)
	g.AuthFile, g.UserFile = authFiles(g, cwd)
	g.DtLogFile = under(g.LogDir, g.DtLogFile)
	if g.HistoricFile != "" {
		g.HistoricFile = under(g.LogDir, g.HistoricFile)
	}

	miss := func(msg string) {
		c.Warnings = append(c.Warnings, config.Diagnostic{Pos: config.Pos{File: c.Source}, Msg: "warning: " + msg})
	}
	for _, d := range []string{g.StateDir, g.LogDir} {
		if !isDir(d) {
			miss(d + " does not exist")
		}
	}
	for _, d := range append(append([]string(nil), g.MonDir...), g.AlertDir...) {
		if !isDir(d) {
			miss(d + " does not exist, check your alertdir and mondir paths")
		}
	}
}

// under returns p taken relative to base when it is not absolute.
func under(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func underAll(base string, dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = under(base, d)
	}
	return out
}

// authFiles returns the resolved authfile and userfile: relative to
// cfbasedir, the userfile only when "userfile" is an authtype (as mon).
func authFiles(g *config.Globals, cwd string) (authFile, userFile string) {
	cfbase := under(cwd, g.CfBaseDir)
	userFile = g.UserFile
	if contains(g.AuthType, "userfile") {
		userFile = under(cfbase, userFile)
	}
	return under(cfbase, g.AuthFile), userFile
}

// checkAuthFiles requires an authfile/userfile named in the file to be
// readable. mon checks the raw value against its cwd while parsing, so a
// relative name fails; gomon checks the resolved path (Q-CFG-2), and the
// userfile only when the userfile authtype uses it.
func (b *builder) checkAuthFiles() {
	g := &b.cfg.Globals
	authFile, userFile := authFiles(g, b.opts.Cwd)
	if b.authfilePos != nil && !readable(authFile) {
		b.fail(*b.authfilePos, errf("authfile '%s' does not exist or is not readable", g.AuthFile).withHint("looked for %s", authFile))
	}
	if b.userfilePos != nil && contains(g.AuthType, "userfile") && !readable(userFile) {
		b.fail(*b.userfilePos, errf("userfile '%s' does not exist or is not readable", g.UserFile).withHint("looked for %s", userFile))
	}
}

// checkAuthType applies the authenticator's own check of the authtype
// list, so that --check-config, the start and a reload refuse the same
// configurations.
func (b *builder) checkAuthType() {
	g := &b.cfg.Globals
	if b.authtypePos == nil {
		return
	}
	if err := auth.CheckMethods(g.AuthType, g.UserFile); err != nil {
		b.fail(*b.authtypePos, errf("%v", err).withHint("authtype takes getpwnam, userfile, trustlocal or shadow"))
	}
}

func readable(path string) bool {
	return unix.Access(path, unix.R_OK) == nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
