// Package testnet helps tests that run daemons on loopback.
package testnet

import (
	"errors"
	"fmt"
	"net"
	"testing"
)

// FreePort returns a 127.0.0.1 port that was free for both TCP and UDP a
// moment ago (mon's client port and trap port are one number).
func FreePort() (int, error) {
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no free port for TCP and UDP on 127.0.0.1")
}

// Port is FreePort for a test, which fails without one.
func Port(t testing.TB) int {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// Acceptor listens on a free loopback TCP port, accepts every connection
// and closes it at once (a service a tcp check finds up), until the test
// ends. It returns the port.
func Acceptor(t testing.TB) string {
	t.Helper()
	return Serve(t, "127.0.0.1:0", nil)
}

// Serve listens on addr (a port of 0 picks a free one), serves each
// connection in its own goroutine and closes it after serve returns (at
// once when serve is nil), until the test ends. It returns the port.
func Serve(t testing.TB, addr string, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if serve == nil {
				c.Close()
				continue
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
