package alerts

import (
	"reflect"
	"strings"
	"testing"
)

func TestGetopts(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		vals     map[string][]string
		rest     []string
		warnings []string
	}{
		{[]string{"-S", "subj", "a", "-f", "x"}, map[string][]string{"S": {"subj"}}, []string{"a", "-f", "x"}, nil},
		{[]string{"-Ssubj", "-uf", "me", "--", "-a"}, map[string][]string{"S": {"subj"}, "u": {"1"}, "f": {"me"}}, []string{"-a"}, nil},
		{[]string{"-Tx", "-", "r"}, map[string][]string{"u": nil}, []string{"-", "r"}, []string{"Unknown option: T", "Unknown option: x"}},
		{[]string{"-S", "", "-S", "second"}, map[string][]string{"S": {"", "second"}}, []string{}, nil},
		{[]string{"--smtp", "h:25", "--insecure", "--smtp=h2:26", "rcpt"}, map[string][]string{"smtp": {"h:25", "h2:26"}, "insecure": {"1"}}, []string{"rcpt"}, nil},
	} {
		o, err := getopts(tc.args, "S:uf:", "smtp:", "insecure")
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		for k, v := range tc.vals {
			if !reflect.DeepEqual(o.vals[k], v) {
				t.Errorf("%q: %s = %q, want %q", tc.args, k, o.vals[k], v)
			}
		}
		if len(o.args)+len(tc.rest) > 0 && !reflect.DeepEqual(o.args, tc.rest) {
			t.Errorf("%q: rest = %q, want %q", tc.args, o.args, tc.rest)
		}
		if !reflect.DeepEqual(o.warnings, tc.warnings) {
			t.Errorf("%q: warnings = %q, want %q", tc.args, o.warnings, tc.warnings)
		}
	}
}

func TestGetoptsErrors(t *testing.T) {
	for _, args := range [][]string{{"-S"}, {"--nope"}, {"--smtp"}, {"--insecure=1"}} {
		if _, err := getopts(args, "S:", "smtp:", "insecure"); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func FuzzGetopts(f *testing.F) {
	f.Add("-S\x00subj\x00-uT\x00--smtp=h:1\x00rcpt")
	f.Add("-\x00--\x00-:")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := getopts(args, "S:uf:", "smtp:", "insecure")
		if err == nil && len(o.args) > len(args) {
			t.Fatalf("more positional args than args")
		}
	})
}
