package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/gomon/gomon/internal/config"
	"github.com/gomon/gomon/internal/configfile"
)

// Member is one live node as it registered under its lease.
type Member struct {
	Node    string `json:"node"`
	Digest  string `json:"digest"`              // of its configuration (Digest)
	Version string `json:"version"`             // gomon's
	Addr    string `json:"addr,omitempty"`      // its protocol address
	Traps   string `json:"trap_addr,omitempty"` // its trap address, for forwarded traps
	// Instance tells this process from a later one with the same name
	// (a restart before the old lease expired).
	Instance string `json:"instance"`
	Started  int64  `json:"started"` // unix seconds
	// Rev is the etcd revision that created the member key: the oldest
	// member breaks a tie between digests.
	Rev int64 `json:"-"`
}

// Digest is the fingerprint of a configuration that every node of a
// cluster must share: its hostgroups, watches, services, periods, alerts,
// views and aliases, and the globals that change decisions. Settings that
// are a node's own by nature (paths, ports, binds, the node's name, TLS
// files, the etcd endpoints each node reaches) are left out.
func Digest(cfg *config.Config) string {
	c := *cfg
	g := configfile.Defaults()
	g.ExcludePeriod, g.DepRecurLimit = cfg.Globals.ExcludePeriod, cfg.Globals.DepRecurLimit
	g.MonitorTimeout, g.AlertRetries = cfg.Globals.MonitorTimeout, cfg.Globals.AlertRetries
	g.StartupAlertsOnReset = cfg.Globals.StartupAlertsOnReset
	c.Globals = g
	var b bytes.Buffer
	if err := configfile.WriteHCL(&b, &c); err != nil {
		// Not UTF-8 (HCL cannot write it): the error names the value,
		// which still tells such configurations apart.
		b.WriteString(err.Error())
	}
	// The lease and the prefix are the cluster's, not a node's.
	fmt.Fprintf(&b, "\ncluster_lease=%v\ncluster_prefix=%s\n", cfg.Globals.Cluster.Lease, cfg.Globals.Cluster.Prefix)
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:8])
}

// clusterDigest is the configuration the cluster runs: the digest most
// live members have; a tie goes to the oldest member's.
func clusterDigest(members []Member) string {
	count := map[string]int{}
	for _, m := range members {
		count[m.Digest]++
	}
	best, bestRev := "", int64(0)
	for _, m := range members {
		if best == "" || count[m.Digest] > count[best] || (count[m.Digest] == count[best] && m.Rev < bestRev) {
			best, bestRev = m.Digest, m.Rev
		}
	}
	return best
}

// eligible are the members that may own services: those running the
// cluster's configuration, sorted by name.
func eligible(members []Member) []string {
	d := clusterDigest(members)
	var names []string
	for _, m := range members {
		if m.Digest == d {
			names = append(names, m.Node)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Owner picks the owner of key ("group/service") among nodes by
// rendezvous (highest random weight) hashing: every node computes the
// same answer from the same member list, and a node that joins or leaves
// moves only its own share. It is exported so that tools outside the
// daemon (the cluster benchmark) check ownership with the same hash.
func Owner(nodes []string, key string) string {
	var best string
	var bestW uint64
	for _, n := range nodes {
		if w := weight(n, key); best == "" || w > bestW {
			best, bestW = n, w
		}
	}
	return best
}

// weight hashes a (node, key) pair: FNV-1a, then a 64-bit finalizer so
// that similar names spread evenly.
func weight(node, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// shardKeys lists the shard-scope services of cfg as "group/service".
func shardKeys(cfg *config.Config) []string {
	var keys []string
	for _, w := range cfg.Watches {
		for _, s := range w.Services {
			if s.ClusterScope == config.ScopeShard {
				keys = append(keys, w.Name+"/"+s.Name)
			}
		}
	}
	return keys
}

// ownership maps every shard key to its owner among nodes.
func ownership(nodes, keys []string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = Owner(nodes, k)
	}
	return m
}
