package main

import (
	"context"
	"log/slog"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/snmptrap"
	"github.com/gomon/gomon/scheduler"
)

// startSNMPTraps starts the SNMP trap receiver when snmptrap_listen is
// set (gomon, docs/snmptrap.md); nil without it. A bind failure is
// fatal, as for the other sockets.
func startSNMPTraps(ctx context.Context, g config.Globals, sched *scheduler.Scheduler, log *slog.Logger) (*snmptrap.Receiver, error) {
	if g.SNMPTrap.Listen == "" {
		return nil, nil
	}
	r, err := snmptrap.New(g.SNMPTrap, sched, log)
	if err != nil {
		return nil, err
	}
	return r, r.Start(ctx)
}
