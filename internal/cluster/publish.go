package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/scheduler"
)

// written is a state key's value: the scheduler's encoding of the state
// and who wrote it.
type written struct {
	Node  string          `json:"node"`
	State json.RawMessage `json:"state"`
}

// queue is the commits waiting to be written, in order. It never blocks
// the scheduler: while etcd is away it grows, and a commit that is no
// longer ours is dropped when its turn comes.
type queue struct {
	mu    sync.Mutex
	items []pending
	ready chan struct{} // capacity 1
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

// pending is a commit and the lease this node held when it was made:
// it may go out under that lease only.
type pending struct {
	scheduler.Commit
	lease clientv3.LeaseID
}

func (q *queue) push(c pending) {
	q.mu.Lock()
	q.items = append(q.items, c)
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

// Len is how many commits wait.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// publisher writes the queued commits one at a time, in order.
func (n *Node) publisher(ctx context.Context) {
	retry := 100 * time.Millisecond
	for {
		c, ok := n.publish.peek()
		if !ok {
			select {
			case <-n.publish.ready:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := n.write(ctx, c); err != nil {
			// etcd unreachable: hold the commit (and its pages) and try
			// again; the lease decides whether it may still go out.
			if ctx.Err() != nil {
				return
			}
			n.setErr(err)
			n.log.Warn("cluster: etcd unreachable, pages held", "held", n.publish.Len(), "err", err)
			select {
			case <-time.After(retry):
			case <-n.publish.ready:
			case <-ctx.Done():
				return
			}
			retry = min(2*retry, n.cfg.Lease/2)
			continue
		}
		retry = 100 * time.Millisecond
		n.publish.pop()
	}
}

// write publishes one commit in a transaction fenced by this node's
// lease and by the state's revision: it succeeds only while this node is
// a registered member under the lease it holds, owns the service, and no
// other node wrote the state since this node last saw it. Then, and only
// then, the held pages go out. A commit that fails the fence is dropped
// with its pages, and the cluster's state is imported instead: whoever
// owns the service decides again on its next result. It returns an error
// only when etcd could not answer.
func (n *Node) write(ctx context.Context, c pending) error {
	key := n.key("state", c.Group, c.Service)
	n.mu.Lock()
	lease, rev := n.lease, n.revs[key]
	n.mu.Unlock()
	if lease == 0 {
		if c.lease != 0 {
			return errNotRegistered // etcd away: hold it, the lease may live on
		}
		lease = -1 // made while not registered: cannot pass the fence
	}
	if c.lease != lease {
		// Made under a lease that is gone (or none): the others have
		// taken over meanwhile, so this node's decision is void. Take
		// the cluster's state back; the owner decides again.
		n.log.Error("cluster: state not published and pages withheld: made under a lost lease (fencing)", "group", c.Group, "service", c.Service, "pages_dropped", c.Send != nil)
		n.resync(ctx, key)
		return nil
	}
	if !n.Owns(c.Group, c.Service) {
		n.log.Warn("cluster: state not published, the service moved to another node", "group", c.Group, "service", c.Service, "pages_dropped", c.Send != nil)
		return nil
	}
	v, _ := json.Marshal(written{Node: n.name, State: c.State})
	tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Txn(tctx).
		If(clientv3.Compare(clientv3.LeaseValue(n.memberKey()), "=", lease),
			clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
		Then(clientv3.OpPut(key, string(v))).
		Else(clientv3.OpGet(key), clientv3.OpGet(n.memberKey())).Commit()
	if err != nil {
		return err
	}
	if resp.Succeeded {
		n.mu.Lock()
		if n.revs[key] < resp.Header.Revision {
			n.revs[key] = resp.Header.Revision
		}
		n.mu.Unlock()
		if c.Send != nil {
			c.Send()
		}
		return nil
	}
	state, member := resp.Responses[0].GetResponseRange().Kvs, resp.Responses[1].GetResponseRange().Kvs
	if len(member) == 0 || clientv3.LeaseID(member[0].Lease) != lease {
		n.log.Error("cluster: lease lost, state not published and pages withheld (fencing)", "group", c.Group, "service", c.Service, "pages_dropped", c.Send != nil)
		n.resync(ctx, key)
		return nil
	}
	n.log.Warn("cluster: another node wrote the state first; taking its state, pages withheld", "group", c.Group, "service", c.Service, "pages_dropped", c.Send != nil)
	for _, kv := range state {
		n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
	}
	return nil
}

// resync replaces a service's local state by the cluster's after this
// node's own was voided; while etcd cannot be asked, the next
// registration does it.
func (n *Node) resync(ctx context.Context, key string) {
	n.mu.Lock()
	n.revs[key] = 0 // imported again whatever its revision
	n.mu.Unlock()
	tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
	defer cancel()
	resp, err := n.cli.Get(tctx, key)
	if err != nil {
		return
	}
	for _, kv := range resp.Kvs {
		n.put(string(kv.Key), kv.Value, kv.CreateRevision, kv.ModRevision, false)
	}
	if len(resp.Kvs) == 0 {
		// The cluster never heard of the service: it starts afresh.
		group, service, _ := strings.Cut(strings.TrimPrefix(key, n.key("state")+"/"), "/")
		if err := n.sched.Import(group, service, nil, false); err != nil {
			n.log.Error("cluster: cannot reset state", "group", group, "service", service, "err", err)
		}
	}
}
