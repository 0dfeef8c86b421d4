package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

// Replicate broadcasts an operator command carried out here (server.Cluster).
// The reply to the operator waits for it, so that a command answered 220
// survives this node dying the next moment; while etcd is unreachable it
// gives up after cluster_lease, and the command holds on this node only.
func (n *Node) Replicate(line, user string) {
	n.Broadcast(context.Background(), line, user)
}

// Owner names the node that runs a shard-scope service (server.Cluster).
func (n *Node) Owner(group, service string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	o, ok := n.owners[group+"/"+service]
	return o, ok && o != ""
}

// ForwardTrap sends a trap datagram as received to the node that runs
// its service (server.Cluster).
func (n *Node) ForwardTrap(group, service string, pkt []byte) error {
	n.mu.Lock()
	owner := n.owners[group+"/"+service]
	addr := n.members[owner].Traps
	n.mu.Unlock()
	if owner == "" || addr == "" {
		return fmt.Errorf("no owner with a trap address for %s/%s", group, service)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write(pkt)
	return err
}
