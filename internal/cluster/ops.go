package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/internal/protocol"
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

// Replicate broadcasts an operator command carried out here
// (server.Cluster). The reply to the operator waits for it, so that a
// command answered 220 survives this node dying the next moment; while
// etcd is unreachable it gives up after cluster_lease, and the command
// holds on this node only (the error says so). A change of disabled
// hosts or watches is also kept in etcd, for nodes that join later.
func (n *Node) Replicate(line, user string) error {
	ctx := context.Background()
	if err := n.Broadcast(ctx, line, user); err != nil {
		return err
	}
	if f := strings.Fields(line); len(f) >= 2 && (f[0] == "disable" || f[0] == "enable") && (f[1] == "host" || f[1] == "watch") {
		v, _ := json.Marshal(written{Node: n.name, State: n.sched.DisabledHostsAndWatches()})
		tctx, cancel := context.WithTimeout(ctx, n.cfg.Lease)
		defer cancel()
		if _, err := n.cli.Put(tctx, n.key("disabled"), string(v)); err != nil {
			return fmt.Errorf("disabled hosts and watches not kept in etcd: %w", err)
		}
	}
	return nil
}

// Owner names the node that runs a shard-scope service (server.Cluster).
func (n *Node) Owner(group, service string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	o, ok := n.owners[group+"/"+service]
	return o, ok && o != ""
}

// ForwardTrap sends a trap datagram as received, marked as forwarded by
// this node, to the node that runs its service (server.Cluster).
func (n *Node) ForwardTrap(group, service string, pkt []byte) error {
	n.mu.Lock()
	owner := n.owners[group+"/"+service]
	addr := n.members[owner].Traps
	n.mu.Unlock()
	switch {
	case owner == "" || addr == "":
		return fmt.Errorf("no owner with a trap address for %s/%s", group, service)
	case owner == n.name:
		return fmt.Errorf("this node takes %s/%s over and is loading its state", group, service)
	case addr == n.opts.Traps:
		return fmt.Errorf("the owner %s publishes this node's own trap address %s: set cluster_advertise (and trapbind) to an address the other nodes reach", owner, addr)
	}
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write(append(slices.Clip(pkt), "fwd='"+protocol.Escape(n.name)+"'\n"...))
	return err
}
