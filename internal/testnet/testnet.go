// Package testnet helps tests that run daemons on loopback.
package testnet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
)

// FreePort returns a 127.0.0.1 port that was free for both TCP and UDP a
// moment ago (mon's client port and trap port are one number). It picks
// one below the kernel's ephemeral range when there is room: a port in
// that range can be handed to another test's ":0" listener, or become
// the source port of any connection on the machine, between this call
// and the daemon's bind (a cluster test once lost its status port so);
// one below it only to another FreePort that picks the same number.
func FreePort() (int, error) {
	if lo := ephemeralLow(); lo > lowestPort+1000 {
		for range 50 {
			if port := lowestPort + rand.IntN(lo-lowestPort); free(port) {
				return port, nil
			}
		}
	}
	for range 50 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if free(port) {
			return port, nil
		}
	}
	return 0, errors.New("no free port for TCP and UDP on 127.0.0.1")
}

// lowestPort keeps FreePort above the ports well-known services use.
const lowestPort = 10000

// free reports whether port is free on 127.0.0.1 for both TCP and UDP.
func free(port int) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	u.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (0 if
// unknown).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var lo, hi int
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return 0
	}
	return lo
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

// AnswerOK reads an HTTP request's head from c and answers "200 OK"
// with the body "ok\n": the least web server an http check finds up.
func AnswerOK(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
	}
	io.WriteString(c, "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
}
