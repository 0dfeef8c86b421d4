package getopt

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		vals    map[string][]string
		rest    []string
		unknown string
		missing byte
	}{
		{[]string{"-S", "subj", "a", "-f", "x"}, map[string][]string{"S": {"subj"}}, []string{"a", "-f", "x"}, "", 0},
		{[]string{"-Ssubj", "-uf", "me", "--", "-a"}, map[string][]string{"S": {"subj"}, "u": {"1"}, "f": {"me"}}, []string{"-a"}, "", 0},
		{[]string{"-Tx", "-", "r"}, map[string][]string{"u": nil}, []string{"-", "r"}, "Tx", 0},
		{[]string{"-S", "", "-S", "second"}, map[string][]string{"S": {"", "second"}}, []string{}, "", 0},
		{[]string{"--smtp", "h:25", "--insecure", "--smtp=h2:26", "rcpt"}, map[string][]string{"smtp": {"h:25", "h2:26"}, "insecure": {"1"}}, []string{"rcpt"}, "", 0},
		{[]string{"-u:", "-f"}, map[string][]string{"u": {"1"}, "f": {""}}, []string{}, ":", 'f'},
	} {
		o, err := Parse(tc.args, "S:uf:", "smtp:", "insecure")
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		for k, v := range tc.vals {
			if !reflect.DeepEqual(o.All(k), v) {
				t.Errorf("%q: %s = %q, want %q", tc.args, k, o.All(k), v)
			}
		}
		if len(o.Args)+len(tc.rest) > 0 && !reflect.DeepEqual(o.Args, tc.rest) {
			t.Errorf("%q: rest = %q, want %q", tc.args, o.Args, tc.rest)
		}
		if string(o.Unknown) != tc.unknown || o.Missing != tc.missing {
			t.Errorf("%q: unknown %q missing %q, want %q %q", tc.args, o.Unknown, o.Missing, tc.unknown, tc.missing)
		}
		if (o.Strict() == nil) != (tc.unknown == "" && tc.missing == 0) {
			t.Errorf("%q: Strict() = %v", tc.args, o.Strict())
		}
	}
}

func TestGetLastValue(t *testing.T) {
	o, _ := Parse([]string{"-r", "1", "-r2", "-a"}, "r:a")
	if o.Get("r") != "2" || !o.Has("a") || o.Has("x") || o.Get("x") != "" ||
		!reflect.DeepEqual(o.Letters(), map[byte]string{'r': "2", 'a': "1"}) {
		t.Errorf("got r=%q a=%v", o.Get("r"), o.Has("a"))
	}
}

// Without long options a "--word" is a bundle of letters, as Getopt::Std
// reads it: "-" and the unknown ones are reported, never an error.
func TestDoubleDashWithoutLongOptions(t *testing.T) {
	o, err := Parse([]string{"--help", "rest"}, "h")
	if err != nil || !o.Has("h") || string(o.Unknown) != "-elp" || len(o.Args) != 1 {
		t.Errorf("got %+v, %v", o, err)
	}
}

func TestLongOptionErrors(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--smtp"}, {"--insecure=1"}} {
		if _, err := Parse(args, "S:", "smtp:", "insecure"); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("-S\x00subj\x00-uT\x00--smtp=h:1\x00rcpt")
	f.Add("-\x00--\x00-:")
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		o, err := Parse(args, "S:uf:", "smtp:", "insecure")
		if err == nil && len(o.Args) > len(args) {
			t.Fatalf("more positional args than args")
		}
	})
}
