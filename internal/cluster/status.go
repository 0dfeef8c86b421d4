package cluster

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is what `list cluster` and /api/cluster show.
type Status struct {
	Node          string         `json:"node"`
	Registered    bool           `json:"registered"` // holds a live lease
	Etcd          []string       `json:"etcd"`
	EtcdError     string         `json:"etcd_error,omitempty"`
	Digest        string         `json:"digest"`
	ClusterDigest string         `json:"cluster_digest"`
	Refusal       string         `json:"refusal,omitempty"` // why this node owns nothing
	Services      int            `json:"services"`          // shard-scope services in the configuration
	Owned         int            `json:"owned"`             // of them, run by this node
	Held          int            `json:"held"`              // commits (with their pages) waiting for etcd
	Members       []MemberStatus `json:"members"`
}

// MemberStatus is one live member.
type MemberStatus struct {
	Member
	Owns     int  `json:"owns"`     // shard services it owns
	Eligible bool `json:"eligible"` // runs the cluster's configuration
}

// Status reports the node's view of the cluster.
func (n *Node) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	members := make([]Member, 0, len(n.members))
	for _, m := range n.members {
		members = append(members, m)
	}
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Node, b.Node) })
	count := map[string]int{}
	for _, o := range n.owners {
		count[o]++
	}
	el := eligible(members)
	st := Status{
		Node: n.name, Registered: n.lease != 0, Etcd: n.cfg.Etcd, EtcdError: n.etcdErr,
		Digest: n.digest, ClusterDigest: clusterDigest(members), Refusal: n.refusal,
		Services: len(n.keys), Owned: len(*n.own.Load()), Held: n.publish.Len(),
	}
	for _, m := range members {
		st.Members = append(st.Members, MemberStatus{Member: m, Owns: count[m.Node], Eligible: slices.Contains(el, m.Node)})
	}
	return st
}

// Lines renders a status as `list cluster` prints it: one "key=value"
// line for this node, then one per member.
func (st Status) Lines() []string {
	health := "ok"
	if !st.Registered {
		health = "unregistered"
	}
	if st.EtcdError != "" && !st.Registered {
		health += " (" + st.EtcdError + ")"
	}
	lines := []string{fmt.Sprintf("node=%s etcd=%s registered=%t digest=%s cluster_digest=%s services=%d owned=%d held=%d health=%q",
		st.Node, strings.Join(st.Etcd, ","), st.Registered, st.Digest, st.ClusterDigest, st.Services, st.Owned, st.Held, health)}
	if st.Refusal != "" {
		lines = append(lines, fmt.Sprintf("refusal=%q", st.Refusal))
	}
	for _, m := range st.Members {
		lines = append(lines, fmt.Sprintf("member=%s digest=%s eligible=%t owns=%d version=%s addr=%s started=%s",
			m.Node, m.Digest, m.Eligible, m.Owns, m.Version, m.Addr, time.Unix(m.Started, 0).UTC().Format(time.RFC3339)))
	}
	return lines
}
