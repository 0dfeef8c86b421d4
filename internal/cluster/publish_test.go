package cluster

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/testnet"
	"github.com/gomon/gomon/scheduler"
)

// testNode is a registered node on a real etcd, with a scheduler that
// does not run (its state is what the node imports).
func testNode(t *testing.T) (*Node, *clientv3.Client, clientv3.LeaseID) {
	t.Helper()
	e := testnet.StartEtcd(t, 1)
	cfg, err := configfile.Parse("mon.cf", []byte("cluster_etcd = "+e.Endpoints()+"\ncluster_node = d1\n\nhostgroup g h1\n\nwatch g\n    service s\n        interval 1m\n        monitor true.monitor\n"), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg.Globals.Cluster, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cli.Close() })
	n.sched = scheduler.New(cfg, scheduler.Options{Stopped: true, Replica: n, Logger: n.log})
	n.configure()
	ctx := context.Background()
	g, err := n.cli.Grant(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.register(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.loadAll(ctx); err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.lease = g.ID
	n.mu.Unlock()
	if !n.Owns("g", "s") {
		t.Fatal("a lone node does not own its service")
	}
	return n, n.cli, g.ID
}

func stateOf(t *testing.T, n *Node) []byte {
	t.Helper()
	b, err := n.sched.ExportState("g", "s")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// When etcd applied a write but its answer was lost, the retry finds the
// commit's own ID in the state and sends the pages once.
func TestWriteRecognisesItsOwnLostWrite(t *testing.T) {
	n, cli, lease := testNode(t)
	key := n.key("state", "g", "s")
	p := pending{Commit: scheduler.Commit{Group: "g", Service: "s", State: stateOf(t, n)}, key: key, lease: lease, id: "x-1"}
	v, _ := json.Marshal(written{Node: n.name, Commit: p.id, State: p.State})
	if _, err := cli.Put(context.Background(), key, string(v)); err != nil { // the attempt whose answer was lost
		t.Fatal(err)
	}
	sent := 0
	p.Send = func() { sent++ }
	if err := n.write(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if sent != 1 {
		t.Errorf("pages sent %d times, want once", sent)
	}
}

// A state key deleted by an operator is written afresh; another node's
// write since the decision withholds the pages.
func TestWriteFence(t *testing.T) {
	n, cli, lease := testNode(t)
	ctx := context.Background()
	key := n.key("state", "g", "s")
	sent := 0
	mk := func(rev int64, id string) pending {
		return pending{Commit: scheduler.Commit{Group: "g", Service: "s", State: stateOf(t, n), Send: func() { sent++ }}, key: key, lease: lease, rev: rev, id: id}
	}
	if err := n.write(ctx, mk(0, "x-1")); err != nil || sent != 1 {
		t.Fatalf("first write: %v, sent %d", err, sent)
	}
	old := n.revs[key]
	if _, err := cli.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := n.write(ctx, mk(old, "x-2")); err != nil || sent != 2 {
		t.Fatalf("write after the key was deleted: %v, sent %d", err, sent)
	}
	// Another node writes; a commit decided before that is fenced off.
	before := n.revs[key]
	v, _ := json.Marshal(written{Node: "d2", Commit: "y-1", State: stateOf(t, n)})
	if _, err := cli.Put(ctx, key, string(v)); err != nil {
		t.Fatal(err)
	}
	if err := n.write(ctx, mk(before, "x-3")); err != nil || sent != 2 {
		t.Fatalf("a commit decided before another node's write: %v, sent %d", err, sent)
	}
	// A commit decided under another lease is void.
	p := mk(n.revs[key], "x-4")
	p.lease = lease + 1
	if err := n.write(ctx, p); err != nil || sent != 2 {
		t.Fatalf("a commit of another lease: %v, sent %d", err, sent)
	}
}

// The queue purges the commits of a lost lease and rebases the ones
// decided on a revision this node's own write replaced.
func TestQueuePurgeAndRebase(t *testing.T) {
	q := newQueue()
	q.push(pending{key: "a", lease: 1, rev: 5})
	q.push(pending{key: "b", lease: 2, rev: 5})
	q.push(pending{key: "a", lease: 2, rev: 5})
	if keys := q.purge(func(p pending) bool { return p.lease != 2 }); len(keys) != 1 || keys[0] != "a" || q.Len() != 2 {
		t.Fatalf("purge: %v, %d left", keys, q.Len())
	}
	q.rebase("a", 5, 9)
	p, _ := q.peek()
	q.pop()
	p2, _ := q.peek()
	if p.rev != 5 || p2.rev != 9 {
		t.Errorf("revisions after rebase: b %d, a %d", p.rev, p2.rev)
	}
}
