package protocol

import (
	"io"
	"slices"
)

// IsFinalLine reports whether line (without its LF) ends a reply: three
// digits followed by whitespace or the line end, which is how moncmd and
// Mon::Client recognise it (protocol.md §1.5). A server can use it to spot
// data lines that would cut a reply short (Q-PRO-2).
func IsFinalLine(line string) bool {
	return len(line) >= 3 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) &&
		(len(line) == 3 || isSpace(line[3]))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// WriteReply writes the data lines and the final line, each ending in
// LF, with a single Write so that replies of concurrent writers never
// interleave.
func WriteReply(w io.Writer, data []string, final string) error {
	_, err := w.Write(AppendReply(nil, data, final))
	return err
}

// AppendReply appends the reply as WriteReply sends it to b.
func AppendReply(b []byte, data []string, final string) []byte {
	n := len(final) + 1
	for _, l := range data {
		n += len(l) + 1
	}
	b = slices.Grow(b, n)
	for _, l := range data {
		b = append(b, l...)
		b = append(b, '\n')
	}
	b = append(b, final...)
	return append(b, '\n')
}
