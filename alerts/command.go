package alerts

import (
	"context"
	"errors"
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
	MaxOutput int // bytes kept of stdout and of stderr; 0 means DefaultMaxOutput
}

func newCommand(args []string) (Alert, error) {
	if len(args) == 0 || args[0] == "" {
		return nil, errors.New("exec alert: no program given")
	}
	return &Command{Argv: args}, nil
}

// Send runs the program and waits for it. See Run.
func (c *Command) Send(ctx context.Context, ev Event) error {
	_, err := c.Run(ctx, ev)
	return err
}

// Run is External.Run for the configured command line.
func (c *Command) Run(ctx context.Context, ev Event) (Result, error) {
	return run(ctx, c.Argv, ev, c.MaxOutput)
}
