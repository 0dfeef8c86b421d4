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

func (p *problem) diagnostic(pos config.Pos) config.Diagnostic {
	d := config.Diagnostic{Pos: pos, Msg: "cf error: " + p.msg, Hint: p.hint, Legacy: "cf error: " + p.msg}
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
