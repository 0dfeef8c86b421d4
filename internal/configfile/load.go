package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LoadOptions carries what the daemon knows when it reads a configuration.
type LoadOptions struct {
	// M4 pipes the file through m4 even when its name does not end in
	// ".m4" (mon's -M).
	M4 bool
	// M4Command is the m4 program; "" means "m4" from $PATH. (mon's bare -M
	// tries to execute the config file itself, Q-CFG-4; gomon does not.)
	M4Command string
	// Globals are the settings the file is read on top of; nil means
	// Defaults(). mon reads the file over its current settings on a reset
	// (config.md §1.1), so the daemon passes its running globals there.
	Globals *config.Globals
	// HostDisabled reports whether a host of a group is disabled in the
	// running daemon; such hosts are stored as "*host", so they stay
	// disabled across a re-read (config.md §7.1). nil = none. See
	// DisabledIn for the common case.
	HostDisabled func(group, host string) bool
	// Cwd is the directory relative paths are taken against (the daemon's
	// working directory). Load uses os.Getwd when it is empty. Parse only
	// uses it to check that authfile/userfile are readable (Q-CFG-2).
	Cwd string
	// Override, when set, is applied to the globals after the file was
	// read and before paths are resolved: the daemon's command-line
	// overrides (-s, -a, -D, -L, -p, …) go here.
	Override func(*config.Globals)
}

// DisabledIn returns a HostDisabled function that keeps the hosts marked
// "*host" in prev (the configuration being replaced). prev may be nil.
func DisabledIn(prev *config.Config) func(group, host string) bool {
	return func(group, host string) bool {
		if prev == nil {
			return false
		}
		g := prev.HostGroup(group)
		return g != nil && contains(g.Hosts, "*"+host)
	}
}

// m4Timeout bounds the m4 run; m4 can loop forever on recursive macros.
const m4Timeout = time.Minute

// Load reads, parses and validates the configuration file path, and
// resolves its paths (Resolve). The format follows the file name: ".hcl" is
// HCL, anything else mon.cf (through m4 for ".m4" or opts.M4). A relative
// path is taken against opts.Cwd. Errors are *Error.
func Load(path string, opts LoadOptions) (*config.Config, error) {
	if opts.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fileError(path, "cannot determine the working directory: "+err.Error())
		}
		opts.Cwd = wd
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(opts.Cwd, path)
	}
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil, fileError(path, "config file "+path+" does not exist")
	}

	var (
		src []byte
		err error
	)
	if opts.M4 || strings.HasSuffix(path, ".m4") {
		src, err = runM4(path, opts.M4Command)
	} else if src, err = os.ReadFile(path); err != nil {
		err = fileError(path, "could not open cf file: "+path+": "+errnoText(err))
	}
	if err != nil {
		return nil, err
	}

	var c *config.Config
	if strings.HasSuffix(path, ".hcl") {
		c, err = parseHCL(path, src, opts)
	} else {
		c, err = Parse(path, src, opts)
	}
	if err != nil {
		return nil, err
	}
	if opts.Override != nil {
		opts.Override(&c.Globals)
	}
	Resolve(c, opts.Cwd)
	return c, nil
}

// runM4 returns m4's output for path. It runs the program directly, never
// through a shell.
func runM4(path, m4 string) ([]byte, error) {
	if m4 == "" {
		m4 = "m4"
	}
	ctx, cancel := context.WithTimeout(context.Background(), m4Timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, m4, path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, fileError(path, "could not open m4 pipe of cf file: "+path+": "+errnoText(err))
	}
	if err := cmd.Wait(); err != nil {
		e := fileError(path, "Could not open pipe to m4 (check that m4 is properly installed and in your PATH): "+err.Error())
		e.Diags[0].Hint = strings.TrimSpace(stderr.String())
		return nil, e
	}
	return stdout.Bytes(), nil
}

// errnoText renders an OS error the way Perl's $! does ("Permission
// denied"); other errors are returned as they are.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	if errors.Is(err, exec.ErrNotFound) {
		return "No such file or directory"
	}
	return err.Error()
}
