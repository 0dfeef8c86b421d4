package main

import (
	"fmt"
	"io"
	"strings"
)

// getopts parses args the way Perl's Getopt::Std getopts does, which is
// what the original moncmd uses: options come first and may be bundled
// ("-al admin", "-ladmin"), a letter followed by ':' in spec takes a
// value (the rest of the word or the next argument), "--" ends the
// options and so does the first word not starting with '-'. An unknown
// letter is reported as "Unknown option: X" on stderr and skipped, as
// moncmd does. It returns the options seen and the remaining arguments.
func getopts(spec string, args []string, stderr io.Writer) (map[byte]string, []string) {
	opts := map[byte]string{}
	for len(args) > 0 {
		a := args[0]
		if len(a) < 2 || a[0] != '-' {
			break
		}
		args = args[1:]
		if a == "--" {
			break
		}
		for rest := a[1:]; rest != ""; {
			c := rest[0]
			rest = rest[1:]
			i := strings.IndexByte(spec, c)
			if i < 0 || c == ':' {
				fmt.Fprintf(stderr, "Unknown option: %c\n", c)
				continue
			}
			if i+1 < len(spec) && spec[i+1] == ':' {
				switch {
				case rest != "":
					opts[c] = rest
				case len(args) > 0:
					opts[c], args = args[0], args[1:]
				default:
					opts[c] = ""
				}
				break
			}
			opts[c] = "1"
		}
	}
	return opts, args
}
