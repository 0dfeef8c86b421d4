package main

import (
	"log/slog"

	"github.com/gomon/gomon/internal/auth"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/server"
)

// loadAuth reads auth.cf and sets up the login methods of cfg. It fails
// on an unreadable or malformed auth.cf and on an unusable authtype, so
// the daemon refuses to start and `reload auth` keeps the old policy.
func loadAuth(cfg *config.Config, log *slog.Logger) (server.Access, server.Authenticator, error) {
	g := cfg.Globals
	tab, err := auth.Load(g.AuthFile)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range tab.Warnings() {
		log.Warn(w)
	}
	login, err := auth.NewAuthenticator(g.AuthType, g.UserFile, log)
	if err != nil {
		return nil, nil, err
	}
	return tab, login, nil
}
