package monitors

import (
	"fmt"
	"strings"
)

// perlGetopts parses args the way Perl's Getopt::Std getopts(spec) does:
// single-letter flags that may be clustered (-aT), a letter followed by
// ':' in spec takes a value that is either attached (-r3) or the next
// argument (-r 3), and parsing stops at "--" or the first non-option.
// Unlike Getopt::Std, an unknown flag is an error, so that a typo shows up
// when the configuration is loaded. Flags without a value map to "1".
func perlGetopts(spec string, args []string) (map[byte]string, []string, error) {
	opts := map[byte]string{}
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			i++
			break
		}
		if len(a) < 2 || a[0] != '-' {
			break
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(spec, c)
			if k < 0 || c == ':' {
				return nil, nil, fmt.Errorf("unknown option: -%c", c)
			}
			if k+1 < len(spec) && spec[k+1] == ':' {
				if j+1 < len(a) {
					opts[c] = a[j+1:]
				} else if i+1 < len(args) {
					i++
					opts[c] = args[i]
				} else {
					return nil, nil, fmt.Errorf("option -%c requires a value", c)
				}
				break
			}
			opts[c] = "1"
		}
	}
	return opts, args[i:], nil
}
