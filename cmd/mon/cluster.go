package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"github.com/gomon/gomon/internal/cluster"
	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/scheduler"
)

// clusterNode is this daemon's cluster membership, or nil when gomon
// runs alone (no cluster_etcd). replay is set once the server exists.
type clusterNode struct {
	*cluster.Node
	replay func(line, user string)
}

// newClusterNode prepares the membership; Run joins.
func newClusterNode(g config.Globals, log *slog.Logger) (*clusterNode, error) {
	if !g.Cluster.Enabled() {
		return nil, nil
	}
	cn := &clusterNode{}
	n, err := cluster.New(g.Cluster, cluster.Options{
		Logger:  log,
		Version: gomonVersion,
		Addr:    advertised(g.Cluster.Advertise, g.ServerBind, g.ServerPort),
		Traps:   advertised(g.Cluster.Advertise, g.TrapBind, g.TrapPort),
		Replay: func(line, user string) {
			if cn.replay != nil {
				cn.replay(line, user)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if a := advertised(g.Cluster.Advertise, g.TrapBind, g.TrapPort); a == "" || isLoopback(a) {
		log.Warn("cluster: traps for services another node runs can be forwarded only on this machine; set cluster_advertise (and trapbind) to an address the other nodes reach", "trap_addr", a)
	}
	cn.Node = n
	return cn, nil
}

// advertised is the address other nodes reach a socket of this one at:
// cluster_advertise, else the bind address when it names one host. A
// wildcard or no bind (loopback by default) gives "" when the cluster
// spans machines, which cluster_advertise fixes; loopback is kept for a
// cluster on one machine (tests, a lab).
func advertised(advertise, bind string, port int) string {
	host := advertise
	if host == "" {
		host = bindAddr(bind)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func isLoopback(addr string) bool {
	host, _, _ := net.SplitHostPort(addr)
	return isLoopbackHost(host)
}

// replica is the scheduler's view: a nil interface when alone.
func (cn *clusterNode) replica() scheduler.Replica {
	if cn == nil {
		return nil
	}
	return cn.Node
}

// server is the protocol server's view: a nil interface when alone.
func (cn *clusterNode) server() server.Cluster {
	if cn == nil {
		return nil
	}
	return cn.Node
}

// web is the status page's view: nil when alone.
func (cn *clusterNode) web() *cluster.Node {
	if cn == nil {
		return nil
	}
	return cn.Node
}

// observe passes the scheduler's load events on: a reset may change the
// configuration's digest and its services.
func (cn *clusterNode) observe(e scheduler.Event) {
	if cn != nil && e.Kind == "load" {
		cn.Loaded()
	}
}

// run keeps the node in the cluster until ctx ends; the returned channel
// closes once it has left (its lease revoked, so that the others take
// over at once).
func (cn *clusterNode) run(ctx context.Context, sched *scheduler.Scheduler, srv *server.Server) <-chan struct{} {
	done := make(chan struct{})
	if cn == nil {
		close(done)
		return done
	}
	cn.replay = srv.Replay
	go func() {
		defer close(done)
		cn.Run(ctx, sched)
	}()
	return done
}
