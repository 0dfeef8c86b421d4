package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomon/gomon/internal/cluster"

	"github.com/gomon/gomon/internal/auth"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/scheduler"
)

// exitConfigError is the status for a configuration that does not load.
// (mon's is whatever errno was set when Perl died: 255, 25, 2…)
const exitConfigError = 1

//go:embed embedded/mon.cf embedded/auth.cf
var embeddedFiles embed.FS

// prepareEmbedded writes the embedded configuration into a private base
// directory (-b, else a per-user directory under the temp dir) and
// returns the path of its mon.cf.
func prepareEmbedded(o *options) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gomon-%d", os.Getuid()))
	if o.baseDir != nil {
		dir = *o.baseDir
	}
	for _, d := range []string{dir, filepath.Join(dir, "state"), filepath.Join(dir, "log"),
		filepath.Join(dir, "mon.d"), filepath.Join(dir, "alert.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("embedded configuration: %w", err)
		}
	}
	for _, name := range []string{"mon.cf", "auth.cf"} {
		data, _ := embeddedFiles.ReadFile("embedded/" + name)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("embedded configuration: %w", err)
		}
	}
	o.baseDir, o.cfBaseDir = &dir, &dir
	return filepath.Join(dir, "mon.cf"), nil
}

// loaded is the configuration the daemon starts with, and how to read it
// again.
type loaded struct {
	path     string
	embedded bool // the embedded configuration, written out to path
	load     func() (*config.Config, error)
	cfg      *config.Config
	problems []string // unresolved monitors and alerts
}

// readConfig reads the configuration the command line names and prints
// its warnings; with -C it prints the verdict. A nil result means the
// daemon stops here, with the returned status.
func readConfig(o *options, log *slog.Logger, stdout, stderr io.Writer) (*loaded, int) {
	if o.baseDir != nil {
		if st, err := os.Stat(*o.baseDir); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "basedir %s does not exist\n", *o.baseDir)
			return nil, 2
		}
	}
	c := &loaded{}
	var err error
	if c.path, c.embedded, err = configPath(o); err != nil {
		fmt.Fprintln(stderr, err)
		return nil, exitConfigError
	}
	lo := loadOptions(o)
	if c.embedded {
		var err error
		if c.path, err = prepareEmbedded(o); err != nil {
			fmt.Fprintln(stderr, err)
			return nil, 1
		}
		log.Info("no configuration file: running the embedded configuration", "file", c.path)
	}
	c.load = func() (*config.Config, error) { return loadChecked(c.path, lo) }
	if c.cfg, err = c.load(); err != nil {
		// The warnings first, as for a file that loads: they may be why
		// it does not (a line ignored, a block ended early).
		var ce *configfile.Error
		if errors.As(err, &ce) {
			for _, w := range ce.Warnings {
				fmt.Fprintln(stderr, warningText(w))
			}
		}
		fmt.Fprintln(stderr, err)
		return nil, exitConfigError
	}
	for _, w := range c.cfg.Warnings {
		fmt.Fprintln(stderr, warningText(w))
	}
	_, missing := scheduler.CheckPrograms(c.cfg)
	if !o.checkConfig {
		// The daemon runs the rest, as mon does, and says what it cannot.
		for _, w := range missing {
			c.problems = append(c.problems, w.String()+" (warning)")
		}
		return c, 0
	}
	// The check is asked before an install or a restart: a program that
	// is not there would fail every run, so it fails the check.
	for _, d := range missing {
		fmt.Fprintln(stderr, d.String())
	}
	// It may wait on connections: the check only, not every start.
	for _, w := range scheduler.CheckDelivery(context.Background(), c.cfg) {
		fmt.Fprintln(stderr, w.String()+" (warning)")
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "%s: %d %s not found\n", c.path, len(missing), plural(len(missing), "program", "programs"))
		return nil, exitConfigError
	}
	fmt.Fprintf(stdout, "%s: configuration OK\n", c.path)
	return nil, 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// loadChecked reads the configuration file and resolves every monitor
// and alert line, and is the one validation path: `mon --check-config`,
// the daemon's start and every reload (reset, SIGHUP) go through it, so
// what one rejects the others reject too. A built-in whose arguments are
// wrong is an error here; a program not installed is only a warning (mon
// logs it and runs the rest).
func loadChecked(path string, lo configfile.LoadOptions) (*config.Config, error) {
	cfg, err := configfile.Load(path, lo)
	if err != nil {
		return nil, err
	}
	errs, _ := scheduler.CheckPrograms(cfg)
	for i, d := range errs {
		errs[i].Legacy = fmt.Sprintf("cf error: %s, line %d", d.Msg, d.Pos.Line)
	}
	// What the start reads besides mon.cf: auth.cf and the clientallow
	// patterns.
	whole := func(err error) {
		errs = append(errs, config.Diagnostic{Pos: config.Pos{File: cfg.Source}, Msg: cfg.Source + ": " + err.Error(), Legacy: err.Error()})
	}
	if _, err := auth.Load(cfg.Globals.AuthFile); err != nil {
		whole(err)
	}
	if err := cluster.Check(cfg.Globals.Cluster); err != nil {
		whole(err)
	}
	if err := server.CheckClientAllow(strings.Fields(strings.Join(cfg.Globals.ClientAllow, " "))); err != nil {
		whole(err)
	}
	if len(errs) == 0 {
		return cfg, nil
	}
	return nil, &configfile.Error{Diags: errs, Warnings: cfg.Warnings}
}

// loadOptions are the configfile.LoadOptions for the command line: mon's
// "initial value" options seed the globals, the "override" options are
// applied after every read. Unlike mon, the overrides are re-applied on
// every reset too (Q-CFG-1): the command line keeps meaning what it says.
func loadOptions(o *options) configfile.LoadOptions {
	g := configfile.Defaults()
	if o.cfBaseDir != nil {
		g.CfBaseDir = *o.cfBaseDir
	}
	if o.logDir != nil {
		g.LogDir = *o.logDir
	}
	lo := configfile.LoadOptions{Globals: &g, Override: o.override}
	if o.m4 != nil {
		lo.M4, lo.M4Command = true, *o.m4
	}
	return lo
}

// override applies the command-line overrides to the file's globals.
func (o *options) override(g *config.Globals) {
	if o.alertDir != nil {
		g.AlertDir = splitDirs(*o.alertDir)
	}
	if o.scriptDir != nil {
		g.MonDir = splitDirs(*o.scriptDir)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.AuthFile, o.authFile)
	set(&g.BaseDir, o.baseDir)
	set(&g.StateDir, o.stateDir)
	set(&g.LogDir, o.logDir)
	set(&g.PidFile, o.pidFile)
	set(&g.SyslogFacility, o.syslogFac)
	if o.maxKeep != nil {
		g.HistLength = *o.maxKeep
	}
	if o.maxProcs != nil {
		g.MaxProcs = *o.maxProcs
	}
	if o.port != nil {
		g.ServerPort = *o.port
	}
	if o.trapPort != nil {
		g.TrapPort = *o.trapPort
	}
	if o.randStart != nil {
		g.RandStart = *o.randStart
	}
}

func splitDirs(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ":") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, strings.TrimSuffix(d, "/"))
		}
	}
	return out
}

// configPath returns the file to read: -c, else CFBASEDIR/mon.cf, or
// the embedded configuration with --embedded-config. A daemon whose
// configuration is missing stops: quietly watching this host instead of
// what the operator configured would look like a working monitor.
func configPath(o *options) (path string, embedded bool, err error) {
	if o.embedded {
		return "", true, nil
	}
	if o.configFile != "" {
		return o.configFile, false, nil
	}
	base := configfile.Defaults().CfBaseDir
	if o.cfBaseDir != nil {
		base = *o.cfBaseDir
	}
	p := filepath.Join(base, "mon.cf")
	if _, err := os.Stat(p); err != nil {
		return "", false, fmt.Errorf("no configuration file: %s does not exist; name one with -c FILE, "+
			"or run the built-in configuration that watches this host with --embedded-config", p)
	}
	return p, false, nil
}

// warningText prints config warnings: mon's own two warnings exactly as
// mon prints them, others with their position.
func warningText(d config.Diagnostic) string {
	if d.Legacy != "" {
		return d.Legacy
	}
	return d.String()
}
