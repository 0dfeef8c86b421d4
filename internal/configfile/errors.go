package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"fmt"
	"strings"
)

// Error is returned when a configuration is rejected. Unlike mon, which
// stops at the first problem, gomon reports every problem it finds, in
// file order.
type Error struct {
	Diags []config.Diagnostic
	// Warnings are those of a file that did not load: they are shown
	// with its errors, not only once the errors are fixed.
	Warnings []config.Diagnostic
}

// Error renders one line per problem: "FILE:LINE: cf error: MESSAGE".
func (e *Error) Error() string {
	lines := make([]string, len(e.Diags))
	for i, d := range e.Diags {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Legacy returns mon's exact text for the first problem, e.g.
// "cf error: unknown variable 'foo', line 3". This is what mon prints at
// startup and what the `test config` protocol command returns.
func (e *Error) Legacy() string {
	if len(e.Diags) == 0 {
		return ""
	}
	return e.Diags[0].Legacy
}

// problem is a validation failure before it gets a position. msg is mon's
// text after "cf error: " and without the trailing ", line N".
type problem struct {
	msg    string
	text   string // gomon's message when it differs from mon's ("": msg)
	hint   string
	noLine bool // mon prints this message without ", line N"
}

func errf(format string, a ...any) *problem {
	return &problem{msg: fmt.Sprintf(format, a...)}
}

func (p *problem) withHint(format string, a ...any) *problem {
	p.hint = fmt.Sprintf(format, a...)
	return p
}

// timevalError is a bad time value: mon shows the failed conversion (""
// or "0", Q-CFG-9) where the value belongs, gomon what the user wrote.
func timevalError(format string, ok bool, arg string) *problem {
	return &problem{msg: fmt.Sprintf(format, shownTimeval(ok)), text: fmt.Sprintf(format, arg)}
}

func (p *problem) diagnostic(pos config.Pos) config.Diagnostic {
	text := p.text
	if text == "" {
		text = p.msg
	}
	d := config.Diagnostic{Pos: pos, Msg: "cf error: " + text, Hint: p.hint, Legacy: "cf error: " + p.msg}
	if !p.noLine {
		d.Legacy += fmt.Sprintf(", line %d", pos.Line)
	}
	return d
}

// fileError is a problem with the file as a whole (mon's texts without the
// "cf error: " prefix).
func fileError(file, msg string) *Error {
	return &Error{Diags: []config.Diagnostic{{Pos: config.Pos{File: file}, Msg: msg, Legacy: msg}}}
}
