package shellwords

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  a  b ", []string{"a", "b"}, false},
		{`arg1 "arg 2"`, []string{"arg1", "arg 2"}, false},
		{`'two words' x`, []string{"two words", "x"}, false},
		{`a\ b`, []string{"a b"}, false},
		{`"a\"b"`, []string{`a"b`}, false},
		{`'a\b'`, []string{`a\b`}, false},
		{`x"y z"w`, []string{"xy zw"}, false},
		{`''`, []string{""}, false},
		{`"unterminated`, nil, true},
		{`'unterminated`, nil, true},
	} {
		got, err := Split(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("Split(%q) err = %v", tc.in, err)
			continue
		}
		if !tc.err && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
