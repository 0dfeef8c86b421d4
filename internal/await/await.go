// Package await lets tests wait for what they need to see happen — a
// change in a directory, a file's content, a process's exit, text in a
// program's output, a state change announced by a callback — through the
// kernel's notifications (inotify, pidfd) or a broadcast from the code
// that made the change, rather than by sleeping and looking again.
//
// Every wait re-checks its condition after each notification, so it
// cannot miss a change that happened before it began; ctx bounds it.
package await

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Signal tells waiters that something changed. The zero value is ready
// to use.
type Signal struct {
	mu sync.Mutex
	ch chan struct{} // closed by Notify; nil while nobody waits
}

// Notify wakes every waiter, which then re-checks its condition.
func (s *Signal) Notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// next returns a channel that the next Notify closes.
func (s *Signal) next() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// Until calls cond at once and again after every Notify, until cond
// returns true or ctx ends; cond has a last look then.
func (s *Signal) Until(ctx context.Context, cond func() bool) error {
	for {
		// Taken before cond looks, so a Notify while it looks is seen.
		ch := s.next()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			if cond() {
				return nil
			}
			return ctx.Err()
		}
	}
}

// Output collects what a program writes (set it as cmd.Stdout or
// cmd.Stderr) and lets a test wait for text in it.
type Output struct {
	sig Signal
	mu  sync.Mutex
	b   strings.Builder
}

// Write appends p and wakes the waiters.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.b.Write(p)
	o.mu.Unlock()
	o.sig.Notify()
	return len(p), nil
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// Until waits until cond accepts the output so far.
func (o *Output) Until(ctx context.Context, cond func(string) bool) error {
	return o.sig.Until(ctx, func() bool { return cond(o.String()) })
}

// Contains waits until the output contains s.
func (o *Output) Contains(ctx context.Context, s string) error {
	if err := o.Until(ctx, func(out string) bool { return strings.Contains(out, s) }); err != nil {
		return fmt.Errorf("waiting for %q in the output: %w", s, err)
	}
	return nil
}

// Change calls cond at once and again whenever something in one of the
// directories dirs changes (a file is created, written, closed, renamed
// or removed), until cond returns true or ctx ends. Only the directories
// themselves are watched, not their subdirectories.
func Change(ctx context.Context, dirs []string, cond func() bool) error {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking descriptor goes into the runtime's poller, so a
	// read waits without a thread and a deadline ends it.
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	const mask = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO |
		unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_ATTRIB
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, mask); err != nil {
			return fmt.Errorf("watching %s: %w", d, err)
		}
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 64<<10)
	// The watches are in place before cond first looks: a change after
	// that look queues an event.
	for !cond() {
		if _, err := f.Read(buf); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading inotify events: %w", err)
		}
	}
	return nil
}

// File waits until the file at path exists and ok accepts its content,
// and returns the content. ok == nil accepts any content.
func File(ctx context.Context, path string, ok func([]byte) bool) ([]byte, error) {
	var b []byte
	err := Change(ctx, []string{filepath.Dir(path)}, func() bool {
		var err error
		b, err = os.ReadFile(path)
		return err == nil && (ok == nil || ok(b))
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for %s: %w", path, err)
	}
	return b, nil
}

// Exit waits until process pid has exited. The process need not be a
// child; one that has exited but not yet been reaped (a zombie) counts
// as exited, as does one that is gone.
func Exit(ctx context.Context, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil // gone already
	}
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return fmt.Errorf("pidfd %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	// A pidfd becomes readable when its process exits; the callback
	// looks without blocking, and the poller waits while it says no.
	err = rc.Read(func(fd uintptr) bool {
		p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			n, err := unix.Poll(p, 0)
			if !errors.Is(err, unix.EINTR) {
				return err == nil && n > 0
			}
		}
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("waiting for process %d to exit: %w", pid, ctx.Err())
		}
		return fmt.Errorf("waiting for process %d to exit: %w", pid, err)
	}
	return nil
}
