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
	"encoding/json"
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
	instance string            // this process, in its member record
	started  time.Time
	opSeq    uint64
	joinedAt time.Time
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
		reload: make(chan struct{}, 1), members: map[string]Member{}, revs: map[string]int64{},
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
func (n *Node) Commit(c scheduler.Commit) {
	n.mu.Lock()
	lease := n.lease
	n.mu.Unlock()
	n.publish.push(pending{Commit: c, lease: lease})
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
// holds its pages), and registers again as soon as it can.
func (n *Node) Run(ctx context.Context, sched *scheduler.Scheduler) error {
	n.sched = sched
	n.configure()
	go n.publisher(ctx)
	defer n.cli.Close()
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := n.session(ctx)
		if ctx.Err() != nil {
			break
		}
		n.setErr(err)
		n.log.Error("cluster: lost etcd session, registering again", "err", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(2*backoff, n.cfg.Lease/2)
	}
	n.resign()
	return nil
}

// configure reads the scheduler's configuration: its digest and shard
// services.
func (n *Node) configure() {
	cfg := n.sched.Config()
	n.mu.Lock()
	n.digest = Digest(cfg)
	n.keys = shardKeys(cfg)
	n.mu.Unlock()
}

func (n *Node) key(parts ...string) string {
	return n.cfg.Prefix + strings.Join(parts, "/")
}

func (n *Node) memberKey() string { return n.key("members", n.name) }

// session is one registration: from a new lease until it is lost.
func (n *Node) session(ctx context.Context) error {
	sess, err := concurrency.NewSession(n.cli, concurrency.WithTTL(int(n.cfg.Lease.Seconds()+0.5)), concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("lease: %w", err)
	}
	defer sess.Orphan() // a lost session's lease expires by itself; a clean stop revokes it in resign
	if err := n.register(ctx, sess.Lease()); err != nil {
		return err
	}
	rev, err := n.loadAll(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.lease, n.joinedAt, n.etcdErr = sess.Lease(), time.Now(), ""
	n.mu.Unlock()
	n.log.Info("cluster: joined", "lease", fmt.Sprintf("%x", sess.Lease()), "etcd", strings.Join(n.cfg.Etcd, ","))
	n.publish.wake()

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := n.cli.Watch(wctx, n.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			n.mu.Lock()
			n.lease = 0
			n.mu.Unlock()
			return errors.New("lease expired or revoked")
		case <-n.reload:
			n.configure()
			if err := n.register(ctx, sess.Lease()); err != nil {
				return err
			}
			n.reown(ctx)
		case wr, ok := <-wch:
			if !ok {
				return errors.New("watch closed")
			}
			if err := wr.Err(); err != nil {
				return fmt.Errorf("watch: %w", err)
			}
			changed := false
			for _, ev := range wr.Events {
				changed = n.event(ev) || changed
			}
			if changed {
				n.reown(ctx)
			}
		}
	}
}

// register puts this node's member key under the lease.
func (n *Node) register(ctx context.Context, lease clientv3.LeaseID) error {
	n.mu.Lock()
	m := Member{Node: n.name, Digest: n.digest, Version: n.opts.Version, Addr: n.opts.Addr, Traps: n.opts.Traps,
		Started: n.started.Unix(), Instance: n.instance}
	n.mu.Unlock()
	v, _ := json.Marshal(m)
	// A key held under another lease is another process with this name:
	// refuse instead of stealing its identity.
	key := n.memberKey()
	tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(v), clientv3.WithLease(lease))).
		Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if resp.Succeeded {
		return nil
	}
	kv := resp.Responses[0].GetResponseRange().Kvs
	var old Member
	if len(kv) == 1 {
		json.Unmarshal(kv[0].Value, &old)
	}
	switch {
	case len(kv) == 1 && clientv3.LeaseID(kv[0].Lease) == lease:
		// A new digest under the same lease (a reload).
	case len(kv) == 1 && old.Instance == n.instance:
		// This process under an earlier lease that etcd still keeps
		// (etcd restarted and renewed it): that lease is ours to end.
		n.cli.Revoke(tctx, clientv3.LeaseID(kv[0].Lease))
	default:
		return fmt.Errorf("another node is registered as %q: give each node its own cluster_node", n.name)
	}
	_, err = n.cli.Put(tctx, key, string(v), clientv3.WithLease(lease))
	return err
}

// loadAll reads the members and every state once and imports them; it
// returns the revision the watch goes on from.
func (n *Node) loadAll(ctx context.Context) (int64, error) {
	tctx, cancel := context.WithTimeout(ctx, 4*n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Get(tctx, n.cfg.Prefix, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("load: %w", err)
	}
	n.mu.Lock()
	n.members = map[string]Member{}
	n.mu.Unlock()
	for _, kv := range resp.Kvs {
		n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
	}
	n.recompute()
	n.commitOwnership() // every state is loaded already
	return resp.Header.Revision, nil
}

// event applies one watch event and reports whether membership changed.
func (n *Node) event(ev *clientv3.Event) bool {
	key := string(ev.Kv.Key)
	if ev.Type == clientv3.EventTypeDelete {
		if name, ok := strings.CutPrefix(key, n.key("members")+"/"); ok {
			n.mu.Lock()
			delete(n.members, name)
			n.mu.Unlock()
			n.log.Info("cluster: member left", "member", name)
			return true
		}
		return false
	}
	return n.put(key, ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.ModRevision, true)
}

// put applies one key's value; live is set for watch events (a
// transition as it happens). It reports whether membership changed.
func (n *Node) put(key string, value []byte, created, modified int64, live bool) bool {
	rest, ok := strings.CutPrefix(key, n.cfg.Prefix)
	if !ok {
		return false
	}
	kind, rest, _ := strings.Cut(rest, "/")
	switch kind {
	case "members":
		var m Member
		if err := json.Unmarshal(value, &m); err != nil {
			n.log.Error("cluster: bad member record", "key", key, "err", err)
			return false
		}
		m.Rev = created
		n.mu.Lock()
		old, had := n.members[m.Node]
		n.members[m.Node] = m
		n.mu.Unlock()
		if live && !had {
			n.log.Info("cluster: member joined", "member", m.Node, "digest", m.Digest)
		}
		return !had || old.Digest != m.Digest
	case "state":
		group, service, ok := strings.Cut(rest, "/")
		if !ok {
			return false
		}
		n.mu.Lock()
		seen := n.revs[key]
		if modified > seen {
			n.revs[key] = modified
		}
		n.mu.Unlock()
		if !live && modified <= seen {
			// Already imported: this node's state is that one plus the
			// operator commands replayed here since, which a reload
			// must not undo.
			return false
		}
		var w written
		if err := json.Unmarshal(value, &w); err != nil {
			n.log.Error("cluster: bad state record", "key", key, "err", err)
			return false
		}
		if w.Node == n.name && live {
			return false // our own write, already applied
		}
		if err := n.sched.Import(group, service, w.State, live); err != nil && !errors.Is(err, scheduler.ErrUnknownGroup) && !errors.Is(err, scheduler.ErrUnknownService) {
			n.log.Error("cluster: cannot import state", "group", group, "service", service, "err", err)
		}
	case "ops":
		if !live {
			return false
		}
		var o op
		if err := json.Unmarshal(value, &o); err != nil || o.Node == n.name {
			return false
		}
		n.log.Info("cluster: replaying operator command", "from", o.Node, "user", o.User, "command", o.Line)
		if n.opts.Replay != nil {
			n.opts.Replay(o.Line, o.User)
		}
	}
	return false
}

// reown recomputes ownership after a membership or configuration change;
// services this node gains have their state loaded first.
func (n *Node) reown(ctx context.Context) {
	gained := n.recompute()
	if len(gained) == 0 {
		return
	}
	// Load the gained services' states before running them, so that a
	// takeover resumes the outage instead of starting cold.
	tctx, cancel := context.WithTimeout(ctx, 4*n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Get(tctx, n.key("state")+"/", clientv3.WithPrefix())
	if err != nil {
		n.log.Error("cluster: cannot load the states of gained services", "err", err)
	} else {
		want := map[string]bool{}
		for _, k := range gained {
			want[n.key("state", k)] = true
		}
		for _, kv := range resp.Kvs {
			if want[string(kv.Key)] {
				n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
			}
		}
	}
	n.commitOwnership()
	for _, k := range gained {
		g, s, _ := strings.Cut(k, "/")
		n.sched.TakeOver(g, s)
	}
	n.log.Info("cluster: took over services", "count", len(gained))
}

// recompute works out the owners from the current members. It switches
// off what this node lost at once and returns what it gained, which
// commitOwnership switches on once their states are loaded.
func (n *Node) recompute() (gained []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	members := make([]Member, 0, len(n.members))
	for _, m := range n.members {
		members = append(members, m)
	}
	nodes := eligible(members)
	n.refusal = ""
	if _, in := n.members[n.name]; in && !contains(nodes, n.name) {
		n.refusal = fmt.Sprintf("configuration digest %s differs from the cluster's %s: this node owns nothing until its configuration matches", n.digest, clusterDigest(members))
		n.log.Error("cluster: " + n.refusal)
	}
	n.owners = ownership(nodes, n.keys)
	old := *n.own.Load()
	next := make(map[string]bool, len(old))
	for k, o := range n.owners {
		if o != n.name {
			continue
		}
		if old[k] {
			next[k] = true
		} else {
			gained = append(gained, k)
		}
	}
	n.own.Store(&next)
	n.pending = gained
	return gained
}

// commitOwnership switches on the services recompute found gained.
func (n *Node) commitOwnership() {
	n.mu.Lock()
	defer n.mu.Unlock()
	next := make(map[string]bool)
	for k := range *n.own.Load() {
		next[k] = true
	}
	for _, k := range n.pending {
		if n.owners[k] == n.name {
			next[k] = true
		}
	}
	n.pending = nil
	n.own.Store(&next)
}

// resign revokes the lease on a clean stop, so that the others take over
// at once instead of after the lease's TTL.
func (n *Node) resign() {
	n.mu.Lock()
	lease := n.lease
	n.lease = 0
	n.mu.Unlock()
	if lease == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := n.cli.Revoke(ctx, lease); err != nil {
		n.log.Warn("cluster: could not revoke the lease; the others take over when it expires", "err", err)
	}
}

func (n *Node) setErr(err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.etcdErr = err.Error()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
