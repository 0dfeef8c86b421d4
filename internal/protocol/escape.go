package protocol

import (
	"strings"

	"github.com/gomon/gomon/internal/shellwords"
)

const hexDigits = "0123456789abcdef"

// Escape encodes s the way mon's esc_str does with "in quotes" set:
// blanks, control bytes, bytes >= 0x7f and both quote characters become
// \xx with two lowercase hex digits, and a backslash is doubled. The
// result never contains a blank, so it can be used as one word.
func Escape(s string) string { return escape(s, true) }

// EscapeRaw is the non-quote variant of Escape: the backslash is kept
// as a single byte. mon uses it for the alert and failure histories, the
// exclude_* opstatus fields and the opstatus state file.
func EscapeRaw(s string) string { return escape(s, false) }

func escape(s string, doubleBackslash bool) string {
	if !needsEscape(s, doubleBackslash) {
		return s // the common case: no copy
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	writeEscaped(&b, s, doubleBackslash)
	return b.String()
}

func needsEscape(s string, doubleBackslash bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '"' || c == '\'' || (c == '\\' && doubleBackslash) {
			return true
		}
	}
	return false
}

// writeEscaped appends the escaped form of s to b.
func writeEscaped(b *strings.Builder, s string, doubleBackslash bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= 0x20 || c >= 0x7f || c == '"' || c == '\'':
			b.WriteByte('\\')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		case c == '\\' && doubleBackslash:
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
}

// Unescape decodes what clients send: every backslash followed by two
// lowercase hex digits becomes that byte. Nothing else changes; in
// particular a doubled backslash stays doubled, exactly as in mon
// (Q-PRO-3).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+2 < len(s) && isLowerHex(s[i+1]) && isLowerHex(s[i+2]) {
			b.WriteByte(hexValue(s[i+1])<<4 | hexValue(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isLowerHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func hexValue(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

// FirstWord returns the value that mon stores for the free text of `set`
// and `ack`: the text is split shell-style, only the first word is kept,
// and that word is unescaped. Text without words, or with an unbalanced
// quote (Perl's shellwords then returns nothing), gives "".
func FirstWord(text string) string {
	words, err := shellwords.Split(text)
	if err != nil || len(words) == 0 {
		return ""
	}
	return Unescape(words[0])
}
