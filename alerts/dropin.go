package alerts

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// dropInTimeout bounds one drop-in run: mon never kills an alert, so a
// hung one would linger forever.
const dropInTimeout = 10 * time.Minute

// maxDropInInput bounds what is read from stdin.
const maxDropInInput = 16 << 20

// RunDropIn runs the built-in alert name (e.g. "mail.alert", or a path
// ending in it) as a standalone alert program called by mon: args are
// mon's -s G -g S -h HOSTS -t TIME [-u|-a|-D|-T|-O] followed by the
// configured arguments, stdin is the event text and the MON_* variables
// come from the process environment. It returns the exit status. It sets
// the default slog logger to write to stderr, so it is meant to be a
// whole program (cmd/mon dispatches to it by argv[0]).
func RunDropIn(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, nil)))
	base := filepath.Base(name)
	b := builtins.Lookup(base)
	if b == nil {
		fmt.Fprintf(stderr, "%s: no built-in alert of that name\n", base)
		return 2
	}
	ev, rest := parseMonArgs(args)
	a, err := b.New(rest)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", base, err)
		return 2
	}
	ev.Input, err = io.ReadAll(io.LimitReader(stdin, maxDropInInput))
	if err != nil {
		fmt.Fprintf(stderr, "%s: reading stdin: %v\n", base, err)
		return 1
	}
	ev.Env = os.Environ()
	if t, ok := ev.Getenv("MON_ALERTTYPE"); ok && t != "" {
		ev.Type = decide.AlertType(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dropInTimeout)
	defer cancel()
	if err := a.Send(ctx, ev); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", base, err)
		return 1
	}
	return 0
}

// parseMonArgs takes the options mon puts in front of the configured
// arguments and returns the event they describe and the rest. The type
// comes from the flag; MON_ALERTTYPE refines it later.
func parseMonArgs(args []string) (Event, []string) {
	ev := Event{Type: decide.FailureAlert, Time: time.Unix(0, 0)}
	i := 0
	for ; i < len(args); i++ {
		opt := args[i]
		if t, ok := decide.AlertTypeOfFlag(opt); ok {
			flag := opt
			ev.Type, ev.Flag = t, &flag
			continue
		}
		switch opt {
		case "-s", "-g", "-h", "-t":
		default:
			return ev, args[i:]
		}
		if i+1 >= len(args) {
			return ev, nil
		}
		i++
		switch v := args[i]; opt {
		case "-s":
			ev.Service = v
		case "-g":
			ev.Group = v
		case "-h":
			ev.Hosts = strings.Fields(v)
		case "-t":
			// Perl's localtime of a non-number is the epoch, as here.
			n, _ := strconv.ParseInt(v, 10, 64)
			ev.Time = time.Unix(n, 0)
		}
	}
	return ev, args[i:]
}
