package main

import (
	"fmt"
	"io"

	"github.com/gomon/gomon/internal/getopt"
)

// getopts parses args the way Perl's Getopt::Std getopts does, which is
// what the original moncmd uses. An unknown letter is reported as
// "Unknown option: X" on stderr and skipped, as moncmd does. It returns
// the options seen ("1" for a flag) and the remaining arguments.
func getopts(spec string, args []string, stderr io.Writer) (map[byte]string, []string) {
	o, _ := getopt.Parse(args, spec) // no long options: no error
	for _, c := range o.Unknown {
		fmt.Fprintf(stderr, "Unknown option: %c\n", c)
	}
	return o.Letters(), o.Args
}
