package configfile

import (
	"fmt"

	"github.com/gomon/gomon/internal/config"
	"golang.org/x/sys/unix"

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
	path, src, err := readSource(path, &opts)
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

// Bounds on m4, whose macros can expand without end: a runaway
// definition (define(x, x x)x) grew to 11 GB before these.
const (
	m4MaxOutput = 64 << 20 // bytes of configuration m4 may produce
	m4MaxMemory = 1 << 30  // its address space (RLIMIT_AS)
)

// runM4 returns m4's output for path. It runs the program directly, never
// through a shell, bounded in time (m4Timeout), memory and output, and
// dies with the process that runs it (the daemon or the check).
func runM4(path, m4 string) ([]byte, error) {
	if m4 == "" {
		m4 = "m4"
	}
	ctx, cancel := context.WithTimeout(context.Background(), m4Timeout)
	defer cancel()
	stdout := &boundedBuffer{max: m4MaxOutput, fail: true}
	stderr := &boundedBuffer{max: 64 << 10} // errprint in a loop must not grow us
	cmd := exec.CommandContext(ctx, m4, path)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		return nil, fileError(path, "could not open m4 pipe of cf file: "+path+": "+errnoText(err))
	}
	// Set right after the exec: m4 has barely started.
	lim := unix.Rlimit{Cur: m4MaxMemory, Max: m4MaxMemory}
	_ = unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_AS, &lim, nil)
	err := cmd.Wait()
	var why string
	switch {
	case stdout.exceeded:
		why = fmt.Sprintf("its output passed %d MiB (a macro that expands without end?)", m4MaxOutput>>20)
	case ctx.Err() != nil:
		why = fmt.Sprintf("it ran longer than %v (a macro that expands without end?)", m4Timeout)
	case err != nil:
		why = err.Error()
	default:
		return stdout.buf.Bytes(), nil
	}
	e := fileError(path, "m4 failed on "+path+": "+why)
	e.Diags[0].Legacy = "Could not open pipe to m4 (check that m4 is properly installed and in your PATH): " + why
	e.Diags[0].Hint = strings.TrimSpace(stderr.buf.String()) // Diagnostic.String clips it
	return nil, e
}

// boundedBuffer keeps up to max bytes. Past that it drops the rest, or
// with fail fails the write, which ends m4 with a broken pipe.
type boundedBuffer struct {
	buf      bytes.Buffer
	max      int
	fail     bool
	exceeded bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.exceeded = true
		if b.fail {
			return 0, errors.New("m4 output too large")
		}
		b.buf.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return b.buf.Write(p)
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

// readSource finds path (relative to opts.Cwd, which it sets when empty)
// and returns its absolute form and the text to parse: the file, or m4's
// output for ".m4" or opts.M4.
func readSource(path string, opts *LoadOptions) (string, []byte, error) {
	if opts.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", nil, fileError(path, "cannot determine the working directory: "+err.Error())
		}
		opts.Cwd = wd
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(opts.Cwd, path)
	}
	switch st, err := os.Stat(path); {
	case err != nil:
		return "", nil, fileError(path, "config file "+path+" does not exist")
	case st.IsDir():
		return "", nil, fileError(path, "config file "+path+" is a directory")
	case !st.Mode().IsRegular():
		return "", nil, fileError(path, "config file "+path+" is not a regular file")
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
	return path, src, err
}
