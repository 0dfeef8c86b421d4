package scheduler

import (
	"context"
	"errors"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/registry"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler/decide"
)

// CheckPrograms resolves every monitor and alert of cfg as the scheduler
// will. Errors are built-ins whose arguments are wrong; warnings are
// programs not found in mondir/alertdir (mon only logs those, and so does
// the daemon, but `mon --check-config` shows them).
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
	// A line's verdict is the same wherever it appears: each distinct
	// monitor line is resolved once (configurations of 100,000 services
	// repeat a few lines).
	res := monitors.Resolver(g.MonDir, nil)
	verdict := map[string]error{}
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			if _, err := decide.RedistributeLine(s); err != nil {
				report(s.Pos, err)
			}
			if s.Monitor != "" {
				err, ok := verdict[s.Monitor]
				if !ok {
					_, err = findMonitor(res, s.Monitor)
					verdict[s.Monitor] = err
				}
				if err != nil {
					report(s.Pos, err)
				}
			}
		}
	}
	progs := resolveAlerts(cfg, alerts.Resolver(g.AlertDir, nil))
	for _, l := range alertLines(cfg) {
		if p := progs[alertKey(l)]; p.err != nil {
			report(l.Pos, p.err)
		}
	}
	return errs, warns
}

// CheckDelivery warns about alerts that could not deliver now (a mail
// alert with no sendmail and no SMTP server): they would fail when it
// matters. It may take a few seconds per alert line (a connect timeout).
func CheckDelivery(ctx context.Context, cfg *config.Config) []config.Diagnostic {
	progs := resolveAlerts(cfg, alerts.Resolver(cfg.Globals.AlertDir, nil))
	var warns []config.Diagnostic
	checked := map[string]bool{}
	for _, l := range alertLines(cfg) {
		key := alertKey(l)
		dc, ok := progs[key].alert.(alerts.DeliveryChecker)
		if !ok || checked[key] {
			continue
		}
		checked[key] = true
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := dc.CheckDelivery(lctx); err != nil {
			warns = append(warns, config.Diagnostic{Pos: l.Pos, Msg: err.Error()})
		}
		cancel()
	}
	return warns
}
