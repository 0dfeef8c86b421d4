package alerts

import (
	"fmt"
	"log/slog"

	"github.com/gomon/gomon/internal/getopt"
)

// ParseArgs parses a built-in's configured arguments the way the
// original script's getopts does (built-ins of other packages, such as
// alerts/lvs, use it too). Unknown letters are ignored like the
// script ignores them, with a warning, so an alert still runs when mon
// passes a flag it does not know; a value missing at the end and a
// misused gomon long option are errors.
func ParseArgs(name string, args []string, spec string, long ...string) (*getopt.Options, error) {
	o, err := getopt.Parse(args, spec, long...)
	if err == nil && o.Missing != 0 {
		err = fmt.Errorf("option -%c needs a value", o.Missing)
	}
	if err != nil {
		return nil, fmt.Errorf("%s alert: %w", name, err)
	}
	for _, c := range o.Unknown {
		slog.Warn("alert option ignored", "alert", name, "warning", "Unknown option: "+string(c))
	}
	return o, nil
}
