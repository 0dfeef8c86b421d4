package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// pprofEnv names a loopback address on which the daemon serves Go's
// profiles (/debug/pprof/), for measuring it at scale (docs/performance.md).
// It is a debugging aid, not an interface: no option, no config keyword.
const pprofEnv = "GOMON_DEBUG_PPROF"

// servePprof serves the profiles when $GOMON_DEBUG_PPROF asks for them.
func servePprof(log *slog.Logger) {
	addr := os.Getenv(pprofEnv)
	os.Unsetenv(pprofEnv) // not for monitors and alerts
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !isLoopbackHost(host) {
		log.Error("pprof server refused: "+pprofEnv+" must be a loopback address", "addr", addr)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			log.Error("pprof server", "addr", addr, "err", err)
		}
	}()
}

// isLoopbackHost reports whether host is a loopback address or localhost:
// the profiles show the daemon's internals.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
