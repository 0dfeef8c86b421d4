package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gomon/gomon/internal/configfile"
)

// Rendezvous hashing spreads services evenly, and a node that leaves
// moves only its own services (to the others, evenly).
func TestOwnerBalanceAndMinimalMovement(t *testing.T) {
	nodes := []string{"d1", "d2", "d3"}
	var keys []string
	for i := range 30000 {
		keys = append(keys, fmt.Sprintf("w%d/s%d", i/10, i%10))
	}
	before := ownership(nodes, keys)
	count := map[string]int{}
	for _, o := range before {
		count[o]++
	}
	for _, n := range nodes {
		if c := count[n]; c < 9500 || c > 10500 {
			t.Errorf("%s owns %d of 30000, want within 5%% of a third", n, c)
		}
	}
	after := ownership([]string{"d1", "d2"}, keys)
	moved := map[string]int{}
	for _, k := range keys {
		if before[k] != after[k] {
			if before[k] != "d3" {
				t.Fatalf("%s moved from %s, which did not leave", k, before[k])
			}
			moved[after[k]]++
		}
	}
	if moved["d1"]+moved["d2"] != count["d3"] || moved["d1"] < count["d3"]*4/10 || moved["d2"] < count["d3"]*4/10 {
		t.Errorf("d3's %d services went %v", count["d3"], moved)
	}
}

// The cluster's configuration is the most common digest; a tie goes to
// the oldest member. Only members with it may own services.
func TestClusterDigest(t *testing.T) {
	for _, tc := range []struct {
		members []Member
		want    string
		owners  string
	}{
		{[]Member{{Node: "a", Digest: "x", Rev: 5}, {Node: "b", Digest: "y", Rev: 3}, {Node: "c", Digest: "x", Rev: 9}}, "x", "a c"},
		{[]Member{{Node: "a", Digest: "x", Rev: 5}, {Node: "b", Digest: "y", Rev: 3}}, "y", "b"},
		{[]Member{{Node: "a", Digest: "x", Rev: 2}, {Node: "b", Digest: "y", Rev: 3}}, "x", "a"},
		{nil, "", ""},
	} {
		if got := clusterDigest(tc.members); got != tc.want {
			t.Errorf("clusterDigest(%v) = %q, want %q", tc.members, got, tc.want)
		}
		if got := strings.Join(eligible(tc.members), " "); got != tc.owners {
			t.Errorf("eligible(%v) = %q, want %q", tc.members, got, tc.owners)
		}
	}
}

const digestCF = `cluster_etcd = http://10.0.0.1:2379
cluster_node = NODE
statedir = /var/lib/NODE
serverport = PORT

hostgroup g h1

watch g
    service s
        interval 10s
        monitor tcp.monitor -p 80
`

// The digest leaves out what is a node's own (its name, paths, ports,
// etcd endpoints) and sees every change of the monitoring itself.
func TestDigest(t *testing.T) {
	digest := func(node, port, endpoint, interval string) string {
		t.Helper()
		src := strings.NewReplacer("NODE", node, "PORT", port, "http://10.0.0.1:2379", endpoint, "10s", interval).Replace(digestCF)
		c, err := configfile.Parse("mon.cf", []byte(src), configfile.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return Digest(c)
	}
	base := digest("d1", "2583", "http://10.0.0.1:2379", "10s")
	if d := digest("d2", "2584", "http://127.0.0.1:2379", "10s"); d != base {
		t.Errorf("node-local settings change the digest: %s vs %s", d, base)
	}
	if d := digest("d1", "2583", "http://10.0.0.1:2379", "20s"); d == base {
		t.Error("a changed interval keeps the digest")
	}
	c, err := configfile.Parse("mon.cf", []byte("cluster_lease = 9s\n"+strings.NewReplacer("NODE", "d1", "PORT", "2583").Replace(digestCF)), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if Digest(c) == base {
		t.Error("a changed cluster_lease keeps the digest")
	}
}

// list cluster's lines carry every member and a refusal.
func TestStatusLines(t *testing.T) {
	st := Status{Node: "d1", Registered: true, Etcd: []string{"http://e:2379"}, Digest: "x", ClusterDigest: "y",
		Refusal: "configuration digest x differs", Services: 3, Owned: 0,
		Members: []MemberStatus{{Member: Member{Node: "d1", Digest: "x", Started: 0}}, {Member: Member{Node: "d2", Digest: "y"}, Owns: 3, Eligible: true}}}
	got := strings.Join(st.Lines(), "\n")
	for _, want := range []string{
		`node=d1 etcd=http://e:2379 registered=true digest=x cluster_digest=y services=3 owned=0 held=0 health="ok"`,
		`refusal="configuration digest x differs"`,
		"member=d1 digest=x eligible=false owns=0",
		"member=d2 digest=y eligible=true owns=3",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lines lack %q:\n%s", want, got)
		}
	}
}
