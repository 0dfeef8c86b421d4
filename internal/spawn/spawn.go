// Package spawn starts programs and waits for them without tying up an
// operating-system thread per child.
//
// os/exec waits for a child with a blocking waitid, so every running
// monitor holds a thread in the kernel: a thousand monitors running at
// once are a thousand threads. Here the child's pidfd goes into the
// runtime's network poller instead, and a waiting goroutine costs nothing
// until the kernel says the child has exited.
package spawn

import (
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attr says how to start a program.
type Attr struct {
	Env     []string // the complete environment (see Environ)
	Files   []int    // the child's fds 0, 1, 2…: our descriptors, in blocking mode; -1 means closed
	Setpgid bool     // put the child in a process group of its own
}

// Process is a started child. Wait must be called exactly once.
type Process struct {
	Pid   int
	pidfd *os.File // nil when the kernel has no pidfds: Wait blocks a thread
}

// Start runs path with argv (argv[0] included), never through a shell.
func Start(path string, argv []string, attr Attr) (*Process, error) {
	files := make([]uintptr, len(attr.Files))
	for i, fd := range attr.Files {
		files[i] = uintptr(fd) // -1 is ^uintptr(0): closed in the child
	}
	pidfd := -1
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env:   attr.Env,
		Files: files,
		Sys:   &syscall.SysProcAttr{Setpgid: attr.Setpgid, PidFD: &pidfd},
	})
	if err != nil {
		return nil, &os.PathError{Op: "fork/exec", Path: path, Err: err}
	}
	p := &Process{Pid: pid}
	if pidfd >= 0 {
		// F_SETFL alone: a pidfd has no other flags it could change.
		if _, err := unix.FcntlInt(uintptr(pidfd), unix.F_SETFL, unix.O_NONBLOCK); err == nil {
			p.pidfd = os.NewFile(uintptr(pidfd), "pidfd")
		} else {
			unix.Close(pidfd)
		}
	}
	return p, nil
}

// Wait reaps the child and returns how it ended. If beforeReap is not
// nil it is called once the child has exited but before it is reaped:
// until then its PID, and so its process-group ID, cannot be reused,
// which makes that the safe moment to signal the rest of its group.
func (p *Process) Wait(beforeReap func()) (syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	reap := func(flags int) (done bool, err error) {
		if beforeReap != nil {
			var info unix.Siginfo
			err := unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT|flags, nil)
			// Linux zeroes info when WNOHANG finds the child running.
			if err != nil || info.Signo == 0 {
				return false, err
			}
			beforeReap()
		}
		pid, err := syscall.Wait4(p.Pid, &ws, flags, nil)
		return pid != 0, err
	}
	if p.pidfd == nil {
		for {
			_, err := reap(0)
			if !errors.Is(err, syscall.EINTR) {
				return ws, err
			}
		}
	}
	defer p.pidfd.Close()
	rc, err := p.pidfd.SyscallConn()
	if err != nil {
		return ws, err
	}
	var werr error
	err = rc.Read(func(uintptr) bool {
		// The pidfd only says "exited"; reaping by pid is safe because
		// nobody else reaps this child, so the pid cannot be reused yet.
		done, err := reap(syscall.WNOHANG)
		switch {
		case errors.Is(err, syscall.EINTR):
			return false
		case err != nil:
			werr = err
			return true
		}
		return done // not yet: wait for the poller
	})
	if err != nil {
		return ws, err
	}
	return ws, werr
}

// Environ returns base with the variables in overrides set: an override
// replaces base's value, and of an override given twice the last one
// counts, as in os/exec. It allocates only the result, since it runs for
// every monitor run.
func Environ(base, overrides []string) []string {
	keys := make([]string, len(overrides))
	for i, kv := range overrides {
		keys[i], _, _ = strings.Cut(kv, "=")
	}
	out := make([]string, 0, len(base)+len(overrides))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(keys, k) {
			out = append(out, kv)
		}
	}
	for i, kv := range overrides {
		if !slices.Contains(keys[i+1:], keys[i]) {
			out = append(out, kv)
		}
	}
	return out
}
