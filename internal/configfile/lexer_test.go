package configfile

import (
	"reflect"
	"testing"
)

func TestLexLines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		src      string
		want     []logicalLine
		dangling int
	}{
		{"empty", "", nil, 0},
		{"trim and blank", "  a b  \n\n\tc\n", []logicalLine{{"a b", 1}, {"", 2}, {"c", 3}}, 0},
		{"no final newline", "a\nb", []logicalLine{{"a", 1}, {"b", 2}}, 0},
		{"comment lines dropped", "# x\n   # y\na\n", []logicalLine{{"a", 3}}, 0},
		{"no trailing comments", "interval 5m # x\n", []logicalLine{{"interval 5m # x", 1}}, 0},
		{
			"continuation keeps blanks before backslash, strips next indent",
			"description this is a \\\n   continued \\  \n# note\n   end\n",
			[]logicalLine{{"description this is a continued end", 4}}, 0,
		},
		{"continuation without blank", "a\\\n  b\n", []logicalLine{{"ab", 2}}, 0},
		{"continuation swallows blank line", "a \\\n\nb\n", []logicalLine{{"a", 2}, {"b", 3}}, 0},
		{"dangling continuation dropped", "a\nb \\\n", []logicalLine{{"a", 1}}, 2},
		{"crlf", "a\r\nb \\\r\n c\r\n", []logicalLine{{"a", 1}, {"b c", 3}}, 0},
		{"only last backslash counts", `a \\` + "\nb\n", []logicalLine{{`a \b`, 2}}, 0},
		{"nbsp is not a blank", "\u00a0a\n", []logicalLine{{"\u00a0a", 1}}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dangling := lexLines([]byte(tc.src))
			if !reflect.DeepEqual(got, tc.want) || dangling != tc.dangling {
				t.Errorf("lexLines(%q) = %+v, %d; want %+v, %d", tc.src, got, dangling, tc.want, tc.dangling)
			}
		})
	}
}

func TestParseTimeval(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64 // seconds; -1 = invalid
	}{
		{"30s", 30}, {"5m", 300}, {"1.5h", 5400}, {"1d", 86400}, {" 2M ", 120}, {"0.5s", 0.5},
		{"0s", 0}, {"60", -1}, {".5m", -1}, {"5 m", -1}, {"5w", -1}, {"", -1}, {"1.m", -1},
		{"99999999999999999999d", -1},
		// The whole-number fast path's edges: the largest that fit, the
		// first that do not, an upper-case unit, leading zeros.
		{"106751d", 106751 * 86400}, {"106752d", -1}, {"9223372036s", 9223372036}, {"9223372037s", -1},
		{"10S", 10}, {"007m", 420},
	} {
		d, ok := parseTimeval(tc.in)
		switch {
		case tc.want < 0 && ok:
			t.Errorf("parseTimeval(%q) = %v, want invalid", tc.in, d)
		case tc.want >= 0 && (!ok || d.Seconds() != tc.want):
			t.Errorf("parseTimeval(%q) = %v, %v; want %vs", tc.in, d, ok, tc.want)
		}
		if ok {
			if back, _ := parseTimeval(formatTimeval(d)); back != d {
				t.Errorf("formatTimeval(%v) = %q does not parse back", d, formatTimeval(d))
			}
		}
	}
}
