// Package cluster runs gomon as one node of a cluster on etcd v3
// (docs/cluster.md). Each node registers under a lease; every shard-scope
// service is owned by one live node, chosen by rendezvous hashing; the
// owner publishes the service's state on transitions and operator
// actions, in a transaction fenced by its lease, and pages only once that
// write is accepted. Every node imports the others' states, so any node
// answers for the whole cluster, and operator commands given to one node
// are replayed on all.
//
// The hot path stays local: a check result touches etcd only when it is
// a transition. etcd carries who is alive, the states at their last
// transition, and operator actions.
package cluster

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/scheduler"
)

// Options configure a Node.
type Options struct {
	Logger  *slog.Logger
	Version string // gomon's version, published with the membership
	Addr    string // this node's protocol address, published for operators
	Traps   string // this node's trap address, where other nodes forward traps
	// Replay runs an operator command another node received (already
	// authorized there) on this node's server.
	Replay func(line, user string)
}

// Node is this daemon's membership in a cluster. It implements
// scheduler.Replica.
type Node struct {
	cfg   config.Cluster
	name  string
	opts  Options
	log   *slog.Logger
	cli   *clientv3.Client
	sched *scheduler.Scheduler

	own     atomic.Pointer[map[string]bool] // shard keys this node runs now
	reload  chan struct{}                   // the scheduler loaded a configuration
	publish *queue

	mu       sync.Mutex
	members  map[string]Member // by node name, from etcd
	digest   string            // of this node's running configuration
	keys     []string          // its shard-scope services
	owners   map[string]string // shard key → owner, as last computed
	lease    clientv3.LeaseID  // 0 while not registered
	revs     map[string]int64  // state key → ModRevision last seen
	etcdErr  string            // the last etcd error, "" while healthy
	refusal  string            // why this node owns nothing, "" when eligible
	pending  []string          // gained services whose states are being loaded
	stale    map[string]bool   // state keys whose local state is void: imported at the next load whatever their revision
	joined   bool              // a session was established at least once
	seq      uint64            // of this process's commits
	instance string            // this process, in its member record
	started  time.Time
	opSeq    uint64
}

// New connects to etcd (lazily: the client retries in the background)
// and returns a node for sched's cluster. It checks the TLS and password
// settings, so a bad one fails the start.
func New(cfg config.Cluster, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cc, err := clientConfig(cfg)
	if err != nil {
		return nil, err
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("cluster: etcd client: %w", err)
	}
	name := cfg.Node
	if name == "" {
		name, _ = os.Hostname()
	}
	n := &Node{
		cfg: cfg, name: name, opts: opts, log: opts.Logger.With("node", name), cli: cli,
		reload: make(chan struct{}, 1), members: map[string]Member{}, revs: map[string]int64{}, stale: map[string]bool{},
	}
	n.publish = newQueue()
	var id [8]byte
	rand.Read(id[:])
	n.instance, n.started = hex.EncodeToString(id[:]), time.Now()
	empty := map[string]bool{}
	n.own.Store(&empty)
	return n, nil
}

// Check validates cluster settings the way New does, without
// connecting: the one validation path of --check-config, start and
// reload.
func Check(cfg config.Cluster) error {
	if !cfg.Enabled() {
		return nil
	}
	_, err := clientConfig(cfg)
	return err
}

// clientConfig builds the etcd client's configuration.
func clientConfig(cfg config.Cluster) (clientv3.Config, error) {
	cc := clientv3.Config{
		Endpoints:            cfg.Etcd,
		DialTimeout:          cfg.Lease,
		DialKeepAliveTime:    cfg.Lease,
		DialKeepAliveTimeout: cfg.Lease,
		AutoSyncInterval:     0,
		Logger:               nil,
		RejectOldCluster:     false,
		PermitWithoutStream:  true,
	}
	if cfg.CACert != "" || cfg.Cert != "" {
		t := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CACert != "" {
			pem, err := os.ReadFile(cfg.CACert)
			if err != nil {
				return cc, fmt.Errorf("cluster_etcd_cacert: %w", err)
			}
			t.RootCAs = x509.NewCertPool()
			if !t.RootCAs.AppendCertsFromPEM(pem) {
				return cc, fmt.Errorf("cluster_etcd_cacert %s: no PEM certificate in it", cfg.CACert)
			}
		}
		if cfg.Cert != "" {
			c, err := tls.LoadX509KeyPair(cfg.Cert, cfg.Key)
			if err != nil {
				return cc, fmt.Errorf("cluster_etcd_cert/cluster_etcd_key: %w", err)
			}
			t.Certificates = []tls.Certificate{c}
		}
		cc.TLS = t
	}
	if cfg.User != "" {
		pw, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return cc, fmt.Errorf("cluster_etcd_password_file: %w", err)
		}
		cc.Username, cc.Password = cfg.User, strings.TrimRight(string(pw), "\r\n")
	}
	return cc, nil
}

// Name is this node's name in the cluster.
func (n *Node) Name() string { return n.name }

// Owns reports whether this node runs a shard-scope service now
// (scheduler.Replica).
func (n *Node) Owns(group, service string) bool {
	return (*n.own.Load())[group+"/"+service]
}

// Commit queues a service's state for publication (scheduler.Replica).
// The revision of the state it was decided on and the lease are taken
// now: the commit may go out only under both (publish.go).
func (n *Node) Commit(c scheduler.Commit) {
	key := n.key("state", c.Group, c.Service)
	n.mu.Lock()
	n.seq++
	p := pending{Commit: c, key: key, lease: n.lease, rev: n.revs[key], id: fmt.Sprintf("%s-%d", n.instance, n.seq)}
	n.mu.Unlock()
	n.publish.push(p)
}

// Loaded tells the node that the scheduler (re)loaded its configuration;
// call it from the scheduler's "load" event. It does not block.
func (n *Node) Loaded() {
	select {
	case n.reload <- struct{}{}:
	default:
	}
}

// Run keeps this node in the cluster until ctx ends: it registers under
// a lease, follows the members, states and operator actions, and
// publishes this node's commits. When etcd cannot be reached it keeps
// the last known ownership (the node goes on monitoring its share, and
// holds its pages), and registers again as soon as it can. A node that
// cannot reach etcd from its start runs every shard service after two
// leases, so that a director pair booting without etcd still monitors
// and keeps its tables; its pages wait for the cluster.
func (n *Node) Run(ctx context.Context, sched *scheduler.Scheduler) error {
	n.sched = sched
	n.configure()
	go n.publisher(ctx)
	defer n.cli.Close()
	alone := time.AfterFunc(2*n.cfg.Lease, n.runEverything)
	defer alone.Stop()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		joined, err := n.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if joined {
			backoff = 100 * time.Millisecond
		}
		n.setErr(err)
		n.log.Error("cluster: no etcd session, registering again", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-n.reload:
			n.configure()
		case <-ctx.Done():
		}
		backoff = min(2*backoff, n.cfg.Lease/2)
	}
	n.resign()
	return nil
}

// runEverything is the cold start without etcd: no share is known, so
// this node runs them all until it joins.
func (n *Node) runEverything() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.joined {
		return
	}
	all := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		all[k] = true
	}
	n.own.Store(&all)
	n.log.Warn("cluster: etcd unreachable since start; running every shard service here, pages wait for the cluster", "services", len(all))
}

// configure reads the scheduler's configuration: its digest and shard
// services; states of services no longer configured are forgotten.
func (n *Node) configure() {
	cfg := n.sched.Config()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.digest = Digest(cfg)
	n.keys = shardKeys(cfg)
	keep := make(map[string]bool, len(n.keys))
	for _, k := range n.keys {
		keep[n.key("state", k)] = true
	}
	for k := range n.revs {
		if !keep[k] {
			delete(n.revs, k)
		}
	}
}

func (n *Node) key(parts ...string) string {
	return n.cfg.Prefix + strings.Join(parts, "/")
}

func (n *Node) memberKey() string { return n.key("members", n.name) }

// session is one registration: from a new lease until it is lost. It
// reports whether it joined.
func (n *Node) session(ctx context.Context) (bool, error) {
	sess, err := concurrency.NewSession(n.cli, concurrency.WithTTL(int(n.cfg.Lease.Seconds()+0.5)), concurrency.WithContext(ctx))
	if err != nil {
		return false, fmt.Errorf("lease: %w", err)
	}
	defer sess.Orphan() // a lost session's lease expires by itself; a clean stop revokes it in resign
	lease := sess.Lease()
	if err := n.register(ctx, lease); err != nil {
		return false, err
	}
	// Commits made under an earlier lease, or none, are void: the others
	// may have decided meanwhile. Their services are loaded again below,
	// whatever their revision.
	for _, key := range n.publish.purge(func(p pending) bool { return p.lease != lease }) {
		n.markStale(key)
	}
	rev, err := n.loadAll(ctx)
	if err != nil {
		return false, err
	}
	n.mu.Lock()
	n.lease, n.joined, n.etcdErr = lease, true, ""
	n.mu.Unlock()
	n.log.Info("cluster: joined", "lease", fmt.Sprintf("%x", lease), "etcd", strings.Join(n.cfg.Etcd, ","))
	n.publish.wake()
	defer func() {
		n.mu.Lock()
		n.lease = 0
		n.mu.Unlock()
	}()

	retry := time.NewTicker(n.cfg.Lease / 2) // services gained whose states could not be loaded yet
	defer retry.Stop()
	for {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := n.cli.Watch(wctx, n.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
		rev, err = n.follow(ctx, sess, lease, wch, retry.C, rev)
		cancel()
		if err != nil {
			return true, err
		}
		if ctx.Err() != nil {
			return true, nil
		}
		// The watch broke but the lease lives: watch again from where it
		// stopped, without giving up the share.
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return true, nil
		}
	}
}

// follow applies one watch's events until the session ends (an error) or
// the watch breaks (nil, and the revision to go on from).
func (n *Node) follow(ctx context.Context, sess *concurrency.Session, lease clientv3.LeaseID, wch clientv3.WatchChan, retry <-chan time.Time, rev int64) (int64, error) {
	for {
		select {
		case <-ctx.Done():
			return rev, nil
		case <-sess.Done():
			return rev, errors.New("lease expired or revoked")
		case <-n.reload:
			n.configure()
			if err := n.register(ctx, lease); err != nil {
				return rev, err
			}
			n.reown(ctx)
		case <-retry:
			n.reown(ctx)
		case wr, ok := <-wch:
			if !ok {
				return rev, nil
			}
			if wr.CompactRevision != 0 {
				// Missed events were compacted away: load everything.
				r, err := n.loadAll(ctx)
				if err != nil {
					return rev, err
				}
				return r, nil
			}
			if err := wr.Err(); err != nil {
				n.log.Warn("cluster: watch broke, watching again", "err", err)
				return rev, nil
			}
			rev = wr.Header.Revision
			changed := false
			for _, ev := range wr.Events {
				c, self := n.event(ev)
				changed = changed || c
				if self {
					// Our member key is gone while the lease lives
					// (deleted by hand): put it back.
					if err := n.register(ctx, lease); err != nil {
						return rev, err
					}
				}
			}
			if changed {
				n.reown(ctx)
			}
		}
	}
}

func (n *Node) setErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.etcdErr = err.Error()
}
