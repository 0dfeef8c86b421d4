package main

import (
	"context"
	"fmt"
	"log/slog"
	"log/syslog"
	"strings"
)

// syslogKey is the attribute a caller adds to choose a syslog priority
// that has no slog level of its own: mon logs "failure for …" at crit,
// "calling …" at alert and a few lines at notice. Example:
//
//	log.Error("failure for g s 1700000000 down", "syslog", "crit")
//
// The attribute selects the priority and is not part of the syslog text.
const syslogKey = "syslog"

// syslogFacilities are the facility names mon (Sys::Syslog) accepts.
var syslogFacilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL,
	"daemon": syslog.LOG_DAEMON, "auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG,
	"lpr": syslog.LOG_LPR, "news": syslog.LOG_NEWS, "uucp": syslog.LOG_UUCP,
	"cron": syslog.LOG_CRON, "authpriv": syslog.LOG_AUTHPRIV, "ftp": syslog.LOG_FTP,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2,
	"local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5,
	"local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// syslogPriorities are the priority names the syslogKey attribute takes.
var syslogPriorities = map[string]syslog.Priority{
	"emerg": syslog.LOG_EMERG, "alert": syslog.LOG_ALERT, "crit": syslog.LOG_CRIT,
	"err": syslog.LOG_ERR, "warning": syslog.LOG_WARNING, "notice": syslog.LOG_NOTICE,
	"info": syslog.LOG_INFO, "debug": syslog.LOG_DEBUG,
}

// syslogHandler is a slog.Handler that sends records to syslog with
// ident "mon" and the pid, as mon does. The text is the message followed
// by the attributes as key=value; '%' characters are removed, as mon
// removes them.
type syslogHandler struct {
	w      *syslog.Writer
	level  slog.Leveler
	attrs  string // pre-formatted attributes from WithAttrs
	prefix string // group prefix from WithGroup, "g." form
}

// dialSyslog connects to the syslog daemon: the local one when network
// and addr are empty, else the given socket (tests). facility is a mon
// facility name; "" means daemon.
func dialSyslog(network, addr, facility string, level slog.Leveler) (*syslogHandler, error) {
	if facility == "" {
		facility = "daemon"
	}
	fac, ok := syslogFacilities[strings.ToLower(facility)]
	if !ok {
		return nil, fmt.Errorf("unknown syslog facility %q", facility)
	}
	w, err := syslog.Dial(network, addr, fac|syslog.LOG_INFO, "mon")
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return &syslogHandler{w: w, level: level}, nil
}

func (h *syslogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *syslogHandler) Handle(_ context.Context, r slog.Record) error {
	pri := levelPriority(r.Level)
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == syslogKey {
			if p, ok := syslogPriorities[a.Value.String()]; ok {
				pri = p
			}
			return true
		}
		appendAttr(&b, h.prefix, a)
		return true
	})
	msg := strings.ReplaceAll(b.String(), "%", "")
	// A failed write is dropped: log/syslog reconnects on the next one,
	// and the same record has gone to stderr anyway.
	switch pri {
	case syslog.LOG_EMERG:
		h.w.Emerg(msg)
	case syslog.LOG_ALERT:
		h.w.Alert(msg)
	case syslog.LOG_CRIT:
		h.w.Crit(msg)
	case syslog.LOG_ERR:
		h.w.Err(msg)
	case syslog.LOG_WARNING:
		h.w.Warning(msg)
	case syslog.LOG_NOTICE:
		h.w.Notice(msg)
	case syslog.LOG_INFO:
		h.w.Info(msg)
	default:
		h.w.Debug(msg)
	}
	return nil
}

func (h *syslogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs += b.String()
	return &h2
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

// Close disconnects from the syslog daemon.
func (h *syslogHandler) Close() error { return h.w.Close() }

// levelPriority maps slog levels to syslog priorities.
func levelPriority(l slog.Level) syslog.Priority {
	switch {
	case l >= slog.LevelError:
		return syslog.LOG_ERR
	case l >= slog.LevelWarn:
		return syslog.LOG_WARNING
	case l >= slog.LevelInfo:
		return syslog.LOG_INFO
	}
	return syslog.LOG_DEBUG
}

// appendAttr writes " key=value", flattening groups into dotted keys.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			appendAttr(b, p, g)
		}
		return
	}
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \t\n\"=") {
		v = fmt.Sprintf("%q", v)
	}
	fmt.Fprintf(b, " %s%s=%s", prefix, a.Key, v)
}

// addSyslog returns log with its records also sent to the local syslog
// daemon under facility, and a function that disconnects. Without a
// syslog daemon (no /dev/log, as in most containers) log is returned
// unchanged: stderr logging goes on.
func addSyslog(log *slog.Logger, facility string, level slog.Leveler) (*slog.Logger, func()) {
	if _, ok := syslogFacilities[strings.ToLower(facility)]; !ok && facility != "" {
		log.Error(fmt.Sprintf("unknown syslog facility %q, using daemon", facility))
		facility = "daemon"
	}
	h, err := dialSyslog("", "", facility, level)
	if err != nil {
		return log, func() {}
	}
	return slog.New(slog.NewMultiHandler(log.Handler(), h)), func() { h.Close() }
}

// dropSyslogKey keeps the syslog priority attribute out of stderr logs.
func dropSyslogKey(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == syslogKey {
		return slog.Attr{}
	}
	return a
}
