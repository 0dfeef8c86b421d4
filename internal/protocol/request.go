package protocol

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Commands lists the protocol command words mon 1.3 accepts (protocol.md
// §3). Anything else is answered "520 invalid command".
var Commands = []string{
	"dump", "login", "disable", "enable", "quit", "list", "set", "get",
	"setview", "getview", "stop", "start", "loadstate", "savestate",
	"reset", "clear", "checkauth", "reload", "term", "test", "servertime",
	"ack", "version", "protid",
}

// ParseRequest splits a request line into its lower-cased command word
// and the argument string (everything after the first run of
// whitespace). ok is false when the line does not start with one of
// Commands followed by whitespace or the end of the line; leading
// whitespace is not allowed. Sub-command words stay case-sensitive, so
// args is returned as sent.
func ParseRequest(line string) (cmd, args string, ok bool) {
	end := 0
	for end < len(line) && !isSpace(line[end]) {
		end++
	}
	word := strings.ToLower(line[:end])
	if !isCommand(word) {
		return "", "", false
	}
	rest := line[end:]
	for len(rest) > 0 && isSpace(rest[0]) {
		rest = rest[1:]
	}
	return word, rest, true
}

func isCommand(word string) bool {
	for _, c := range Commands {
		if word == c {
			return true
		}
	}
	return false
}

// isSpace matches Perl's \s on bytes (CR and LF never reach here).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// DefaultMaxLine is the default request line limit in bytes. mon has no
// limit; gomon bounds the memory a client can make it hold.
const DefaultMaxLine = 64 << 10

// ErrLineTooLong is returned by LineReader.ReadLine for a line longer
// than the limit. The reader skips the rest of that line on the next
// call, so the caller can answer with an error and go on reading.
var ErrLineTooLong = errors.New("request line too long")

// LineReader splits a client byte stream into request lines the way mon
// does (protocol.md §1.4): a line ends at CR or LF, and the run of CR/LF
// bytes that follows it in the data already received is swallowed. An
// empty line on its own is returned as "" (mon answers it with "520
// invalid command"). A CR LF pair split across two reads is still one
// line end.
type LineReader struct {
	r         *bufio.Reader
	max       int
	buf       []byte
	skipping  bool // inside an overlong line
	pendingLF bool // the last line ended with CR at the end of the data
}

// NewLineReader returns a LineReader on r that accepts lines of at most
// maxLen bytes (DefaultMaxLine if maxLen <= 0).
func NewLineReader(r io.Reader, maxLen int) *LineReader {
	if maxLen <= 0 {
		maxLen = DefaultMaxLine
	}
	return &LineReader{r: bufio.NewReaderSize(r, 8<<10), max: maxLen}
}

// ReadLine returns the next line without its terminator. It returns
// ErrLineTooLong once for every overlong line, and io.EOF (or the read
// error) when the stream ends; an unterminated last line is dropped,
// as mon drops it.
func (lr *LineReader) ReadLine() (string, error) {
	if lr.pendingLF {
		lr.pendingLF = false
		if b, err := lr.r.Peek(1); err == nil && b[0] == '\n' {
			lr.r.Discard(1)
		}
	}
	lr.buf = lr.buf[:0]
	for {
		c, err := lr.r.ReadByte()
		if err != nil {
			return "", err
		}
		if c == '\r' || c == '\n' {
			lr.swallowLineEnds(c)
			if lr.skipping {
				lr.skipping = false
				lr.buf = lr.buf[:0]
				continue
			}
			return string(lr.buf), nil
		}
		if lr.skipping {
			continue
		}
		if len(lr.buf) == lr.max {
			lr.skipping = true
			lr.buf = lr.buf[:0]
			return "", ErrLineTooLong
		}
		lr.buf = append(lr.buf, c)
	}
}

// swallowLineEnds drops the CR/LF bytes that follow a line end in the
// data already buffered, without waiting for more.
func (lr *LineReader) swallowLineEnds(last byte) {
	for lr.r.Buffered() > 0 {
		b, _ := lr.r.Peek(1)
		if b[0] != '\r' && b[0] != '\n' {
			return
		}
		last = b[0]
		lr.r.Discard(1)
	}
	lr.pendingLF = last == '\r'
}
