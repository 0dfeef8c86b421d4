package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// daemonEnv marks the background copy started by -f; its value is the
// file descriptor of the pipe on which the copy reports readiness.
const daemonEnv = "GOMON_DAEMON_READY_FD"

// readyMessage is what the background copy writes on the pipe once its
// sockets are bound and its pid file is written.
const readyMessage = "ready\n"

// daemonize implements -f. Go cannot fork safely, so instead of mon's
// double fork the binary starts itself again with the same arguments in
// a new session (umask 022, stdin /dev/null) and waits until that copy
// has bound its sockets. Until then the copy writes to our stdout and
// stderr, so configuration errors show up in the terminal, and its exit
// status becomes ours; once it is ready we exit 0.
func daemonize(argv []string, stdout, stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "mon: could not fork: %v\n", err)
		return 1
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "mon: could not fork: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	syscall.Umask(0o022)
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		fmt.Fprintf(stderr, "mon: could not fork: %v\n", err)
		return 1
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	r.Close()
	if line == readyMessage {
		return 0
	}
	// The pipe closed without the message: the copy has exited (or
	// closed fd 3 by mistake, then we must not wait for it forever).
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(stderr, "mon: the background process did not report readiness")
		return 1
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() > 0 {
		return ee.ExitCode()
	}
	return 1
}

// daemonChild is the background side of -f: the readiness pipe taken
// from the environment, or nil when this process was not started by -f.
type daemonChild struct {
	ready *os.File
}

// takeDaemonChild reads and clears the -f marker, so that monitors and
// alerts do not inherit it, and keeps the pipe out of their way.
func takeDaemonChild() *daemonChild {
	v, ok := os.LookupEnv(daemonEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(daemonEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	syscall.CloseOnExec(fd)
	return &daemonChild{ready: os.NewFile(uintptr(fd), "ready")}
}

// detach finishes daemonizing once the sockets are bound: stdout and
// stderr are appended to errFile (mon's monerrfile) with mon's
// "Mon starting at" line, then the waiting parent is released.
func (d *daemonChild) detach(errFile string) error {
	defer d.ready.Close()
	if errFile == "" {
		errFile = os.DevNull
	}
	f, err := os.OpenFile(errFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOCTTY, 0o644)
	if err != nil {
		return fmt.Errorf("could not open error output file %s: %w", errFile, err)
	}
	defer f.Close()
	// Perl's scalar localtime, e.g. "Mon Nov  3 04:05:06 2025".
	fmt.Fprintf(f, "Mon starting at %s\n", time.Now().Format("Mon Jan _2 15:04:05 2006"))
	for _, fd := range []int{1, 2} {
		if err := unix.Dup2(int(f.Fd()), fd); err != nil {
			return fmt.Errorf("could not redirect: %w", err)
		}
	}
	if _, err := io.WriteString(d.ready, readyMessage); err != nil {
		return fmt.Errorf("could not report readiness: %w", err)
	}
	return nil
}
