package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/scheduler"
)

// written is a state key's value: the scheduler's encoding of the state,
// who wrote it, and the commit's ID (to recognise this node's own write
// when etcd's answer to it was lost).
type written struct {
	Node   string          `json:"node"`
	Commit string          `json:"commit,omitempty"`
	State  json.RawMessage `json:"state"`
}

// loadAll reads the members, the disabled hosts and watches and every
// state once and imports them; it returns the revision the watch goes on
// from. States this node already imported are skipped: its copy is that
// state plus the operator commands replayed here since. Stale ones are
// imported whatever their revision, and a stale service the cluster never
// heard of starts afresh.
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
	n.mu.Lock()
	var fresh []string
	for key := range n.stale {
		fresh = append(fresh, key) // put cleared the ones etcd has
	}
	clear(n.stale)
	n.mu.Unlock()
	for _, key := range fresh {
		n.importState(key, nil, false)
	}
	n.recompute()
	n.commitOwnership() // every state is loaded already
	return resp.Header.Revision, nil
}

// event applies one watch event. It reports whether membership changed,
// and whether this node's own member key was deleted.
func (n *Node) event(ev *clientv3.Event) (changed, self bool) {
	key := string(ev.Kv.Key)
	if ev.Type != clientv3.EventTypeDelete {
		return n.put(key, ev.Kv.Value, ev.Kv.CreateRevision, ev.Kv.ModRevision, true), false
	}
	if name, ok := strings.CutPrefix(key, n.key("members")+"/"); ok {
		n.mu.Lock()
		delete(n.members, name)
		n.mu.Unlock()
		n.log.Info("cluster: member left", "member", name)
		return true, name == n.name
	}
	if strings.HasPrefix(key, n.key("state")+"/") {
		// Deleted by an operator (a clean slate): the next write
		// creates it again.
		n.mu.Lock()
		delete(n.revs, key)
		n.mu.Unlock()
	}
	return false, false
}

// put applies one key's value; live is set for watch events (a
// transition as it happens). It reports whether membership changed.
func (n *Node) put(key string, value []byte, created, modified int64, live bool) bool {
	rest, ok := strings.CutPrefix(key, n.cfg.Prefix)
	if !ok {
		return false
	}
	kind, _, _ := strings.Cut(rest, "/")
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
		n.mu.Lock()
		seen, stale := n.revs[key], n.stale[key]
		delete(n.stale, key)
		n.mu.Unlock()
		if !live && !stale && modified <= seen {
			return false // already imported
		}
		var w written
		if err := json.Unmarshal(value, &w); err != nil {
			n.log.Error("cluster: bad state record", "key", key, "err", err)
			return false
		}
		if !(w.Node == n.name && live) { // not our own write coming back
			n.importState(key, w.State, live)
		}
		// The revision moves after the import: a decision taken in
		// between is made on the older state and carries the older
		// revision, so it cannot pass the fence (publish.go).
		n.mu.Lock()
		if modified > n.revs[key] {
			n.revs[key] = modified
		}
		n.mu.Unlock()
	case "disabled":
		var w written
		if err := json.Unmarshal(value, &w); err != nil {
			n.log.Error("cluster: bad disabled record", "key", key, "err", err)
			return false
		}
		if err := n.sched.ImportDisabledHostsAndWatches(w.State); err != nil {
			n.log.Error("cluster: "+err.Error(), "key", key)
		}
	case "ops":
		if !live {
			return false
		}
		var o op
		if err := json.Unmarshal(value, &o); err != nil || o.Node == n.name {
			return false
		}
		// Debug: the replay's own "operator action" record (client=cluster)
		// is the one at info.
		n.log.Debug("cluster: replaying operator command", "from", o.Node, "user", o.User, "command", o.Line)
		if n.opts.Replay != nil {
			n.opts.Replay(o.Line, o.User)
		}
	}
	return false
}

// importState hands a state key's value (nil: none, start afresh) to the
// scheduler.
func (n *Node) importState(key string, state []byte, live bool) {
	group, service, ok := strings.Cut(strings.TrimPrefix(key, n.key("state")+"/"), "/")
	if !ok {
		return
	}
	err := n.sched.Import(group, service, state, live)
	if err != nil && !errors.Is(err, scheduler.ErrUnknownGroup) && !errors.Is(err, scheduler.ErrUnknownService) {
		n.log.Error("cluster: cannot import state", "group", group, "service", service, "err", err)
	}
}

// markStale voids this node's copy of a service's state: the next load
// imports the cluster's whatever its revision.
func (n *Node) markStale(key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stale[key] = true
}

// resync takes the cluster's state of a service back now (or, when etcd
// cannot be asked, at the next registration).
func (n *Node) resync(ctx context.Context, key string) {
	n.markStale(key)
	tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Get(tctx, key)
	if err != nil {
		n.log.Warn("cluster: cannot read the cluster's state now; at the next registration", "key", key, "err", err)
		return
	}
	for _, kv := range resp.Kvs {
		n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
	}
	if len(resp.Kvs) == 0 {
		n.mu.Lock()
		delete(n.stale, key)
		n.mu.Unlock()
		n.importState(key, nil, false) // the cluster never heard of it
	}
}
