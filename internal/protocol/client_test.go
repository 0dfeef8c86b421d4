package protocol

import (
	"context"
	"errors"
	"io"
	"net"
	"os/exec"
	"reflect"
	"testing"
	"time"
)

// serveTiny answers like a mon server for a handful of commands, using
// this package's framing and reply helpers.
func serveTiny(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				lr := NewLineReader(conn, 100)
				for {
					line, err := lr.ReadLine()
					if errors.Is(err, ErrLineTooLong) {
						WriteReply(conn, nil, "500 line too long")
						continue
					}
					if err != nil {
						return
					}
					cmd, args, ok := ParseRequest(line)
					switch {
					case !ok:
						WriteReply(conn, nil, "520 invalid command")
					case cmd == "version":
						WriteReply(conn, []string{"version 9745"}, "220 version completed")
					case cmd == "list" && args == "pids":
						WriteReply(conn, []string{"server 1", "g s 2"}, "220 list pids completed")
					case cmd == "quit":
						WriteReply(conn, nil, "220 quitting")
						return
					default:
						WriteReply(conn, nil, "520 command could not be executed, unknown command")
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestClient(t *testing.T) {
	c, err := Dial(serveTiny(t), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line  string
		data  []string
		final string
	}{
		{"version", []string{"version 9745"}, "220 version completed"},
		{"LIST pids", []string{"server 1", "g s 2"}, "220 list pids completed"},
		{"blah", nil, "520 invalid command"},
		{string(make([]byte, 200)), nil, "500 line too long"},
		{"term", nil, "520 command could not be executed, unknown command"},
	}
	for _, tc := range tests {
		data, final, err := c.Command(tc.line)
		if err != nil {
			t.Fatalf("Command(%.20q): %v", tc.line, err)
		}
		if !reflect.DeepEqual(data, tc.data) || final != tc.final {
			t.Errorf("Command(%.20q) = %q, %q; want %q, %q", tc.line, data, final, tc.data, tc.final)
		}
	}
	if _, _, err := c.Command("list\nterm"); err == nil {
		t.Error("multi-line request accepted")
	}
	if !ReplyOK("220 x") || ReplyOK("520 x") {
		t.Error("ReplyOK")
	}
	if err := c.Close(); err != nil {
		t.Error(err)
	}
}

func TestClientTimeout(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, conn) // never answers; ends when the client closes
			conn.Close()
		}
	}()
	c, err := Dial(ln.Addr().String(), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.conn.Close()
	var ne net.Error
	if _, _, err := c.Command("version"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Command on a silent server: %v, want a timeout", err)
	}
}

// TestMoncmdAgainstHelpers runs the real moncmd against a server built
// from this package's framing and reply helpers.
func TestMoncmdAgainstHelpers(t *testing.T) {
	if _, err := exec.LookPath("moncmd"); err != nil {
		t.Skip("moncmd not installed (apt-get install mon-client)")
	}
	_, port, err := net.SplitHostPort(serveTiny(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "moncmd", "-s", "127.0.0.1", "-p", port, "list", "pids").CombinedOutput()
	if err != nil {
		t.Fatalf("moncmd: %v: %s", err, out)
	}
	if want := "server 1\ng s 2\n220 list pids completed\n"; string(out) != want {
		t.Errorf("moncmd printed %q, want %q", out, want)
	}
}
