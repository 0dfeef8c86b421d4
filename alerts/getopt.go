package alerts

import (
	"fmt"
	"log/slog"
	"strings"
)

// options is the result of parsing an alert's arguments the way Perl's
// Getopt::Std::getopts does, which is how every bundled alert script reads
// its command line. Values are kept per option name; a flag's value is "1".
type options struct {
	vals     map[string][]string
	args     []string // positional arguments left after the options
	warnings []string // "Unknown option: x", as getopts prints them
}

// has reports whether the option was given.
func (o *options) has(name string) bool { return len(o.vals[name]) > 0 }

// get returns the last value given for name (getopts keeps the last).
func (o *options) get(name string) string {
	v := o.vals[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// all returns every value given for a repeatable option.
func (o *options) all(name string) []string { return o.vals[name] }

// getopts parses args like Getopt::Std::getopts(spec): single-letter
// options, "x:" taking a value (attached "-xVAL" or the next argument),
// bundled flags ("-uT"), parsing stops at the first non-option or after
// "--". Unknown letters are recorded as warnings and skipped, as getopts
// does, so an alert still runs when mon passes a flag it does not know.
//
// long lists gomon's extensions as "name" (flag) or "name:" (value),
// written "--name", "--name=VALUE" or "--name VALUE". The original scripts
// never see these, so an unknown long option is an error.
func getopts(args []string, spec string, long ...string) (*options, error) {
	o := &options{vals: map[string][]string{}}
	longSpec := map[string]bool{} // name -> takes a value
	for _, l := range long {
		name, val := strings.CutSuffix(l, ":")
		longSpec[name] = val
	}
	takesValue := func(c byte) (known, value bool) {
		i := strings.IndexByte(spec, c)
		if i < 0 || c == ':' {
			return false, false
		}
		return true, i+1 < len(spec) && spec[i+1] == ':'
	}

	i := 0
	for i < len(args) {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		if a == "--" {
			i++
			break
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a[2:], "=")
			wantVal, ok := longSpec[name]
			switch {
			case !ok:
				return nil, fmt.Errorf("unknown option --%s", name)
			case wantVal && !hasVal:
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option --%s needs a value", name)
				}
				i++
				val = args[i]
			case !wantVal && hasVal:
				return nil, fmt.Errorf("option --%s takes no value", name)
			case !wantVal:
				val = "1"
			}
			o.vals[name] = append(o.vals[name], val)
			i++
			continue
		}
		// A bundle of single letters: "-uT", "-Sfoo", "-S foo".
		rest := a[1:]
		i++
		for rest != "" {
			c := rest[0]
			rest = rest[1:]
			known, value := takesValue(c)
			switch {
			case !known:
				o.warnings = append(o.warnings, "Unknown option: "+string(c))
			case value:
				if rest == "" {
					if i >= len(args) {
						return nil, fmt.Errorf("option -%c needs a value", c)
					}
					rest = args[i]
					i++
				}
				o.vals[string(c)] = append(o.vals[string(c)], rest)
				rest = ""
			default:
				o.vals[string(c)] = append(o.vals[string(c)], "1")
			}
		}
	}
	o.args = args[i:]
	return o, nil
}

// parseBuiltin parses a built-in's configured arguments. Unknown letters
// are ignored like the original script ignores them, with a warning.
func parseBuiltin(name string, args []string, spec string, long ...string) (*options, error) {
	o, err := getopts(args, spec, long...)
	if err != nil {
		return nil, fmt.Errorf("%s alert: %w", name, err)
	}
	for _, w := range o.warnings {
		slog.Warn("alert option ignored", "alert", name, "warning", w)
	}
	return o, nil
}
