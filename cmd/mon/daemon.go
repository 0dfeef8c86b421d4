package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gomon/gomon/alerts/dnsupdate"
	"github.com/gomon/gomon/alerts/lvs"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/snmptrap"
	"github.com/gomon/gomon/internal/syslog"
	"github.com/gomon/gomon/internal/web"
	"github.com/gomon/gomon/scheduler"
)

// daemon runs the monitoring daemon until it is told to stop.
func daemon(o *options, stdout, stderr io.Writer) int {
	// As in mon, SIGPIPE is ignored, and so monitors and alerts inherit
	// it ignored: a script writing to a closed pipe gets EPIPE.
	signal.Ignore(syscall.SIGPIPE)
	child := takeDaemonChild() // non-nil in the background copy of -f
	notify := takeNotifier()
	log := newLogger(o, stderr)
	servePprof(log)
	c, code := readConfig(o, log, stdout, stderr)
	if c == nil {
		return code
	}
	log, closeSyslog := syslog.Tee(log, c.cfg.Globals.SyslogFacility, logLevel(o))
	defer closeSyslog()
	for _, p := range c.problems {
		log.Error(p)
	}

	acc, login, err := loadAuth(c.cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	g := c.cfg.Globals
	ls, err := listen(g)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	if ls.statusErr != nil {
		log.Warn("status page off: its default address is taken (set status_listen to move it, or to off)",
			"addr", defaultStatusListen, "err", ls.statusErr)
	}
	// Signals are caught from here on, before the pid file is written and
	// before -f releases its parent, so an early TERM still cleans up.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The reconcilers read the scheduler only in passes, which Run starts.
	health := &schedHealth{}
	lvsReconciler := lvs.NewReconciler(health, log)
	dnsReconciler := dnsupdate.NewReconciler(health, log)
	reconcilers := []reconciler{lvsReconciler, dnsReconciler}
	counters := web.NewCounters()
	node, err := newClusterNode(g, log)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfigError
	}
	var readyOnce sync.Once
	running := make(chan struct{}) // closed by the first load event, from Run
	sched := scheduler.New(c.cfg, scheduler.Options{
		Logger:  log,
		Stopped: o.stopped,
		Reload:  c.load,
		Replica: node.replica(),
		Events: func(e scheduler.Event) {
			observeReconcilers(reconcilers, e)
			counters.Observe(e)
			node.observe(e)
			if e.Kind == "load" {
				// A load leaves the parse of the whole configuration
				// behind as garbage (hundreds of MiB at 100,000
				// services); give it back to the system now rather
				// than keep it as the heap's high-water mark.
				go debug.FreeOSMemory()
				// The first load event comes from Run: sockets are bound
				// and the scheduler is running.
				readyOnce.Do(func() { close(running); notify.send("READY=1") })
			}
		},
	})
	health.sched = sched
	if o.loadState != "" {
		sched.LoadState(o.loadState)
	}
	exitCode := 1 // mon exits 1 on SIGTERM, 0 on the `term` command
	srv, err := newServer(o, c, sched, acc, login, log, node.server(), func() { exitCode = 0; cancel() })
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfigError
	}
	snmpTraps, err := startSNMPTraps(ctx, g, sched, log)
	if err != nil {
		log.Error(err.Error())
		return 1
	}
	srv.SetSNMPTrapStats(snmpTraps.StatsFunc())
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

	// Clients and traps are served once the scheduler runs (its start
	// writes the downtime log's header, as mon does before it accepts a
	// client); until then they wait in the sockets' queues.
	go func() {
		select {
		case <-running:
			go srv.ServeTraps(ctx, ls.udp)
			srv.Serve(ctx, ls.tcp)
		case <-ctx.Done():
		}
	}()
	go handleSignals(ctx, sigs, cancel, sched, log, notify)
	go lvsReconciler.Run(ctx)
	go dnsReconciler.Run(ctx)
	left := node.run(ctx, sched, srv)
	// A scheduler that stays locked stops the pings, and systemd restarts us.
	go notify.keepAlive(ctx, func() bool { sched.Stopped(); return true })
	if ls.status != nil {
		url := "http://" + ls.status.Addr().String() + "/"
		log.Info("status page", "url", url)
		if c.embedded {
			fmt.Fprintf(stdout, "status page: %s\n", url)
		}
		go serveStatus(ctx, ls.status, web.Handler(sched, counters, node.web(), srv, snmptrap.NewCollector(snmpTraps.StatsFunc())), log)
	}
	if c.embedded {
		go showStatus(ctx, sched, stdout)
	}
	log.Info("mon server started", "version", gomonVersion, "config", c.path,
		"port", g.ServerPort, "trapport", g.TrapPort)
	sched.Run(ctx)
	notify.send("STOPPING=1")
	<-left
	// Unlike mon, the run-time state is saved on the way out, so that a
	// restart with -l opstatus|all carries on where this one stopped
	// (no repeated down alerts for services still failing).
	if st, err := os.Stat(g.StateDir); err == nil && st.IsDir() {
		sched.SaveState("opstatus")
	}
	return exitCode
}

// listeners are the daemon's sockets.
type listeners struct {
	tcp    net.Listener   // the client protocol
	udp    net.PacketConn // traps
	status net.Listener   // the status page and console; nil when off
	// statusErr is why the default status address could not be bound
	// (not fatal: another daemon may hold it).
	statusErr error
}

// defaultStatusListen is where the status page listens without a
// status_listen line: loopback only.
const defaultStatusListen = "127.0.0.1:2584"

// listen binds the daemon's sockets, failing with mon's messages.
func listen(g config.Globals) (*listeners, error) {
	var ls listeners
	var err error
	ls.tcp, err = net.Listen(bindNetwork("tcp", bindAddr(g.ServerBind)), net.JoinHostPort(bindAddr(g.ServerBind), strconv.Itoa(g.ServerPort)))
	if err != nil {
		return nil, fmt.Errorf("fatal, could not bind TCP server port %d: %w", g.ServerPort, err)
	}
	ls.udp, err = net.ListenPacket(bindNetwork("udp", bindAddr(g.TrapBind)), net.JoinHostPort(bindAddr(g.TrapBind), strconv.Itoa(g.TrapPort)))
	if err != nil {
		ls.tcp.Close()
		return nil, fmt.Errorf("fatal, could not bind UDP trap port %d: %w", g.TrapPort, err)
	}
	switch g.StatusListen {
	case "off":
	case "":
		ls.status, ls.statusErr = net.Listen("tcp", defaultStatusListen)
	default:
		if ls.status, err = net.Listen("tcp", g.StatusListen); err != nil {
			ls.tcp.Close()
			ls.udp.Close()
			return nil, fmt.Errorf("fatal, could not bind status page address %s: %w", g.StatusListen, err)
		}
	}
	return &ls, nil
}

// bindAddr is the listen address: serverbind/trapbind, else loopback.
// mon binds all interfaces by default; gomon binds 127.0.0.1 unless the
// configuration says otherwise (a safe default, see compatibility notes).
func bindAddr(configured string) string {
	if configured == "" {
		return "127.0.0.1"
	}
	return configured
}

// bindNetwork keeps a bind address to its own family: Go's "tcp" on
// 0.0.0.0 also listens on IPv6 (a dual-stack socket), which mon's
// serverbind 0.0.0.0 never did. "::" binds IPv6 (and, as the kernel
// allows, IPv4-mapped); a host name is left to the resolver.
func bindNetwork(network, addr string) string {
	ip, err := netip.ParseAddr(addr)
	switch {
	case err != nil:
		return network
	case ip.Is4():
		return network + "4"
	}
	return network + "6"
}

// newServer sets up the client protocol server; term ends the daemon.
func newServer(o *options, c *loaded, sched *scheduler.Scheduler, acc server.Access, login server.Authenticator,
	log *slog.Logger, cl server.Cluster, term func()) (*server.Server, error) {
	g := c.cfg.Globals
	remote, err := server.RemoteCommand(g.MonRemote, log)
	if err != nil {
		log.Error("monremote: cannot parse command", "err", err)
	}
	var srv *server.Server
	srv, err = server.New(sched, acc, login, server.Options{
		Logger:      log,
		ClientAllow: strings.Fields(strings.Join(g.ClientAllow, " ")),
		CLTimeout:   g.CLTimeout,
		MaxClients:  g.MaxClients,
		Debug:       o.debug > 0,
		Term:        term,
		Remote:      remote,
		Cluster:     cl,
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
			_, err := c.load()
			var ce *configfile.Error
			if errors.As(err, &ce) {
				return errors.New(ce.Legacy())
			}
			return err
		},
	})
	return srv, err
}

// handleSignals: SIGHUP resets with keepstate (as mon does, Q-SCH-19);
// SIGTERM and SIGINT end the daemon, reaping running monitors. systemd
// hears of a reload (RELOADING=1, then READY=1 once it is done, applied
// or refused), so `systemctl reload` waits for it.
func handleSignals(ctx context.Context, ch <-chan os.Signal, cancel context.CancelFunc, sched *scheduler.Scheduler, log *slog.Logger, notify *notifier) {
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ch:
			if sig == syscall.SIGHUP {
				notify.send(reloading())
				if err := sched.Reset(scheduler.ResetOptions{KeepState: true}); err != nil {
					log.Error("reset on SIGHUP failed; the running configuration stays", "err", err)
				}
				notify.send("READY=1")
				continue
			}
			log.Info("caught TERM signal, exiting")
			cancel()
			return
		}
	}
}
