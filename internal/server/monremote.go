package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/shellwords"
)

// remoteTimeout bounds one run of the monremote command.
const remoteTimeout = time.Minute

// RemoteCommand returns an Options.Remote that runs mon's `monremote`
// command: cmd is split into words and run directly with the action's
// words appended, never through a shell. A run is not waited for (mon
// forks it and goes on); its failure is logged. It returns nil when cmd
// is blank.
func RemoteCommand(cmd string, log *slog.Logger) (func(args ...string), error) {
	if strings.TrimSpace(cmd) == "" {
		return nil, nil
	}
	words, err := shellwords.Split(cmd)
	if err == nil && len(words) == 0 {
		err = errors.New("no program")
	}
	if err != nil {
		return nil, fmt.Errorf("monremote %q: %w", cmd, err)
	}
	return func(args ...string) {
		go func() {
			// Not tied to a request or the daemon: a propagation already
			// started completes even while the daemon is stopping.
			ctx, cancel := context.WithTimeout(context.Background(), remoteTimeout)
			defer cancel()
			argv := append(append([]string{}, words[1:]...), args...)
			out, err := exec.CommandContext(ctx, words[0], argv...).CombinedOutput()
			if err != nil {
				log.Error("monremote failed", "command", words[0], "args", argv, "err", err, "output", string(out))
			}
		}()
	}, nil
}
