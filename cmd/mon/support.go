package main

import (
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler"
)

//go:embed embedded/mon.cf embedded/auth.cf
var embeddedFiles embed.FS

// prepareEmbedded writes the embedded configuration into a private base
// directory (-b, else a per-user directory under the temp dir) and
// returns the path of its mon.cf.
func prepareEmbedded(o *options) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gomon-%d", os.Getuid()))
	if o.baseDir != nil {
		dir = *o.baseDir
	}
	for _, d := range []string{dir, filepath.Join(dir, "state"), filepath.Join(dir, "log"),
		filepath.Join(dir, "mon.d"), filepath.Join(dir, "alert.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("embedded configuration: %w", err)
		}
	}
	for _, name := range []string{"mon.cf", "auth.cf"} {
		data, _ := embeddedFiles.ReadFile("embedded/" + name)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("embedded configuration: %w", err)
		}
	}
	o.baseDir, o.cfBaseDir = &dir, &dir
	return filepath.Join(dir, "mon.cf"), nil
}

// checkPrograms reports monitors and alerts that cannot be resolved.
func checkPrograms(cfg *config.Config) (errs, warns []string) {
	e, w := scheduler.CheckPrograms(cfg)
	for _, d := range e {
		errs = append(errs, d.String())
	}
	for _, d := range w {
		warns = append(warns, d.String()+" (warning)")
	}
	return errs, warns
}

// showStatus prints a status table every 10 seconds, so that running the
// embedded configuration in a terminal shows what gomon sees.
func showStatus(ctx context.Context, sched *scheduler.Scheduler, w io.Writer) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		writeStatus(w, sched.StatusAll(), time.Now())
	}
}

func writeStatus(w io.Writer, all []scheduler.Status, now time.Time) {
	failing := 0
	for _, st := range all {
		if st.State.OpStatus.IsFailure() {
			failing++
		}
	}
	fmt.Fprintf(w, "\n%s  %d services, %d failing\n", now.Format("15:04:05"), len(all), failing)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  WATCH/SERVICE\tSTATUS\tCHECKED\tSUMMARY")
	for _, st := range all {
		checked := "-"
		if !st.LastCheck.IsZero() {
			checked = now.Sub(st.LastCheck).Truncate(time.Second).String() + " ago"
		}
		sum := st.State.LastSummary
		if sum == "" {
			sum = st.Description
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%s\n", st.Group, st.Service, st.State.OpStatus, checked, sum)
	}
	tw.Flush()
}
