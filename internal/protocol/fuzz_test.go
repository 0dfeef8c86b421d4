package protocol

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// The fuzz targets check that no input panics and that the basic
// invariants hold. Seed corpora live in testdata/fuzz.

func FuzzDecodeTrap(f *testing.F) {
	f.Add([]byte(capturedTrap))
	f.Add([]byte("pro='0.3807'\nusr=''\nsta=1\n\n"))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		tr, _, err := DecodeTrap(pkt)
		if err != nil {
			return
		}
		tr.Validate("127.0.0.1")
		// Re-encoding and decoding keeps every field except that a
		// password without a user is not sent and that backslashes
		// come back doubled.
		back, _, err := DecodeTrap(EncodeTrap(tr))
		if err != nil {
			t.Fatalf("DecodeTrap(EncodeTrap): %v", err)
		}
		if back.Grp != strings.ReplaceAll(tr.Grp, `\`, `\\`) {
			t.Errorf("grp %q became %q", tr.Grp, back.Grp)
		}
	})
}

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("version\r\nlist state\n\n\rquit"), 8)
	f.Add([]byte(strings.Repeat("x", 100)+"\nok\n"), 10)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		lr := NewLineReader(bytes.NewReader(in), max)
		limit := max
		if limit <= 0 {
			limit = DefaultMaxLine
		}
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatal("more lines than input bytes")
			}
			line, err := lr.ReadLine()
			if errors.Is(err, io.EOF) {
				return
			}
			if errors.Is(err, ErrLineTooLong) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(line) > limit || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bad line %q", line)
			}
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"list state", "LiSt  opstatus g,s", " list", "loginx", "login a b c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, args, ok := ParseRequest(line)
		if !ok {
			return
		}
		if !isCommand(cmd) || len(args) > len(line) || !strings.HasSuffix(line, args) {
			t.Fatalf("ParseRequest(%q) = %q, %q", line, cmd, args)
		}
		if args != "" && isSpace(args[0]) {
			t.Fatalf("args %q start with whitespace", args)
		}
	})
}

func FuzzEscape(f *testing.F) {
	f.Add("h1 h2 failed\n\"q\" it's \\ é")
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if strings.ContainsAny(e, " \t\n'\"") {
			t.Fatalf("Escape(%q) = %q contains a separator", s, e)
		}
		// Only text without backslashes survives a round trip: mon's
		// escaping is not reversible for "\\xx" sequences (Q-PRO-3).
		if got := Unescape(EscapeRaw(s)); got != s && !strings.Contains(s, `\`) {
			t.Fatalf("Unescape(EscapeRaw(%q)) = %q", s, got)
		}
		FirstWord(s)
	})
}
