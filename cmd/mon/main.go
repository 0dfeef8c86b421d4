// Command mon is gomon's daemon, a drop-in replacement for mon 1.3. The
// same binary also runs gomon's built-in monitors and alerts as drop-in
// scripts when it is called by such a name (fping.monitor, mail.alert…),
// and has operator commands: `mon period`, `mon convert` and
// `mon install-dropins`.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/version"
	"github.com/gomon/gomon/monitors"
)

// monVersion is what `mon -v` printed for mon 1.3.6; scripts compare it.
const monVersion = "mon-1.3.4"

// gomonVersion is this program's own version.
const gomonVersion = version.Gomon

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	switch {
	case strings.HasSuffix(name, ".monitor"):
		return monitors.RunDropIn(name, argv[1:], stdout, stderr)
	case strings.HasSuffix(name, ".alert"):
		return alerts.RunDropIn(name, argv[1:], stdin, stdout, stderr)
	}
	o, err := parseOptions(argv[1:])
	if err != nil {
		// mon prints its usage and exits 0 on a bad option; a non-zero
		// status tells init scripts something is wrong.
		fmt.Fprintf(stderr, "mon: %v\n\n%s", err, usage)
		return 2
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage)
		return 0
	case o.version:
		fmt.Fprintf(stdout, "%s (gomon %s)\n", monVersion, gomonVersion)
		return 0
	}
	if len(o.args) > 0 {
		switch o.args[0] {
		case "period":
			return cmdPeriod(o.args[1:], stdout, stderr)
		case "convert":
			return cmdConvert(o, o.args[1:], stdout, stderr)
		case "install-dropins":
			return cmdInstallDropIns(o.args[1:], stdout, stderr)
		}
		fmt.Fprintf(stderr, "mon: unknown command %q\n\n%s", o.args[0], usage)
		return 2
	}
	if o.fork && !o.checkConfig && os.Getenv(daemonEnv) == "" {
		return daemonize(argv, stdout, stderr)
	}
	return daemon(o, stdout, stderr)
}
