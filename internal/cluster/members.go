package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// register puts this node's member key under the lease.
func (n *Node) register(ctx context.Context, lease clientv3.LeaseID) error {
	n.mu.Lock()
	m := Member{Node: n.name, Digest: n.digest, Version: n.opts.Version, Addr: n.opts.Addr, Traps: n.opts.Traps,
		Started: n.started.Unix(), Instance: n.instance}
	n.mu.Unlock()
	v, _ := json.Marshal(m)
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
		// This process under an earlier lease that etcd still keeps (a
		// session ended without the lease, or etcd restarted and renewed
		// it). Move the key to the new lease first, so that the others
		// never see this node leave, then end the old lease.
		if _, err := n.cli.Put(tctx, key, string(v), clientv3.WithLease(lease)); err != nil {
			return fmt.Errorf("register: %w", err)
		}
		n.cli.Revoke(tctx, clientv3.LeaseID(kv[0].Lease))
		return nil
	default:
		// Another process with this name: refuse instead of stealing
		// its identity.
		return fmt.Errorf("another node is registered as %q: give each node its own cluster_node", n.name)
	}
	_, err = n.cli.Put(tctx, key, string(v), clientv3.WithLease(lease))
	return err
}

// reown recomputes ownership after a membership or configuration change.
// Services this node gains are switched on only once their states are
// loaded (on failure, the next retry tick tries again), and run at once
// when their last run is an interval old.
func (n *Node) reown(ctx context.Context) {
	gained := n.recompute()
	if len(gained) == 0 {
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 4*n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Get(tctx, n.key("state")+"/", clientv3.WithPrefix())
	if err != nil {
		n.log.Error("cluster: cannot load the states of gained services; retrying", "services", len(gained), "err", err)
		return
	}
	want := map[string]bool{}
	for _, k := range gained {
		want[n.key("state", k)] = true
	}
	for _, kv := range resp.Kvs {
		if want[string(kv.Key)] {
			n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
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
// off what this node lost at once and returns what it gains (including
// gains still waiting from an earlier call), which commitOwnership
// switches on once their states are loaded.
func (n *Node) recompute() (gained []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	members := make([]Member, 0, len(n.members))
	for _, m := range n.members {
		members = append(members, m)
	}
	nodes := eligible(members)
	refusal := ""
	if _, in := n.members[n.name]; in && !slices.Contains(nodes, n.name) {
		refusal = fmt.Sprintf("configuration digest %s differs from the cluster's %s: this node owns nothing until its configuration matches", n.digest, clusterDigest(members))
	}
	if refusal != n.refusal && refusal != "" {
		n.log.Error("cluster: " + refusal)
	} else if refusal != n.refusal {
		n.log.Info("cluster: configuration matches the cluster's again", "digest", n.digest)
	}
	n.refusal = refusal
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
