package protocol

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ in, quoted, raw string }{
		{"h1 h2 failed", `h1\20h2\20failed`, `h1\20h2\20failed`},
		{"\n", `\0a`, `\0a`},
		{"\t", `\09`, `\09`},
		{"é", `\c3\a9`, `\c3\a9`},
		{`"q"`, `\22q\22`, `\22q\22`},
		{"it's", `it\27s`, `it\27s`},
		{`a\b`, `a\\b`, `a\b`},
		{"\x7f~", `\7f~`, `\7f~`},
		{"", "", ""},
		{"line1\nline2\\z\n", `line1\0aline2\\z\0a`, `line1\0aline2\z\0a`},
	}
	for _, tc := range tests {
		if got := Escape(tc.in); got != tc.quoted {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.quoted)
		}
		if got := EscapeRaw(tc.in); got != tc.raw {
			t.Errorf("EscapeRaw(%q) = %q, want %q", tc.in, got, tc.raw)
		}
		if got := Unescape(tc.raw); got != tc.in {
			t.Errorf("Unescape(%q) = %q, want %q", tc.raw, got, tc.in)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`new\20desc`, "new desc"},
		{`\41\42`, "AB"},
		{`\4A`, `\4A`},       // uppercase hex is not decoded
		{`a\\b`, `a\\b`},     // a doubled backslash stays doubled (Q-PRO-3)
		{`a\\20b`, `a\ b`},   // ... and the second backslash still decodes
		{`end\2`, `end\2`},   // too short
		{`\`, `\`},           //
		{`\zz\0a`, "\\zz\n"}, //
		{`\00`, "\x00"},      //
		{`plain text`, "plain text"},
	}
	for _, tc := range tests {
		if got := Unescape(tc.in); got != tc.want {
			t.Errorf("Unescape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFirstWord(t *testing.T) {
	tests := []struct{ in, want string }{
		{"two words", "two"},
		{`'two\20words'`, "two words"},
		{`"two words" more`, "two words"},
		{`'acked\20by\20me'`, "acked by me"},
		{`'new\20desc'`, "new desc"},
		{`x\ y z`, "x y"},
		{`'unbalanced`, ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := FirstWord(tc.in); got != tc.want {
			t.Errorf("FirstWord(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
