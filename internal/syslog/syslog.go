// Package syslog sends slog records to the syslog daemon the way mon
// logs: ident "mon" with the pid, mon's facility names, and a priority
// chosen by the record's level or by its Key attribute.
package syslog

import (
	"context"
	"fmt"
	"log/slog"
	"log/syslog"
	"strings"
)

// Key is the attribute a caller adds to choose a syslog priority
// that has no slog level of its own: mon logs "failure for …" at crit,
// "calling …" at alert and a few lines at notice. Example:
//
//	log.Error("failure for g s 1700000000 down", "syslog", "crit")
//
// The attribute selects the priority and is not part of the syslog text.
const Key = "syslog"

// Classic is the attribute that carries mon's own syslog line for a
// structured record: the syslog text is that line alone, while stderr
// (text or JSON) shows the record's message and attributes without it.
// So a state change is "service state changed group=… opstatus=fail" in
// gomon's log and mon's "failure for G S TIME SUMMARY" in syslog, from
// one record. Example:
//
//	log.Error("service state changed", "group", "g", "opstatus", "fail",
//		Classic, "failure for g s 1700000000 down", Key, "crit")
const Classic = "mon"

// LevelChatter is the level of a record that is debug in gomon's own log
// but is one of the lines mon writes to syslog at a fixed priority (a
// client command or connection, a failure that changes nothing): it goes
// to syslog whatever the level, at its Key priority, and to stderr only
// with -d, shown as DEBUG (ReplaceAttr).
const LevelChatter = slog.LevelDebug + 1

// facilityNamed returns the facility called name, as mon (Sys::Syslog)
// accepts it.
func facilityNamed(name string) (syslog.Priority, bool) {
	switch strings.ToLower(name) {
	case "kern":
		return syslog.LOG_KERN, true
	case "user":
		return syslog.LOG_USER, true
	case "mail":
		return syslog.LOG_MAIL, true
	case "daemon":
		return syslog.LOG_DAEMON, true
	case "auth":
		return syslog.LOG_AUTH, true
	case "syslog":
		return syslog.LOG_SYSLOG, true
	case "lpr":
		return syslog.LOG_LPR, true
	case "news":
		return syslog.LOG_NEWS, true
	case "uucp":
		return syslog.LOG_UUCP, true
	case "cron":
		return syslog.LOG_CRON, true
	case "authpriv":
		return syslog.LOG_AUTHPRIV, true
	case "ftp":
		return syslog.LOG_FTP, true
	case "local0":
		return syslog.LOG_LOCAL0, true
	case "local1":
		return syslog.LOG_LOCAL1, true
	case "local2":
		return syslog.LOG_LOCAL2, true
	case "local3":
		return syslog.LOG_LOCAL3, true
	case "local4":
		return syslog.LOG_LOCAL4, true
	case "local5":
		return syslog.LOG_LOCAL5, true
	case "local6":
		return syslog.LOG_LOCAL6, true
	case "local7":
		return syslog.LOG_LOCAL7, true
	}
	return 0, false
}

// priorityNamed returns the priority called name, as the Key attribute takes
// it.
func priorityNamed(name string) (syslog.Priority, bool) {
	switch name {
	case "emerg":
		return syslog.LOG_EMERG, true
	case "alert":
		return syslog.LOG_ALERT, true
	case "crit":
		return syslog.LOG_CRIT, true
	case "err":
		return syslog.LOG_ERR, true
	case "warning":
		return syslog.LOG_WARNING, true
	case "notice":
		return syslog.LOG_NOTICE, true
	case "info":
		return syslog.LOG_INFO, true
	case "debug":
		return syslog.LOG_DEBUG, true
	}
	return 0, false
}

// Handler is a slog.Handler that sends records to syslog with
// ident "mon" and the pid, as mon does. The text is the message followed
// by the attributes as key=value; '%' characters are removed, as mon
// removes them.
type Handler struct {
	w      *syslog.Writer
	level  slog.Leveler
	attrs  string // pre-formatted attributes from WithAttrs
	prefix string // group prefix from WithGroup, "g." form
}

// Dial connects to the syslog daemon: the local one when network and
// addr are empty, else the given socket (tests). facility is a mon
// facility name; "" means daemon.
func Dial(network, addr, facility string, level slog.Leveler) (*Handler, error) {
	if facility == "" {
		facility = "daemon"
	}
	fac, ok := facilityNamed(facility)
	if !ok {
		return nil, fmt.Errorf("unknown syslog facility %q", facility)
	}
	w, err := syslog.Dial(network, addr, fac|syslog.LOG_INFO, "mon")
	if err != nil {
		return nil, fmt.Errorf("syslog: %w", err)
	}
	return &Handler{w: w, level: level}, nil
}

func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level() || l == LevelChatter
}

func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	pri := levelPriority(r.Level)
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	classic := ""
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case Key:
			if p, ok := priorityNamed(a.Value.String()); ok {
				pri = p
			}
		case Classic:
			classic = a.Value.String()
		default:
			appendAttr(&b, h.prefix, a)
		}
		return true
	})
	msg := b.String()
	if classic != "" {
		msg = classic
	}
	msg = strings.ReplaceAll(msg, "%", "")
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

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	var b strings.Builder
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	h2 := *h
	h2.attrs += b.String()
	return &h2
}

func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix += name + "."
	return &h2
}

// Close disconnects from the syslog daemon.
func (h *Handler) Close() error { return h.w.Close() }

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

// Tee returns log with its records also sent to the local syslog daemon
// under facility, and a function that disconnects. Without a syslog
// daemon (no /dev/log, as in most containers) log is returned unchanged:
// stderr logging goes on.
func Tee(log *slog.Logger, facility string, level slog.Leveler) (*slog.Logger, func()) {
	if _, ok := facilityNamed(facility); !ok && facility != "" {
		log.Error(fmt.Sprintf("unknown syslog facility %q, using daemon", facility))
		facility = "daemon"
	}
	h, err := Dial("", "", facility, level)
	if err != nil {
		return log, func() {}
	}
	return slog.New(slog.NewMultiHandler(log.Handler(), h)), func() { h.Close() }
}

// DropKey is a slog.HandlerOptions.ReplaceAttr for other logs (stderr):
// it keeps the Key and Classic attributes out, and names LevelChatter
// DEBUG.
func DropKey(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case Key, Classic:
		return slog.Attr{}
	case slog.LevelKey:
		if l, ok := a.Value.Any().(slog.Level); ok && l == LevelChatter {
			return slog.String(slog.LevelKey, slog.LevelDebug.String())
		}
	}
	return a
}
