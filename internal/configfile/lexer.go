package configfile

import "strings"

// logicalLine is one mon.cf line after comment removal, continuation
// joining and trimming (config.md §2).
type logicalLine struct {
	text string
	line int // last physical line, as mon counts it
}

// isSpace reports whether c is one of the six bytes Perl's \s matches on
// byte strings. Go's unicode.IsSpace would also match U+0085 and U+00A0,
// which mon does not treat as blanks.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

func trimLeft(s string) string {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return s[i:]
}

// fields splits s at runs of blanks (Perl's split(/\s+/) on trimmed text).
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
}

// lexLines turns a file into logical lines. danglingAt is the physical
// line number of a continuation left open at end of file (0 if none);
// mon silently drops that text.
func lexLines(src []byte) (lines []logicalLine, danglingAt int) {
	var (
		acc        strings.Builder
		continuing bool
		lineNo     int
	)
	text := string(src)
	// At most a line per line end: grown by appending, the lines of a
	// large file would leave four times their size in garbage.
	if text != "" {
		lines = make([]logicalLine, 0, strings.Count(text, "\n")+1)
	}
	for len(text) > 0 {
		var phys string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			phys, text = text[:i], text[i+1:]
		} else {
			phys, text = text, ""
		}
		lineNo++

		// Comments are dropped before continuation handling, so a comment
		// inside a continued line does not end it.
		if t := trimLeft(phys); strings.HasPrefix(t, "#") {
			continue
		}
		if continuing {
			phys = trimLeft(phys)
		}
		// A trailing backslash (optionally followed by blanks) continues
		// the line; the text before it is kept as is, blanks included.
		if t := strings.TrimRightFunc(phys, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) }); strings.HasSuffix(t, `\`) {
			acc.WriteString(t[:len(t)-1])
			continuing = true
			continue
		}
		acc.WriteString(phys)
		lines = append(lines, logicalLine{text: trimSpace(acc.String()), line: lineNo})
		acc.Reset()
		continuing = false
	}
	if continuing {
		danglingAt = lineNo
	}
	return lines, danglingAt
}
