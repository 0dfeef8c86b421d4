// Package depend parses mon's dependency expressions (`depend`,
// `alertdepend`, `monitordepend`, `hostdepend`) into a tree and evaluates
// them. Config text is never evaluated as code.
//
// mon substitutes 0/1 for every GROUP:SERVICE token and hands the result to
// Perl's eval. This package accepts the subset of Perl that makes sense
// there: the tokens, the literals 0 and 1, parentheses, `!`, `&&`, `||`,
// `not`, `and`, `or`, with Perl's precedence (low to high: or, and, not,
// ||, &&, !). Two operands written next to each other (`a:b c:d`, as in
// Debian's example.cf) are a Perl syntax error; gomon reads them as `&&`
// and reports that through Expr.Warnings (decision Q-CFG-11).
package depend

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref names a service: GROUP:SERVICE.
type Ref struct {
	Group, Service string
}

func (r Ref) String() string { return r.Group + ":" + r.Service }

// Expr is a parsed dependency expression.
type Expr struct {
	raw      string
	root     *node // nil for an empty expression
	refs     []Ref
	warnings []string
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack;
// real configs nest a handful of levels.
const maxDepth = 200

// SyntaxError reports an expression that cannot be parsed.
type SyntaxError struct {
	Text   string // the expression after SELF substitution
	Column int    // 1-based byte column in Text; len(Text)+1 at the end
	Token  string // offending token, empty at the end of the text
	Msg    string // what was expected
}

func (e *SyntaxError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("dependency %q: %s at end of expression", e.Text, e.Msg)
	}
	return fmt.Sprintf("dependency %q: %s, got %q at column %d", e.Text, e.Msg, e.Token, e.Column)
}

// Parse parses text; self is the watch name substituted for `SELF:`.
// An empty (or blank) text yields an expression without references that is
// always satisfied, as mon treats an empty depend as "no dependency".
func Parse(text, self string) (*Expr, error) {
	raw := substSelf(text, self)
	toks, err := scan(raw)
	if err != nil {
		return nil, err
	}
	e := &Expr{raw: raw}
	if len(toks) == 1 { // only the end marker
		return e, nil
	}
	p := &parser{text: raw, toks: toks, expr: e}
	root, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.errorAt(t, "expected an operator or the end")
	}
	e.root = root
	return e, nil
}

// ParseList reads text the way mon reads `hostdepend` (and `depend` with
// `dep_behavior hm`): only the GROUP:SERVICE tokens matter, whatever
// separates them. The result evaluates as the AND of all tokens.
func ParseList(text, self string) *Expr {
	raw := substSelf(text, self)
	e := &Expr{raw: raw}
	for _, m := range refPattern.FindAllString(raw, -1) {
		g, s, _ := strings.Cut(m, ":")
		r := Ref{Group: g, Service: s}
		e.refs = append(e.refs, r)
		n := &node{kind: nRef, ref: r}
		if e.root == nil {
			e.root = n
		} else {
			e.root = &node{kind: nAnd, x: e.root, y: n}
		}
	}
	return e
}

// refPattern is mon's token regex.
var refPattern = regexp.MustCompile(`[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+`)

// substSelf mirrors mon's s/SELF:/$watchgroup:/g, a plain substring
// replacement.
func substSelf(text, self string) string {
	return strings.ReplaceAll(text, "SELF:", self+":")
}

// String returns the expression after SELF substitution, as mon shows it.
func (e *Expr) String() string { return e.raw }

// Refs returns the GROUP:SERVICE tokens in order, duplicates kept.
func (e *Expr) Refs() []Ref {
	return append([]Ref(nil), e.refs...)
}

// Warnings returns non-fatal remarks about the expression, such as operands
// joined without an operator (read as AND, Q-CFG-11). The config parser
// reports them with the file and line.
func (e *Expr) Warnings() []string {
	return append([]string(nil), e.warnings...)
}

// Eval evaluates the expression; up reports whether a referenced service
// counts as up. Like Perl, && || and or stop as soon as the result is known,
// so up is not called for the skipped operands. The first error from up is
// returned. An empty expression is true.
func (e *Expr) Eval(up func(Ref) (bool, error)) (bool, error) {
	if e.root == nil {
		return true, nil
	}
	return e.root.eval(up)
}

type nodeKind int

const (
	nRef nodeKind = iota
	nConst
	nNot
	nAnd
	nOr
)

type node struct {
	kind  nodeKind
	ref   Ref
	value bool  // nConst
	x, y  *node // operands; y unused for nNot
}

func (n *node) eval(up func(Ref) (bool, error)) (bool, error) {
	switch n.kind {
	case nRef:
		return up(n.ref)
	case nConst:
		return n.value, nil
	case nNot:
		v, err := n.x.eval(up)
		return !v, err
	case nAnd, nOr:
		v, err := n.x.eval(up)
		if err != nil {
			return false, err
		}
		if v == (n.kind == nOr) {
			return v, nil
		}
		return n.y.eval(up)
	}
	return false, fmt.Errorf("dependency: unknown node kind %d", n.kind)
}

// Tokens.

type tokKind int

const (
	tEOF tokKind = iota
	tRef
	tConst
	tNot    // !
	tAndAnd // &&
	tOrOr   // ||
	tWordNot
	tWordAnd
	tWordOr
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
	pos  int // byte offset in the expression
	ref  Ref
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

// scan splits text into tokens, ending with a tEOF token.
func scan(text string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(text) {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: i})
			i++
			continue
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: i})
			i++
			continue
		case c == '!':
			toks = append(toks, token{kind: tNot, text: "!", pos: i})
			i++
			continue
		case c == '&' || c == '|':
			if i+1 < len(text) && text[i+1] == c {
				kind := tAndAnd
				if c == '|' {
					kind = tOrOr
				}
				toks = append(toks, token{kind: kind, text: text[i : i+2], pos: i})
				i += 2
				continue
			}
		case isNameByte(c):
			start := i
			for i < len(text) && isNameByte(text[i]) {
				i++
			}
			if i+1 < len(text) && text[i] == ':' && isNameByte(text[i+1]) {
				mid := i
				i++
				for i < len(text) && isNameByte(text[i]) {
					i++
				}
				toks = append(toks, token{kind: tRef, text: text[start:i], pos: start,
					ref: Ref{Group: text[start:mid], Service: text[mid+1 : i]}})
				continue
			}
			word := text[start:i]
			t := token{text: word, pos: start}
			switch word {
			case "0", "1":
				t.kind = tConst
			case "not":
				t.kind = tWordNot
			case "and":
				t.kind = tWordAnd
			case "or":
				t.kind = tWordOr
			default:
				if i < len(text) && text[i] == ':' { // GROUP: without SERVICE
					return nil, &SyntaxError{Text: text, Column: i + 1, Token: ":",
						Msg: "expected GROUP:SERVICE"}
				}
				return nil, &SyntaxError{Text: text, Column: start + 1, Token: word,
					Msg: "expected GROUP:SERVICE, 0, 1 or an operator"}
			}
			toks = append(toks, t)
			continue
		}
		return nil, &SyntaxError{Text: text, Column: i + 1, Token: badToken(text[i:]),
			Msg: "expected GROUP:SERVICE, 0, 1 or an operator"}
	}
	return append(toks, token{kind: tEOF, pos: len(text)}), nil
}

// badToken returns the offending character (a whole UTF-8 rune) for an
// error message.
func badToken(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// Parser: recursive descent, one function per Perl precedence level.

type parser struct {
	text string
	toks []token
	i    int
	expr *Expr
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// errorAt reports that t is not what was expected (want).
func (p *parser) errorAt(t token, want string) error {
	return &SyntaxError{Text: p.text, Column: t.pos + 1, Token: t.text, Msg: want}
}

func (p *parser) checkDepth(depth int) error {
	if depth > maxDepth {
		return p.errorAt(p.peek(), fmt.Sprintf("expression nested deeper than %d levels", maxDepth))
	}
	return nil
}

// binary parses operand (op operand)* for one left-associative level.
func (p *parser) binary(depth int, op tokKind, kind nodeKind, operand func(int) (*node, error)) (*node, error) {
	x, err := operand(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().kind == op {
		p.next()
		y, err := operand(depth)
		if err != nil {
			return nil, err
		}
		x = &node{kind: kind, x: x, y: y}
	}
	return x, nil
}

func (p *parser) parseOr(depth int) (*node, error) {
	if err := p.checkDepth(depth); err != nil {
		return nil, err
	}
	return p.binary(depth, tWordOr, nOr, p.parseWordAnd)
}

func (p *parser) parseWordAnd(depth int) (*node, error) {
	return p.binary(depth, tWordAnd, nAnd, p.parseWordNot)
}

func (p *parser) parseWordNot(depth int) (*node, error) {
	if p.peek().kind != tWordNot {
		return p.parseOrOr(depth)
	}
	p.next()
	if err := p.checkDepth(depth + 1); err != nil {
		return nil, err
	}
	x, err := p.parseWordNot(depth + 1)
	if err != nil {
		return nil, err
	}
	return &node{kind: nNot, x: x}, nil
}

func (p *parser) parseOrOr(depth int) (*node, error) {
	return p.binary(depth, tOrOr, nOr, p.parseAndAnd)
}

// parseAndAnd also accepts juxtaposed operands as && (Q-CFG-11).
func (p *parser) parseAndAnd(depth int) (*node, error) {
	x, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tAndAnd:
			p.next()
		case tRef, tConst, tNot, tLParen:
			p.expr.warnings = append(p.expr.warnings, fmt.Sprintf(
				"no operator before %q at column %d: read as && (mon cannot evaluate this expression)",
				t.text, t.pos+1))
		default:
			return x, nil
		}
		y, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		x = &node{kind: nAnd, x: x, y: y}
	}
}

func (p *parser) parseUnary(depth int) (*node, error) {
	if err := p.checkDepth(depth); err != nil {
		return nil, err
	}
	t := p.next()
	switch t.kind {
	case tNot:
		x, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &node{kind: nNot, x: x}, nil
	case tRef:
		p.expr.refs = append(p.expr.refs, t.ref)
		return &node{kind: nRef, ref: t.ref}, nil
	case tConst:
		return &node{kind: nConst, value: t.text == "1"}, nil
	case tLParen:
		x, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errorAt(c, "expected )")
		}
		return x, nil
	}
	return nil, p.errorAt(t, "expected GROUP:SERVICE, 0, 1, ! or (")
}
