// Package getopt parses command lines the way Perl's Getopt::Std getopts
// does, which is how mon's monitor and alert scripts and moncmd read
// theirs: single-letter options that may be bundled ("-uT"), a letter
// followed by ':' in the spec takes a value (attached "-r3" or the next
// argument "-r 3"), and parsing stops at "--" or at the first word that
// is not an option. gomon's own additions to a script's flags are long
// options ("--name", "--name=VALUE", "--name VALUE"), which no original
// script sees.
//
// Parse is as lenient as Getopt::Std (unknown letters are collected, a
// value missing at the end is empty); Strict turns what Getopt::Std lets
// pass into an error, for built-ins that check their flags at config load.
package getopt

import (
	"fmt"
	"strings"
)

// Options is a parsed command line.
type Options struct {
	values map[string][]string // by letter or long name; a flag's value is "1"
	// Args are the positional arguments left after the options.
	Args []string
	// Unknown lists, in order, the letters that are not in the spec;
	// Getopt::Std prints "Unknown option: X" for each and goes on.
	Unknown []byte
	// Missing is the value option given last without a value (0 if none).
	Missing byte
}

// Has reports whether the option was given.
func (o *Options) Has(name string) bool { return len(o.values[name]) > 0 }

// Get returns the last value given for name, as Getopt::Std keeps it.
func (o *Options) Get(name string) string {
	v := o.values[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// All returns every value given for a repeatable option, in order.
func (o *Options) All(name string) []string { return o.values[name] }

// Letters returns the last value of every single-letter option given,
// for callers that look options up by letter.
func (o *Options) Letters() map[byte]string {
	m := map[byte]string{}
	for name, v := range o.values {
		if len(name) == 1 && len(v) > 0 {
			m[name[0]] = v[len(v)-1]
		}
	}
	return m
}

// Strict reports the first thing Getopt::Std would have let pass: an
// unknown letter or a missing value.
func (o *Options) Strict() error {
	switch {
	case len(o.Unknown) > 0:
		return fmt.Errorf("unknown option: -%c", o.Unknown[0])
	case o.Missing != 0:
		return fmt.Errorf("option -%c requires a value", o.Missing)
	}
	return nil
}

// Parse parses args with the letters of spec and the long options of
// long, each "name" (a flag) or "name:" (takes a value). Only a misused
// long option is an error.
func Parse(args []string, spec string, long ...string) (*Options, error) {
	o := &Options{values: map[string][]string{}}
	longSpec := map[string]bool{} // name -> takes a value
	for _, l := range long {
		name, val := strings.CutSuffix(l, ":")
		longSpec[name] = val
	}
	i := 0
	for i < len(args) {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		i++
		if a == "--" {
			break
		}
		// Without long options "--x" is letters ("-", "x"), as in
		// Getopt::Std.
		if long, ok := strings.CutPrefix(a, "--"); ok && len(longSpec) > 0 {
			name, val, hasVal := strings.Cut(long, "=")
			wantVal, known := longSpec[name]
			switch {
			case !known:
				return nil, fmt.Errorf("unknown option --%s", name)
			case wantVal && !hasVal:
				if i >= len(args) {
					return nil, fmt.Errorf("option --%s needs a value", name)
				}
				val = args[i]
				i++
			case !wantVal && hasVal:
				return nil, fmt.Errorf("option --%s takes no value", name)
			case !wantVal:
				val = "1"
			}
			o.values[name] = append(o.values[name], val)
			continue
		}
		for rest := a[1:]; rest != ""; {
			c := rest[0]
			rest = rest[1:]
			k := strings.IndexByte(spec, c)
			switch {
			case k < 0 || c == ':':
				o.Unknown = append(o.Unknown, c)
			case k+1 < len(spec) && spec[k+1] == ':':
				if rest == "" && i < len(args) {
					rest = args[i]
					i++
				} else if rest == "" {
					o.Missing = c
				}
				o.values[string(c)] = append(o.values[string(c)], rest)
				rest = ""
			default:
				o.values[string(c)] = append(o.values[string(c)], "1")
			}
		}
	}
	o.Args = args[i:]
	return o, nil
}
