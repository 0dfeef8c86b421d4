package configfile

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// The hand-written matchers of watch lines must match as the regexps
// they replace, submatches included.
func TestMatchersAreTheRegexps(t *testing.T) {
	envRE := regexp.MustCompile(`^([A-Z_][A-Z0-9_]*)=(.*)$`)
	keywordRE := regexp.MustCompile(`^([A-Za-z0-9_]+)` + ws + `*(.*)$`)
	lines := []string{"", "interval 10s", "MON_X=1", "A=", "=x", "_9=a=b", "9A=x", "monitor tcp.monitor -p 80",
		"service\n s", "kw \n", "kw\t\n x", "kw x\ny", "A=\n", "period wd {Sun-Sat}", "ab-c d", "é x", "x\v\f\ry"}
	alphabet := "aZ_9= \t\n\v-é"
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(8))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		lines = append(lines, string(b))
	}
	for _, l := range lines {
		name, value, ok := matchEnv(l)
		if m := envRE.FindStringSubmatch(l); ok != (m != nil) || ok && (name != m[1] || value != m[2]) {
			t.Errorf("matchEnv(%q) = %q, %q, %v; regexp: %q", l, name, value, ok, m)
		}
		kw, arg, ok := matchKeyword(l)
		if m := keywordRE.FindStringSubmatch(l); ok != (m != nil) || ok && (kw != m[1] || arg != m[2]) {
			t.Errorf("matchKeyword(%q) = %q, %q, %v; regexp: %q", l, kw, arg, ok, m)
		}
	}
}
