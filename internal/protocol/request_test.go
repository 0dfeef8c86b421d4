package protocol

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		line, cmd, args string
		ok              bool
	}{
		{"list state", "list", "state", true},
		{"LiSt state", "list", "state", true},
		{"LIST STATE", "list", "STATE", true},
		{"list", "list", "", true},
		{"list ", "list", "", true},
		{"list \t  opstatus g1,s1  ", "list", "opstatus g1,s1  ", true},
		{"login admin pass with blanks", "login", "admin pass with blanks", true},
		{"setview vw1", "setview", "vw1", true},
		{"quit extra", "quit", "extra", true},
		{"protid", "protid", "", true},
		{" list state", "", "", false},
		{"blah", "", "", false},
		{"", "", "", false},
		{"listx", "", "", false},
		{"list\x00", "", "", false},
		{"settings", "", "", false},
	}
	for _, tc := range tests {
		cmd, args, ok := ParseRequest(tc.line)
		if cmd != tc.cmd || args != tc.args || ok != tc.ok {
			t.Errorf("ParseRequest(%q) = %q, %q, %v; want %q, %q, %v", tc.line, cmd, args, ok, tc.cmd, tc.args, tc.ok)
		}
	}
}

func readAll(t *testing.T, lr *LineReader) []string {
	t.Helper()
	var out []string
	for {
		l, err := lr.ReadLine()
		switch {
		case errors.Is(err, io.EOF):
			return out
		case errors.Is(err, ErrLineTooLong):
			out = append(out, "<too long>")
		case err != nil:
			t.Fatalf("ReadLine: %v", err)
		default:
			out = append(out, l)
		}
	}
}

func TestLineReaderFraming(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"version\n", []string{"version"}},
		{"version\r\n", []string{"version"}},
		{"version\r", []string{"version"}},
		{"a\nb\r\nc\rd\n", []string{"a", "b", "c", "d"}},
		{"a\n\n\r\n\rb\n", []string{"a", "b"}}, // run of line ends swallowed
		{"\nlist\n", []string{"", "list"}},     // empty line on its own
		{"list state  \n", []string{"list state  "}},
		{"quit", nil}, // unterminated last line is dropped
		{"", nil},
	}
	for _, tc := range tests {
		got := readAll(t, NewLineReader(strings.NewReader(tc.in), 0))
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("lines of %q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// chunkReader returns one chunk per Read call, like separate TCP reads.
type chunkReader struct{ chunks []string }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	c.chunks[0] = c.chunks[0][n:]
	if c.chunks[0] == "" {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

func TestLineReaderSeparateReads(t *testing.T) {
	tests := []struct {
		chunks []string
		want   []string
	}{
		// An empty line arriving in a later read is a command of its own.
		{[]string{"list\n", "\n", "quit\n"}, []string{"list", "", "quit"}},
		// A CR LF pair split across reads is one line end.
		{[]string{"list\r", "\nquit\r\n"}, []string{"list", "quit"}},
		// A line split across reads.
		{[]string{"li", "st st", "ate\n"}, []string{"list state"}},
	}
	for _, tc := range tests {
		got := readAll(t, NewLineReader(&chunkReader{chunks: append([]string(nil), tc.chunks...)}, 0))
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("lines of %q = %q, want %q", tc.chunks, got, tc.want)
		}
	}
}

func TestLineReaderTooLong(t *testing.T) {
	in := "12345\n" + strings.Repeat("x", 20) + "\r\nok\n" + strings.Repeat("y", 7) + "\n"
	got := readAll(t, NewLineReader(strings.NewReader(in), 6))
	want := []string{"12345", "<too long>", "ok", "<too long>"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	// Exactly at the limit is fine.
	got = readAll(t, NewLineReader(strings.NewReader("123456\n"), 6))
	if len(got) != 1 || got[0] != "123456" {
		t.Errorf("line at limit = %q", got)
	}
}

func TestIsFinalLine(t *testing.T) {
	for line, want := range map[string]bool{
		"220 list state completed": true,
		"520 invalid command":      true,
		"530\tx":                   true,
		"220":                      true, // the LF that follows matches \s
		"scheduler running":        false,
		"22 x":                     false,
		"2200 x":                   false,
	} {
		if got := IsFinalLine(line); got != want {
			t.Errorf("IsFinalLine(%q) = %v", line, got)
		}
	}
}
