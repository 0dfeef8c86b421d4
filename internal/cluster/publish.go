package cluster

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/scheduler"
)

// pending is a commit with what it was decided under: the lease this
// node held and the revision of the state it saw. It may go out under
// both only.
type pending struct {
	scheduler.Commit
	key   string
	lease clientv3.LeaseID
	rev   int64
	id    string
}

// queue is the commits waiting to be written, in order. It never blocks
// the scheduler. While etcd is away it grows for at most a lease: then
// the session ends, and the next registration purges what was made
// under the lost lease.
type queue struct {
	mu    sync.Mutex
	items []pending
	ready chan struct{} // capacity 1
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

func (q *queue) push(p pending) {
	q.mu.Lock()
	q.items = append(q.items, p)
	q.mu.Unlock()
	q.wake()
}

func (q *queue) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) peek() (pending, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return pending{}, false
	}
	return q.items[0], true
}

func (q *queue) pop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[0] = pending{}
	q.items = q.items[1:]
}

// purge removes the commits void tells and returns their keys.
func (q *queue) purge(void func(pending) bool) (keys []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	kept := q.items[:0]
	for _, p := range q.items {
		if void(p) {
			keys = append(keys, p.key)
		} else {
			kept = append(kept, p)
		}
	}
	clear(q.items[len(kept):])
	q.items = kept
	return keys
}

// rebase moves the queued commits of key that were decided on revision
// from onto revision to: this node's own write came in between.
func (q *queue) rebase(key string, from, to int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.items {
		if q.items[i].key == key && q.items[i].rev == from {
			q.items[i].rev = to
		}
	}
}

// Len is how many commits wait.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// publisher writes the queued commits one at a time, in order.
func (n *Node) publisher(ctx context.Context) {
	retry := 100 * time.Millisecond
	away := false // etcd did not answer the last attempt
	for {
		p, ok := n.publish.peek()
		if !ok {
			select {
			case <-n.publish.ready:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := n.write(ctx, p)
		if err == nil {
			if away {
				n.log.Info("cluster: etcd answers again, held pages going out", "held", n.publish.Len())
				away = false
			}
			retry = 100 * time.Millisecond
			n.publish.pop()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		// etcd unreachable: hold the commit (and its pages) and try again
		// with backoff; the lease decides whether it may still go out.
		if !away {
			n.setErr(err)
			n.log.Warn("cluster: etcd unreachable, pages held", "held", n.publish.Len(), "err", err)
			away = true
		}
		select {
		case <-time.After(retry):
		case <-ctx.Done():
			return
		}
		retry = min(2*retry, n.cfg.Lease/2)
	}
}

// write publishes one commit in a transaction fenced by this node's
// lease and by the state's revision: it succeeds only while this node is
// a registered member under the lease the decision was made under, owns
// the service, and no other node wrote the state since the revision the
// decision saw. Then, and only then, the held pages go out. A commit that
// fails the fence is dropped with its pages, and the cluster's state is
// taken back: whoever owns the service decides again on its next result.
// It returns an error only when etcd could not answer.
func (n *Node) write(ctx context.Context, p pending) error {
	n.mu.Lock()
	lease := n.lease
	n.mu.Unlock()
	switch {
	case p.lease == 0 || (lease != 0 && p.lease != lease):
		// Decided while not registered, or under a lease that is gone:
		// the others may have taken over meanwhile.
		n.log.Error("cluster: state not published and pages withheld: decided without the cluster's lease (fencing)",
			"group", p.Group, "service", p.Service, "pages_dropped", p.Send != nil)
		if lease != 0 {
			n.resync(ctx, p.key)
		} else {
			n.markStale(p.key)
		}
		return nil
	case lease == 0:
		return errNotRegistered // the lease may still live: hold it
	case !n.Owns(p.Group, p.Service):
		n.log.Warn("cluster: state not published, the service moved to another node", "group", p.Group, "service", p.Service, "pages_dropped", p.Send != nil)
		return nil
	}
	v, _ := json.Marshal(written{Node: n.name, Commit: p.id, State: p.State})
	for attempt := 0; ; attempt++ {
		tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
		resp, err := n.cli.Txn(tctx).
			If(clientv3.Compare(clientv3.LeaseValue(n.memberKey()), "=", lease),
				clientv3.Compare(clientv3.ModRevision(p.key), "=", p.rev)).
			Then(clientv3.OpPut(p.key, string(v))).
			Else(clientv3.OpGet(p.key), clientv3.OpGet(n.memberKey())).Commit()
		cancel()
		if err != nil {
			return err
		}
		if resp.Succeeded {
			n.written(p, resp.Header.Revision)
			return nil
		}
		state, member := resp.Responses[0].GetResponseRange().Kvs, resp.Responses[1].GetResponseRange().Kvs
		var w written
		if len(state) == 1 && json.Unmarshal(state[0].Value, &w) == nil && w.Commit == p.id {
			// An earlier attempt went through and only etcd's answer was
			// lost: the state is ours, the pages are due.
			n.written(p, state[0].ModRevision)
			return nil
		}
		switch {
		case len(member) == 0 || clientv3.LeaseID(member[0].Lease) != lease:
			n.log.Error("cluster: lease lost, state not published and pages withheld (fencing)", "group", p.Group, "service", p.Service, "pages_dropped", p.Send != nil)
			n.markStale(p.key)
		case len(state) == 0 && attempt == 0:
			// Deleted by an operator since: write it afresh.
			p.rev = 0
			continue
		default:
			n.log.Warn("cluster: another node wrote the state first; taking its state, pages withheld", "group", p.Group, "service", p.Service, "pages_dropped", p.Send != nil)
			n.resync(ctx, p.key)
		}
		return nil
	}
}

// written records a successful write and sends the commit's pages.
func (n *Node) written(p pending, rev int64) {
	n.mu.Lock()
	if n.revs[p.key] < rev {
		n.revs[p.key] = rev
	}
	n.mu.Unlock()
	n.publish.rebase(p.key, p.rev, rev)
	if p.Send != nil {
		p.Send()
	}
}
