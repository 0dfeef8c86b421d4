package main

import (
	"io"
	"log/slog"

	"github.com/gomon/gomon/internal/syslog"
)

func logLevel(o *options) slog.Level {
	if o.debug > 0 {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// newLogger logs to w (stderr) in --log-format's format; syslog is added
// once the configuration names the facility.
func newLogger(o *options, w io.Writer) *slog.Logger {
	ho := &slog.HandlerOptions{Level: logLevel(o), ReplaceAttr: syslog.DropKey}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
