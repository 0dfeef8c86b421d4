package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
)

var errNotRegistered = errors.New("not registered in the cluster (etcd unreachable)")

// op is an operator command given to one node, for the others to replay.
type op struct {
	Node string `json:"node"`
	User string `json:"user,omitempty"`
	Line string `json:"line"`
}

// Broadcast hands an operator command this node carried out to every
// other node, which replays it. The key lives under this node's lease
// and is deleted once put: the others see it in their watch.
func (n *Node) Broadcast(ctx context.Context, line, user string) error {
	n.mu.Lock()
	lease := n.lease
	n.opSeq++
	key := n.key("ops", n.name, strconv.FormatUint(n.opSeq, 10))
	n.mu.Unlock()
	if lease == 0 {
		n.log.Error("cluster: operator command not replayed on the other nodes", "command", line, "err", errNotRegistered)
		return errNotRegistered
	}
	v, _ := json.Marshal(op{Node: n.name, User: user, Line: line})
	tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
	defer cancel()
	if _, err := n.cli.Put(tctx, key, string(v), clientv3.WithLease(lease)); err != nil {
		n.log.Error("cluster: operator command not replayed on the other nodes", "command", line, "err", err)
		return err
	}
	_, err := n.cli.Delete(tctx, key)
	return err
}

// StatusLines are the data lines of `list cluster` (server.Cluster).
func (n *Node) StatusLines() []string { return n.Status().Lines() }

// Replicate queues an operator command for Broadcast, in order; it never
// blocks the server (server.Cluster).
func (n *Node) Replicate(line, user string) {
	select {
	case n.ops <- op{Node: n.name, User: user, Line: line}:
	default:
		n.log.Error("cluster: too many operator commands queued; not replayed on the other nodes", "command", line)
	}
}

// broadcaster sends the queued operator commands.
func (n *Node) broadcaster(ctx context.Context) {
	for {
		select {
		case o := <-n.ops:
			n.Broadcast(ctx, o.Line, o.User)
		case <-ctx.Done():
			return
		}
	}
}
