// Package shellwords splits text into words the way Perl's
// Text::ParseWords::shellwords (quotewords with keep=0) does, which is how
// mon splits monitor and alert arguments and protocol free text.
package shellwords

import (
	"errors"
	"strings"
)

// ErrUnbalanced reports an unterminated quote.
var ErrUnbalanced = errors.New("unbalanced quote")

// Split splits s at runs of whitespace. Single quotes group literally,
// double quotes group with backslash escapes, a backslash outside quotes
// escapes the next character; the quoting is removed. Text is never
// interpreted further (no variables, no globbing).
func Split(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, ErrUnbalanced
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, ErrUnbalanced
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
