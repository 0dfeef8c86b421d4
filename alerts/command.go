package alerts

import (
	"context"
	"errors"

	"github.com/gomon/gomon/internal/spawn"
)

func init() {
	Register(&Builtin{
		Name:  "exec",
		Usage: "exec PROGRAM [ARG...]",
		New:   newCommand,
	})
}

// Command runs a program given on the alert line with exactly the
// configured arguments (no mon -s/-g/-h/-t, no shell). The event reaches
// it like an alert script: MON_* variables in the environment and the
// event text on stdin. It is bounded by ctx like External.
type Command struct {
	Argv      []string
	MaxOutput int64         // 0 = DefaultMaxOutput
	Runner    *spawn.Runner // nil: no bound on concurrent starts
}

func newCommand(args []string) (Alert, error) {
	if len(args) == 0 || args[0] == "" {
		return nil, errors.New("exec alert: no program given")
	}
	return &Command{Argv: args}, nil
}

// Send runs the program and waits for it, like External.Send.
func (c *Command) Send(ctx context.Context, ev Event) error {
	return runProgram(ctx, c.Runner, c.Argv[0], c.Argv[1:], ev, c.MaxOutput)
}
