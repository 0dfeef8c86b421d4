package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/monitors"
)

// CheckPrograms resolves every monitor and alert of cfg as the scheduler
// will. Errors are built-ins whose arguments are wrong; warnings are
// programs not found in mondir/alertdir (mon only logs those, and so does
// the daemon, but `mon --check-config` shows them) and alerts that could
// not deliver now (a mail alert with no sendmail and no SMTP server).
func CheckPrograms(cfg *config.Config) (errs, warns []config.Diagnostic) {
	g := &cfg.Globals
	report := func(pos config.Pos, err error) {
		d := config.Diagnostic{Pos: pos, Msg: err.Error()}
		var missing *registry.NotFound
		if errors.As(err, &missing) {
			warns = append(warns, d)
		} else {
			errs = append(errs, d)
		}
	}
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			if s.Monitor != "" {
				if _, err := findMonitor(monitors.Resolver(g.MonDir, nil), s.Monitor); err != nil {
					report(s.Pos, err)
				}
			}
		}
	}
	progs := resolveAlerts(cfg, alerts.Resolver(g.AlertDir, nil))
	checked := map[string]bool{}
	for _, l := range alertLines(cfg) {
		key := alertKey(l)
		p := progs[key]
		if p.err != nil {
			report(l.Pos, p.err)
			continue
		}
		// An alert that could not deliver now (no mail transport) is
		// worth a warning: it would fail when it matters.
		if dc, ok := p.alert.(alerts.DeliveryChecker); ok && !checked[key] {
			checked[key] = true
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := dc.CheckDelivery(ctx); err != nil {
				warns = append(warns, config.Diagnostic{Pos: l.Pos, Msg: err.Error()})
			}
			cancel()
		}
	}
	return errs, warns
}
