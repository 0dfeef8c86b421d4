package depend

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// upSet returns an up function treating the listed GROUP:SERVICE names as
// up and recording every call.
func upSet(upNames string, calls *[]string) func(Ref) (bool, error) {
	up := map[string]bool{}
	for _, n := range strings.Fields(upNames) {
		up[n] = true
	}
	return func(r Ref) (bool, error) {
		*calls = append(*calls, r.String())
		return up[r.String()], nil
	}
}

func TestParseEval(t *testing.T) {
	tests := []struct {
		text     string
		up       string // services that are up
		want     bool
		calls    string // refs consulted, in order (short-circuit)
		warnings int
	}{
		{"", "", true, "", 0},
		{"   ", "", true, "", 0},
		{"a:b", "a:b", true, "a:b", 0},
		{"a:b", "", false, "a:b", 0},
		{"a:b && c:d", "a:b c:d", true, "a:b c:d", 0},
		{"a:b && c:d", "c:d", false, "a:b", 0},
		{"a:b || c:d", "a:b", true, "a:b", 0},
		{"a:b || c:d", "c:d", true, "a:b c:d", 0},
		{"!a:b", "", true, "a:b", 0},
		{"! ! a:b", "a:b", true, "a:b", 0},
		{"not a:b", "a:b", false, "a:b", 0},
		{"a:b and c:d", "a:b c:d", true, "a:b c:d", 0},
		{"a:b or c:d", "", false, "a:b c:d", 0},
		{"a:b && (c:d || !e:f)", "a:b", true, "a:b c:d e:f", 0},
		{"a:b&&(c:d||!e:f)", "a:b e:f", false, "a:b c:d e:f", 0},
		// Perl precedence: && binds tighter than ||.
		{"a:b || c:d && e:f", "a:b", true, "a:b", 0},
		{"1 || 0 && 0", "", true, "", 0},
		// ! binds tighter than &&, not looser than ||.
		{"!0 && 0", "", false, "", 0},
		{"not 0 && 0", "", true, "", 0},
		{"not 1 || 1", "", false, "", 0},
		// and binds tighter than or, both looser than not.
		{"1 or 0 and 0", "", true, "", 0},
		{"0 and 1 or 1", "", true, "", 0},
		{"not 0 and 0", "", false, "", 0},
		{"1 || 0 and 0", "", false, "", 0},
		{"(1)", "", true, "", 0},
		{"((0))", "", false, "", 0},
		// Juxtaposition is read as && (Q-CFG-11), at &&'s precedence.
		{"routers:ping serversbd2:ping", "routers:ping serversbd2:ping", true, "routers:ping serversbd2:ping", 1},
		{"routers:ping serversbd2:ping", "serversbd2:ping", false, "routers:ping", 1},
		{"a:b c:d e:f", "a:b c:d e:f", true, "a:b c:d e:f", 2},
		{"0 a:b || 1", "", true, "", 1},
		{"a:b (c:d) !e:f", "a:b c:d", true, "a:b c:d e:f", 2},
		// Names use [A-Za-z0-9_.-] on both sides; numeric names are refs.
		{"web-1.example:http_2", "web-1.example:http_2", true, "web-1.example:http_2", 0},
		{"10:20", "10:20", true, "10:20", 0},
		// Duplicates are consulted again.
		{"a:b && a:b", "a:b", true, "a:b a:b", 0},
	}
	for _, tt := range tests {
		e, err := Parse(tt.text, "g")
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		var calls []string
		got, err := e.Eval(upSet(tt.up, &calls))
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q).Eval(up=%q) = %v, %v; want %v", tt.text, tt.up, got, err, tt.want)
		}
		if strings.Join(calls, " ") != tt.calls {
			t.Errorf("Parse(%q).Eval(up=%q) consulted %q; want %q", tt.text, tt.up, calls, tt.calls)
		}
		if n := len(e.Warnings()); n != tt.warnings {
			t.Errorf("Parse(%q): %d warnings %q; want %d", tt.text, n, e.Warnings(), tt.warnings)
		}
	}
}

func TestSelfSubstitution(t *testing.T) {
	tests := []struct {
		text, self, str string
		refs            []Ref
	}{
		{"SELF:ping", "routers", "routers:ping", []Ref{{"routers", "ping"}}},
		{"SELF:ping && other:http || SELF:ping", "web", "web:ping && other:http || web:ping",
			[]Ref{{"web", "ping"}, {"other", "http"}, {"web", "ping"}}},
		// mon replaces the substring wherever it occurs.
		{"xSELF:ping", "g", "xg:ping", []Ref{{"xg", "ping"}}},
		// Only the upper-case form with its colon is special.
		{"self:ping SELF2:x", "g", "self:ping SELF2:x", []Ref{{"self", "ping"}, {"SELF2", "x"}}},
	}
	for _, tt := range tests {
		e, err := Parse(tt.text, tt.self)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tt.text, tt.self, err)
			continue
		}
		if e.String() != tt.str {
			t.Errorf("Parse(%q, %q).String() = %q; want %q", tt.text, tt.self, e.String(), tt.str)
		}
		if !reflect.DeepEqual(e.Refs(), tt.refs) {
			t.Errorf("Parse(%q, %q).Refs() = %v; want %v", tt.text, tt.self, e.Refs(), tt.refs)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text   string
		column int
		token  string
	}{
		{"a:b & c:d", 5, "&"},
		{"a:b | c:d", 5, "|"},
		{"a:b && && c:d", 8, "&&"},
		{"a:b &&", 7, ""},
		{"(a:b", 5, ""},
		{"a:b)", 4, ")"},
		{"()", 2, ")"},
		{"foo", 1, "foo"},
		{"a:b AND c:d", 5, "AND"},
		{"a:b xor c:d", 5, "xor"},
		{"2", 1, "2"},
		{"a:b:c", 4, ":"},
		{"a: b", 2, ":"},
		{"a:b, c:d", 4, ","},
		{"a:b == 1", 5, "="},
		{"system('x')", 1, "system"},
		{"a:b ; c:d", 5, ";"},
		{"a:b not c:d", 5, "not"},
		{"a:b || é:x", 8, "é"},
		{"SELF:x", 1, ":"}, // empty watch name leaves ":x"
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), 202, "("},
		{strings.Repeat("!", 300) + "1", 202, "!"},
	}
	for _, tt := range tests {
		self := "g"
		if tt.text == "SELF:x" {
			self = ""
		}
		e, err := Parse(tt.text, self)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, %v; want a *SyntaxError", tt.text, e, err)
			continue
		}
		if se.Column != tt.column || se.Token != tt.token {
			t.Errorf("Parse(%q): error at column %d token %q (%v); want column %d token %q",
				tt.text, se.Column, se.Token, err, tt.column, tt.token)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Parse("a:b & c:d", "g")
	want := `dependency "a:b & c:d": expected GROUP:SERVICE, 0, 1 or an operator, got "&" at column 5`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v; want %s", err, want)
	}
	_, err = Parse("(a:b", "g")
	want = `dependency "(a:b": expected ) at end of expression`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v; want %s", err, want)
	}
}

func TestWarningText(t *testing.T) {
	e, err := Parse("routers:ping serversbd2:ping", "g")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`no operator before "serversbd2:ping" at column 14: read as && (mon cannot evaluate this expression)`}
	if !reflect.DeepEqual(e.Warnings(), want) {
		t.Errorf("Warnings() = %q; want %q", e.Warnings(), want)
	}
}

func TestEvalError(t *testing.T) {
	e, err := Parse("a:b || c:d", "g")
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("recursion too deep")
	_, err = e.Eval(func(r Ref) (bool, error) {
		if r.Group == "a" {
			return false, nil
		}
		return false, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Eval error = %v; want %v", err, boom)
	}
}

func TestParseList(t *testing.T) {
	e := ParseList("SELF:ping, routers:ping;bad  x other:dns", "hosts")
	want := []Ref{{"hosts", "ping"}, {"routers", "ping"}, {"other", "dns"}}
	if !reflect.DeepEqual(e.Refs(), want) {
		t.Errorf("Refs() = %v; want %v", e.Refs(), want)
	}
	if e.String() != "hosts:ping, routers:ping;bad  x other:dns" {
		t.Errorf("String() = %q", e.String())
	}
	var calls []string
	got, err := e.Eval(upSet("hosts:ping routers:ping other:dns", &calls))
	if err != nil || !got {
		t.Errorf("Eval(all up) = %v, %v; want true", got, err)
	}
	got, err = e.Eval(upSet("hosts:ping other:dns", &calls))
	if err != nil || got {
		t.Errorf("Eval(routers down) = %v, %v; want false", got, err)
	}
	if got, _ := ParseList("", "g").Eval(upSet("", &calls)); !got {
		t.Errorf("empty list should be satisfied")
	}
}

// monRefs is how mon finds the tokens of an expression.
var monRefs = regexp.MustCompile(`[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+`)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a:b", "SELF:x && (b:c || !d:e)", "a:b c:d", "not 0 or 1 and x:y"} {
		f.Add(s, "grp")
	}
	f.Fuzz(func(t *testing.T, text, self string) {
		e, err := Parse(text, self)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", text, err)
			}
			if se.Column < 1 || se.Column > len(se.Text)+1 {
				t.Fatalf("Parse(%q): column %d out of range", text, se.Column)
			}
			return
		}
		raw := strings.ReplaceAll(text, "SELF:", self+":")
		if e.String() != raw {
			t.Fatalf("String() = %q; want %q", e.String(), raw)
		}
		// Every accepted expression names exactly the tokens mon would see.
		var want []string
		for _, r := range e.Refs() {
			want = append(want, r.String())
		}
		if got := monRefs.FindAllString(raw, -1); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("Refs() = %q; mon finds %q", want, got)
		}
		for _, v := range []bool{false, true} {
			if _, err := e.Eval(func(Ref) (bool, error) { return v, nil }); err != nil {
				t.Fatalf("Eval: %v", err)
			}
		}
	})
}
