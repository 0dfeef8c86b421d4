package monitors

import (
	"context"
	"fmt"
	"io"
)

// RunDropIn runs the built-in registered as name (e.g. "http.monitor") as
// a standalone program in place of the script of that name: args are its
// command line (flags, then hosts), the output goes to stdout and the
// returned value is the exit status.
//
// A Factory therefore treats positional arguments left after the flags as
// the script would (hosts for the network monitors); the run gets no
// hosts of its own.
func RunDropIn(name string, args []string, stdout, stderr io.Writer) int {
	b := builtins.Lookup(name)
	if b == nil {
		fmt.Fprintf(stderr, "%s: no such built-in monitor\n", name)
		return 1
	}
	m, err := b.New(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nusage: %s\n", name, err, b.Usage)
		return 1
	}
	res := m.Check(context.Background(), Request{})
	if _, err := stdout.Write(res.Output); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return res.Exit
}
