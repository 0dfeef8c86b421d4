package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// notifier speaks systemd's sd_notify protocol: one datagram per state
// change to the unix socket named by $NOTIFY_SOCKET. It is a no-op when
// the variable is not set (not started by systemd with Type=notify).
type notifier struct {
	addr     string        // socket path; "@name" is an abstract socket
	watchdog time.Duration // ping period (half of $WATCHDOG_USEC); 0 = off
}

// takeNotifier reads and clears the systemd variables, so that monitors
// and alerts do not talk to systemd in our name.
func takeNotifier() *notifier {
	n := &notifier{addr: os.Getenv("NOTIFY_SOCKET")}
	usec, _ := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	pid := os.Getenv("WATCHDOG_PID")
	if usec > 0 && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		n.watchdog = time.Duration(usec) * time.Microsecond / 2
	}
	for _, v := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		os.Unsetenv(v)
	}
	return n
}

// send sends one state string such as "READY=1".
func (n *notifier) send(state string) error {
	if n.addr == "" {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: n.addr, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// keepAlive sends WATCHDOG=1 every watchdog period while alive reports
// true, until ctx is done. alive should fail when the daemon is stuck,
// so that systemd restarts it.
func (n *notifier) keepAlive(ctx context.Context, alive func() bool) {
	if n.addr == "" || n.watchdog <= 0 {
		return
	}
	t := time.NewTicker(n.watchdog)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if alive() {
				n.send("WATCHDOG=1")
			}
		}
	}
}

// reloading is the RELOADING=1 message; systemd's notify-reload services
// must also say when, on the monotonic clock.
func reloading() string {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return "RELOADING=1"
	}
	return fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", ts.Nano()/1000)
}
