package monitors

import "github.com/gomon/gomon/internal/getopt"

// perlGetopts parses args the way the Perl script's Getopt::Std getopts
// does, except that an unknown flag or a missing value is an error, so
// that a typo shows up when the configuration is loaded. Flags without a
// value map to "1".
func perlGetopts(spec string, args []string) (map[byte]string, []string, error) {
	o, err := getopt.Parse(args, spec)
	if err == nil {
		err = o.Strict()
	}
	if err != nil {
		return nil, nil, err
	}
	return o.Letters(), o.Args, nil
}
