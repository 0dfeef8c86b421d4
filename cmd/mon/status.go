package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/gomon/gomon/scheduler"
)

// serveStatus serves the status page and metrics (status_listen) until
// ctx is done.
func serveStatus(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("status page stopped", "err", err)
	}
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
