// Package depend parses mon's dependency expressions (`depend`,
// `alertdepend`, `monitordepend`, `hostdepend`) into a tree and evaluates
// them. Config text is never evaluated as code.
package depend

// Ref names a service: GROUP:SERVICE.
type Ref struct {
	Group, Service string
}

func (r Ref) String() string { return r.Group + ":" + r.Service }

// Expr is a parsed dependency expression.
type Expr struct {
	raw string
	// implementation fields
}

// Parse parses text; self is the watch name substituted for `SELF:`.
func Parse(text, self string) (*Expr, error) { panic("TODO") }

// String returns the expression after SELF substitution, as mon shows it.
func (e *Expr) String() string { return e.raw }

// Refs returns the GROUP:SERVICE tokens in order, duplicates kept.
func (e *Expr) Refs() []Ref { panic("TODO") }

// Eval evaluates the expression; up reports whether a referenced service
// counts as up.
func (e *Expr) Eval(up func(Ref) (bool, error)) (bool, error) { panic("TODO") }
