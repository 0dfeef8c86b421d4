package alerts

import (
	"strings"
	"unicode"
)

// perlWrap reproduces Perl's Text::Wrap::wrap(initial, subsequent, text)
// with its defaults ($columns = 76, $huge = 'wrap', $unexpand = 1,
// $tabstop = 8), which mail.alert uses for the "Members" line. Lines break
// at a whitespace character; a word longer than a line is cut; every output
// line has runs of blanks before a tab stop turned into tabs.
func perlWrap(initial, subsequent, text string) string {
	const columns = 76
	t := []rune(expandTabs(text))
	ll := max(columns-len([]rune(expandTabs(initial)))-1, 0)
	nll := max(columns-len([]rune(expandTabs(subsequent)))-1, 1)

	var r strings.Builder
	lead, nl, remainder := initial, "", ""
	pos := 0
	for !allSpace(t[pos:]) {
		// Longest run of at most ll non-newline characters that ends
		// at whitespace (consumed, one character) or at the end.
		n := 0
		for n < ll && pos+n < len(t) && t[pos+n] != '\n' {
			n++
		}
		for n > 0 && pos+n < len(t) && !unicode.IsSpace(t[pos+n]) {
			n--
		}
		line := string(t[pos : pos+n])
		switch {
		case pos+n == len(t):
			remainder = ""
			pos += n
		case unicode.IsSpace(t[pos+n]):
			brk := 1
			if t[pos+n] == '\r' && pos+n+1 < len(t) && t[pos+n+1] == '\n' {
				brk = 2
			}
			remainder = string(t[pos+n : pos+n+brk])
			pos += n + brk
		default: // no break within ll characters: cut the word
			n = min(ll, len(t)-pos)
			line = string(t[pos : pos+n])
			remainder = "\n"
			pos += n
		}
		r.WriteString(unexpand(nl + lead + line))
		lead, nl, ll = subsequent, "\n", nll
	}
	r.WriteString(remainder)
	if pos != len(t) {
		r.WriteString(lead + string(t[pos:]))
	}
	return r.String()
}

func allSpace(rs []rune) bool {
	for _, c := range rs {
		if !unicode.IsSpace(c) {
			return false
		}
	}
	return true
}

// expandTabs is Text::Tabs::expand with 8-column tab stops.
func expandTabs(s string) string {
	if !strings.Contains(s, "\t") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		var b strings.Builder
		col := 0
		for _, c := range line {
			if c == '\t' {
				pad := 8 - col%8
				b.WriteString(strings.Repeat(" ", pad))
				col += pad
				continue
			}
			b.WriteRune(c)
			col++
		}
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}

// unexpand is Text::Tabs::unexpand: in each full 8-column chunk of a line,
// a trailing run of two or more blanks becomes a tab.
func unexpand(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		rs := []rune(expandTabs(line))
		var b strings.Builder
		for len(rs) >= 8 {
			chunk := string(rs[:8])
			if trimmed := strings.TrimRight(chunk, " "); len(chunk)-len(trimmed) >= 2 {
				chunk = trimmed + "\t"
			}
			b.WriteString(chunk)
			rs = rs[8:]
		}
		b.WriteString(string(rs))
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}
