// Command mon is gomon's daemon, a drop-in replacement for mon 1.3. The
// same binary also runs gomon's built-in monitors and alerts as drop-in
// scripts when it is called by such a name (fping.monitor, mail.alert…),
// and has operator commands: `mon period`, `mon convert` and
// `mon install-dropins`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/internal/web"
	"github.com/gomon/gomon/monitors"
	"github.com/gomon/gomon/scheduler"
)

// monVersion is what `mon -v` printed for mon 1.3.6; scripts compare it.
const monVersion = "mon-1.3.4"

// gomonVersion is this program's own version.
const gomonVersion = "0.1.0"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	switch {
	case strings.HasSuffix(name, ".monitor"):
		return monitors.RunDropIn(name, argv[1:], stdout, stderr)
	case strings.HasSuffix(name, ".alert"):
		return alerts.RunDropIn(name, argv[1:], stdin, stdout, stderr)
	}
	o, err := parseOptions(argv[1:])
	if err != nil {
		// mon prints its usage and exits 0 on a bad option; a non-zero
		// status tells init scripts something is wrong.
		fmt.Fprintf(stderr, "mon: %v\n\n%s", err, usage)
		return 2
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, usage)
		return 0
	case o.version:
		fmt.Fprintf(stdout, "%s (gomon %s)\n", monVersion, gomonVersion)
		return 0
	}
	if len(o.args) > 0 {
		switch o.args[0] {
		case "period":
			return cmdPeriod(o.args[1:], stdout, stderr)
		case "convert":
			return cmdConvert(o, o.args[1:], stdout, stderr)
		case "install-dropins":
			return cmdInstallDropIns(o.args[1:], stdout, stderr)
		}
		fmt.Fprintf(stderr, "mon: unknown command %q\n\n%s", o.args[0], usage)
		return 2
	}
	if o.fork && !o.checkConfig && os.Getenv(daemonEnv) == "" {
		return daemonize(argv, stdout, stderr)
	}
	return daemon(o, stdout, stderr)
}

// loadOptions are the configfile.LoadOptions for the command line: mon's
// "initial value" options seed the globals, the "override" options are
// applied after every read. Unlike mon, the overrides are re-applied on
// every reset too (Q-CFG-1): the command line keeps meaning what it says.
func loadOptions(o *options) configfile.LoadOptions {
	g := configfile.Defaults()
	if o.cfBaseDir != nil {
		g.CfBaseDir = *o.cfBaseDir
	}
	if o.logDir != nil {
		g.LogDir = *o.logDir
	}
	lo := configfile.LoadOptions{Globals: &g, Override: o.override}
	if o.m4 != nil {
		lo.M4, lo.M4Command = true, *o.m4
	}
	return lo
}

// override applies the command-line overrides to the file's globals.
func (o *options) override(g *config.Globals) {
	if o.alertDir != nil {
		g.AlertDir = splitDirs(*o.alertDir)
	}
	if o.scriptDir != nil {
		g.MonDir = splitDirs(*o.scriptDir)
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&g.AuthFile, o.authFile)
	set(&g.BaseDir, o.baseDir)
	set(&g.StateDir, o.stateDir)
	set(&g.LogDir, o.logDir)
	set(&g.PidFile, o.pidFile)
	set(&g.SyslogFacility, o.syslogFac)
	if o.maxKeep != nil {
		g.HistLength = *o.maxKeep
	}
	if o.maxProcs != nil {
		g.MaxProcs = *o.maxProcs
	}
	if o.port != nil {
		g.ServerPort = *o.port
	}
	if o.trapPort != nil {
		g.TrapPort = *o.trapPort
	}
	if o.randStart != nil {
		g.RandStart = *o.randStart
	}
}

func splitDirs(s string) []string {
	var out []string
	for _, d := range strings.Split(s, ":") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, strings.TrimSuffix(d, "/"))
		}
	}
	return out
}

// configPath returns the file to read: -c, else CFBASEDIR/mon.cf. The
// embedded configuration is used with --embedded-config, or when no -c
// was given and the default file does not exist.
func configPath(o *options) (path string, embedded bool) {
	if o.embedded {
		return "", true
	}
	if o.configFile != "" {
		return o.configFile, false
	}
	base := configfile.Defaults().CfBaseDir
	if o.cfBaseDir != nil {
		base = *o.cfBaseDir
	}
	p := filepath.Join(base, "mon.cf")
	if _, err := os.Stat(p); err != nil {
		return "", true
	}
	return p, false
}

// daemon runs the monitoring daemon until it is told to stop.
func daemon(o *options, stdout, stderr io.Writer) int {
	// As in mon, SIGPIPE is ignored, and so monitors and alerts inherit
	// it ignored: a script writing to a closed pipe gets EPIPE.
	signal.Ignore(syscall.SIGPIPE)
	child := takeDaemonChild() // non-nil in the background copy of -f
	notify := takeNotifier()
	log := newLogger(o, stderr)
	if o.baseDir != nil {
		if st, err := os.Stat(*o.baseDir); err != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "basedir %s does not exist\n", *o.baseDir)
			return 2
		}
	}
	path, embedded := configPath(o)
	lo := loadOptions(o)
	if embedded {
		var err error
		if path, err = prepareEmbedded(o); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		log.Info("no configuration file: running the embedded configuration", "file", path)
	}
	load := func() (*config.Config, error) { return configfile.Load(path, lo) }
	cfg, err := load()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfigError
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintln(stderr, warningText(w))
	}
	errs, warns := checkPrograms(cfg)
	if o.checkConfig {
		for _, p := range append(warns, errs...) {
			fmt.Fprintln(stderr, p)
		}
		if len(errs) > 0 {
			return exitConfigError
		}
		fmt.Fprintf(stdout, "%s: configuration OK\n", path)
		return 0
	}
	log, closeSyslog := syslog.Tee(log, cfg.Globals.SyslogFacility, logLevel(o))
	defer closeSyslog()
	for _, p := range append(warns, errs...) {
		log.Error(p)
	}

	acc, login, err := loadAuth(cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	g := cfg.Globals
	tcp, err := net.Listen("tcp", net.JoinHostPort(bindAddr(g.ServerBind), strconv.Itoa(g.ServerPort)))
	if err != nil {
		log.Error(fmt.Sprintf("fatal, could not bind TCP server port %d: %v", g.ServerPort, err))
		return 1
	}
	udp, err := net.ListenPacket("udp", net.JoinHostPort(bindAddr(g.TrapBind), strconv.Itoa(g.TrapPort)))
	if err != nil {
		log.Error(fmt.Sprintf("fatal, could not bind UDP trap port %d: %v", g.TrapPort, err))
		return 1
	}

	// Signals are caught from here on, before the pid file is written and
	// before -f releases its parent, so an early TERM still cleans up.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)

	var statusLn net.Listener
	if g.StatusListen != "" {
		if statusLn, err = net.Listen("tcp", g.StatusListen); err != nil {
			log.Error(fmt.Sprintf("fatal, could not bind status page address %s: %v", g.StatusListen, err))
			return 1
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The reconciler reads the scheduler only in passes, which Run starts.
	health := &lvsHealth{}
	reconciler := lvs.NewReconciler(health, log)
	counters := web.NewCounters()
	var readyOnce sync.Once
	sched := scheduler.New(cfg, scheduler.Options{
		Logger:  log,
		Stopped: o.stopped,
		Reload:  load,
		Events: func(e scheduler.Event) {
			observeLVS(reconciler, e)
			counters.Observe(e)
			if e.Kind == "load" {
				// The first load event comes from Run: sockets are bound
				// and the scheduler is running.
				readyOnce.Do(func() { notify.send("READY=1") })
			}
		},
	})
	health.sched = sched
	if o.loadState != "" {
		sched.LoadState(o.loadState)
	}
	remote, err := server.RemoteCommand(g.MonRemote, log)
	if err != nil {
		log.Error("monremote: cannot parse command", "err", err)
	}
	exitCode := 1 // mon exits 1 on SIGTERM, 0 on the `term` command
	var srv *server.Server
	srv, err = server.New(sched, acc, login, server.Options{
		Logger:      log,
		ClientAllow: strings.Fields(strings.Join(g.ClientAllow, " ")),
		CLTimeout:   g.CLTimeout,
		MaxClients:  g.MaxClients,
		Debug:       o.debug > 0,
		Term:        func() { exitCode = 0; cancel() },
		Remote:      remote,
		ReloadAuth: func() error {
			acc, login, err := loadAuth(sched.Config(), log)
			if err != nil {
				log.Error("reload auth failed, keeping the previous auth.cf", "err", err)
				return err
			}
			srv.SetAuth(acc, login)
			return nil
		},
		CheckConfig: func() error {
			_, err := load()
			var ce *configfile.Error
			if errors.As(err, &ce) {
				return errors.New(ce.Legacy())
			}
			return err
		},
	})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfigError
	}
	if pf := g.PidFile; pf != "" {
		if err := os.WriteFile(pf, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Error("could not write pid file", "file", pf, "err", err)
		} else {
			defer os.Remove(pf)
		}
	}

	if child != nil {
		if err := child.detach(g.MonErrFile); err != nil {
			log.Error(err.Error())
			return 1
		}
		log.Info("running as daemon")
	}

	go srv.Serve(ctx, tcp)
	go srv.ServeTraps(ctx, udp)
	go handleSignals(ctx, sigs, cancel, sched, log)
	go reconciler.Run(ctx)
	// A scheduler that stays locked stops the pings, and systemd restarts us.
	go notify.keepAlive(ctx, func() bool { sched.Stopped(); return true })
	if statusLn != nil {
		url := "http://" + statusLn.Addr().String() + "/"
		log.Info("status page", "url", url)
		if embedded {
			fmt.Fprintf(stdout, "status page: %s\n", url)
		}
		go serveStatus(ctx, statusLn, web.Handler(sched, counters), log)
	}
	if embedded {
		go showStatus(ctx, sched, stdout)
	}
	log.Info("mon server started", "version", gomonVersion, "config", path,
		"port", g.ServerPort, "trapport", g.TrapPort)
	sched.Run(ctx)
	notify.send("STOPPING=1")
	// Unlike mon, the run-time state is saved on the way out, so that a
	// restart with -l opstatus|all carries on where this one stopped
	// (no repeated down alerts for services still failing).
	if st, err := os.Stat(g.StateDir); err == nil && st.IsDir() {
		sched.SaveState("opstatus")
	}
	return exitCode
}

// exitConfigError is the status for a configuration that does not load.
// (mon's is whatever errno was set when Perl died: 255, 25, 2…)
const exitConfigError = 1

// bindAddr is the listen address: serverbind/trapbind, else loopback.
// mon binds all interfaces by default; gomon binds 127.0.0.1 unless the
// configuration says otherwise (a safe default, see compatibility notes).
func bindAddr(configured string) string {
	if configured == "" {
		return "127.0.0.1"
	}
	return configured
}

// warningText prints config warnings: mon's own two warnings exactly as
// mon prints them, others with their position.
func warningText(d config.Diagnostic) string {
	if d.Legacy != "" {
		return d.Legacy
	}
	return d.String()
}

// handleSignals: SIGHUP resets with keepstate (as mon does, Q-SCH-19);
// SIGTERM and SIGINT end the daemon, reaping running monitors.
func handleSignals(ctx context.Context, ch <-chan os.Signal, cancel context.CancelFunc, sched *scheduler.Scheduler, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ch:
			if sig == syscall.SIGHUP {
				if err := sched.Reset(false, true); err != nil {
					log.Error("reset on SIGHUP failed; the running configuration stays", "err", err)
				}
				continue
			}
			log.Info("caught TERM signal, exiting")
			cancel()
			return
		}
	}
}

func logLevel(o *options) slog.Level {
	if o.debug > 0 {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func newLogger(o *options, w io.Writer) *slog.Logger {
	ho := &slog.HandlerOptions{Level: logLevel(o), ReplaceAttr: syslog.DropKey}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, ho))
	}
	return slog.New(slog.NewTextHandler(w, ho))
}
