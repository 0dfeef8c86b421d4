package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gomon/gomon/internal/cluster"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/testnet"
)

// clusterPrefix is the benchmark cluster's etcd prefix.
const clusterPrefix = "/gomon/"

// clusterSettings are the cluster benchmark's knobs (see doc.go).
type clusterSettings struct {
	n         int           // shard-scope tcp services
	nodes     int           // gomon processes
	interval  time.Duration // every service's
	lease     time.Duration // cluster_lease
	warmup    time.Duration // after every service has run once, before the window
	window    time.Duration // steady-state measurement
	listeners int           // loopback ports the services share
	gomonBin  string
}

// loadClusterSettings reads the knobs; the defaults are issue 11, item 7.
func loadClusterSettings() (clusterSettings, error) {
	cs := clusterSettings{n: 30000, nodes: 3, interval: 10 * time.Second, lease: 5 * time.Second,
		warmup: 20 * time.Second, window: 30 * time.Second, listeners: 16, gomonBin: os.Getenv("BENCH_GOMON")}
	if err := envCounts(map[string]*int{"BENCH_CLUSTER_N": &cs.n}); err != nil {
		return cs, err
	}
	return cs, envDurations(map[string]*time.Duration{"BENCH_CLUSTER_WARMUP": &cs.warmup, "BENCH_CLUSTER_WINDOW": &cs.window})
}

// TestClusterBench is issue 11, item 7: three gomon nodes on one etcd,
// 30,000 built-in tcp services at interval 10s against loopback
// listeners. It prints one Markdown table for docs/performance.md and
// fails only if the harness breaks or the cluster gets ownership wrong:
// missed goals are reported in the table.
func TestClusterBench(t *testing.T) {
	if os.Getenv("GOMON_BENCH") == "" {
		t.Skip("set GOMON_BENCH=1 (or run `make bench`): takes several minutes")
	}
	cs, err := loadClusterSettings()
	if err != nil {
		t.Fatal(err)
	}
	m := machineInfo()
	r := runCluster(t, cs)
	m.loadEnd = loadAvg()
	fmt.Println()
	fmt.Print(clusterReport(m, cs, r))
}

// TestClusterSmoke is the benchmark's short form for `go test ./...`:
// 3 nodes × 300 services, checked for correctness only (every service
// runs on its owner, shares add up, a killed node's services run again
// on the survivors), never for timing.
func TestClusterSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gomon and starts etcd")
	}
	cs := clusterSettings{n: 300, nodes: 3, interval: time.Second, lease: 2 * time.Second,
		warmup: time.Second, window: 2 * time.Second, listeners: 2}
	r := runCluster(t, cs)
	total := 0
	for _, s := range r.shares {
		total += s.owned
		if s.owned == 0 {
			t.Errorf("%s owns nothing", s.node)
		}
	}
	if total != cs.n {
		t.Errorf("shares add up to %d, want %d", total, cs.n)
	}
	if r.victimOwned == 0 || r.takeover <= 0 {
		t.Errorf("takeover of %d services not measured: %+v", r.victimOwned, r)
	}
	if r.checksPerSec <= 0 {
		t.Error("the listeners saw no checks in the window")
	}
}

// clusterResult is what one cluster run measured.
type clusterResult struct {
	shares       []share
	settle       time.Duration // last node started → shares as computed from etcd
	firstRuns    time.Duration // settled → every service ran on its owner
	published    time.Duration // settled → every first result written to etcd
	startPuts    float64       // etcd puts from the first start to the window
	window       time.Duration
	checksPerSec float64 // tcp connections the listeners accepted
	etcd         map[string]float64
	nodeCPU      map[string]float64 // share of a core over the window
	nodeRSS      map[string]int     // KiB at the window's end
	victim       string
	victimOwned  int
	leaseGone    time.Duration // kill → the victim's member key deleted
	takeover     time.Duration // kill → every victim service run by its new owner (at most)
	takeoverLow  time.Duration // … at least (last_check has whole seconds)
	unowned      stretch       // from the settle to the end
	twice        stretch
}

type share struct {
	node  string
	owned int
}

// stretch is the longest time a condition held without a break, and
// the most services it touched meanwhile.
type stretch struct {
	longest  time.Duration
	services int
}

// etcdCounters are the etcd metrics the window compares: writes (puts,
// deletes, write transactions, raft proposals) and lease keep-alives,
// which are none of those.
var etcdCounters = []string{
	"etcd_mvcc_put_total", "etcd_mvcc_delete_total", "etcd_mvcc_txn_total",
	"etcd_server_proposals_committed_total", "etcd_debugging_lease_renewed_total",
}

// benchNode is one gomon process of the cluster.
type benchNode struct {
	name   string
	w      workDir
	d      *daemon
	status string // /api/cluster URL
	killed atomic.Bool
}

func runCluster(t *testing.T, cs clusterSettings) clusterResult {
	t.Helper()
	bin, err := buildGomon(t.TempDir(), cs.gomonBin)
	if err != nil {
		t.Fatal(err)
	}
	e := testnet.StartEtcd(t, 1)
	metricsURL := e.Members[0].ClientURL + "/metrics"
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.Members[0].ClientURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	var accepted atomic.Int64
	ports := loopbackListeners(t, cs.listeners, &accepted)
	keys := clusterKeys(cs.n)

	start0, err := scrapeCounters(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*benchNode
	for i := range cs.nodes {
		n := &benchNode{name: fmt.Sprintf("d%d", i+1), w: newWorkDir(t, tools{})}
		statusPort := freePort(t)
		n.status = "http://127.0.0.1:" + statusPort + "/api/cluster"
		n.w.writeConfig(t, clusterConfig(cs, e.Endpoints(), n.name, statusPort, ports))
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		n.d = startDaemon(t, bin, n.w)
	}
	started := time.Now()
	var r clusterResult

	// Settled: every node registered and owns exactly what etcd's
	// members give it.
	waitFor(t, "shares settled", 5*time.Minute, func() error {
		members, err := etcdMembers(cli)
		if err != nil {
			return err
		}
		if len(members) != cs.nodes {
			return fmt.Errorf("members %v", members)
		}
		want := expectedShares(members, keys)
		r.shares = nil
		for _, n := range nodes {
			st, err := nodeStatus(n)
			if err != nil {
				return err
			}
			if !st.Registered || st.Owned != want[n.name] {
				return fmt.Errorf("%s registered=%t owns %d, etcd's members give it %d", n.name, st.Registered, st.Owned, want[n.name])
			}
			r.shares = append(r.shares, share{n.name, st.Owned})
		}
		return nil
	})
	settled := time.Now()
	r.settle = settled.Sub(started)
	mon := watchOwnership(cli, nodes, keys)
	defer mon.stop()

	owners := ownership(nodeNames(nodes), keys)
	waitFor(t, "every service ran on its owner", 3*cs.interval+time.Minute, func() error {
		for _, n := range nodes {
			checks, err := lastChecks(n)
			if err != nil {
				return err
			}
			for k, o := range owners {
				if o == n.name && checks[k] == 0 {
					return fmt.Errorf("%s has not run %s", n.name, k)
				}
			}
		}
		return nil
	})
	r.firstRuns = time.Since(settled)
	// Every first result is a transition (untested → ok), published in
	// its own transaction: the window starts once they all are.
	waitFor(t, "the first results published", 10*time.Minute, func() error {
		for _, n := range nodes {
			st, err := nodeStatus(n)
			if err != nil {
				return err
			}
			if st.Held > 0 {
				return fmt.Errorf("%s holds %d commits", n.name, st.Held)
			}
		}
		return nil
	})
	r.published = time.Since(settled)
	// Sleep: the warm-up lets the first results' publications drain.
	time.Sleep(cs.warmup)

	// The steady-state window.
	c0, err := scrapeCounters(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	r.startPuts = c0["etcd_mvcc_put_total"] - start0["etcd_mvcc_put_total"]
	cpu0 := map[string]time.Duration{}
	for _, n := range nodes {
		if cpu0[n.name], err = cpuTime(n.d.pid()); err != nil {
			t.Fatal(err)
		}
	}
	a0, t0 := accepted.Load(), time.Now()
	// Sleep: the window is measured time.
	time.Sleep(cs.window)
	a1, t1 := accepted.Load(), time.Now()
	c1, err := scrapeCounters(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	r.window = t1.Sub(t0)
	r.checksPerSec = float64(a1-a0) / r.window.Seconds()
	r.etcd = map[string]float64{}
	for _, k := range etcdCounters {
		r.etcd[k] = (c1[k] - c0[k]) / r.window.Seconds()
	}
	r.nodeCPU, r.nodeRSS = map[string]float64{}, map[string]int{}
	for _, n := range nodes {
		cpu, err := cpuTime(n.d.pid())
		if err != nil {
			t.Fatal(err)
		}
		r.nodeCPU[n.name] = float64(cpu-cpu0[n.name]) / float64(r.window)
		if r.nodeRSS[n.name], err = rssKiB(n.d.pid()); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("cluster   window=%.1fs checks_per_s=%.0f etcd=%v cpu=%v rss_kib=%v\n", r.window.Seconds(), r.checksPerSec, r.etcd, r.nodeCPU, r.nodeRSS)

	// Takeover: kill -9 the last node; each of its services must run
	// again on the survivor that rendezvous gives it.
	victim := nodes[len(nodes)-1]
	survivors := nodes[:len(nodes)-1]
	newOwners := ownership(nodeNames(survivors), keys)
	pending := map[string]string{} // victim's service → its new owner
	for k, o := range owners {
		if o == victim.name {
			pending[k] = newOwners[k]
		}
	}
	r.victim, r.victimOwned = victim.name, len(pending)
	victim.killed.Store(true)
	killed := time.Now()
	if err := victim.d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.d.done
	// last_check has a resolution of one second: a run in the second of
	// the kill counts, and the survivors never ran these services before.
	// A run's time is known to the second from last_check and to the
	// poll from when it was seen: the takeover lies between the latest
	// last_check (at least the kill) and the earliest of last_check + 1 s
	// and the poll that saw it.
	since := killed.Unix()
	waitFor(t, "the killed node's services ran elsewhere", 3*cs.interval+2*cs.lease+time.Minute, func() error {
		for _, n := range survivors {
			checks, err := lastChecks(n)
			if err != nil {
				return err
			}
			seen := time.Now()
			for k, o := range pending {
				if o == n.name && checks[k] >= since {
					delete(pending, k)
					ran := time.Unix(checks[k], 0).Sub(killed)
					r.takeoverLow = max(r.takeoverLow, ran)
					r.takeover = max(r.takeover, min(ran+time.Second, seen.Sub(killed)))
				}
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("%d services not run again yet", len(pending))
		}
		return nil
	})
	// Sleep: ownership stays watched for one more interval after the
	// takeover, so that a late double owner would show.
	time.Sleep(cs.interval)
	mon.stop()
	r.unowned, r.twice = mon.unowned, mon.twice
	if mon.err != nil {
		t.Fatal(mon.err)
	}
	if !mon.leaseGone.IsZero() {
		r.leaseGone = mon.leaseGone.Sub(killed)
	}
	fmt.Printf("cluster   takeover=%.3f-%.3fs lease_gone=%.3fs unowned=%+v twice=%+v\n", r.takeoverLow.Seconds(), r.takeover.Seconds(), r.leaseGone.Seconds(), r.unowned, r.twice)
	return r
}

// clusterConfig is one node's mon.cf: the same services for every node,
// only the node's name and status port differ. Each watch has 100
// services, all at the same host, spread over the listeners' ports.
func clusterConfig(cs clusterSettings, etcd, node, statusPort string, ports []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "serverbind = 127.0.0.1\ntrapbind = 127.0.0.1\nstatus_listen = 127.0.0.1:%s\n", statusPort)
	fmt.Fprintf(&b, "cluster_etcd = %s\ncluster_node = %s\ncluster_lease = %v\ncluster_prefix = %s\n\n", etcd, node, cs.lease, clusterPrefix)
	for i, k := range clusterKeys(cs.n) {
		group, service, _ := strings.Cut(k, "/")
		if i%100 == 0 {
			// A hostgroup line must be followed by a blank line.
			fmt.Fprintf(&b, "hostgroup %s 127.0.0.1\n\nwatch %s\n", group, group)
		}
		fmt.Fprintf(&b, "    service %s\n        interval %v\n        monitor tcp.monitor -p %s -t 5\n", service, cs.interval, ports[i%len(ports)])
	}
	return b.String()
}

// clusterKeys are the services as "group/service", in configuration order.
func clusterKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("g%04d/s%02d", i/100, i%100)
	}
	return keys
}

// loopbackListeners accepts and closes connections on k loopback ports
// until the test ends, counting them.
func loopbackListeners(t *testing.T, k int, accepted *atomic.Int64) []string {
	t.Helper()
	var ports []string
	for range k {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		ports = append(ports, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue // EMFILE and the like: the check fails, the count shows it
				}
				accepted.Add(1)
				c.Close()
			}
		}()
	}
	return ports
}

// waitFor polls cond every half second until it returns nil.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		}
		// Sleep: the daemons are separate processes; polling is all
		// there is.
		time.Sleep(500 * time.Millisecond)
	}
}

// nodeStatus is a node's GET /api/cluster.
func nodeStatus(n *benchNode) (cluster.Status, error) {
	var st cluster.Status
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(n.status)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("%s: %s", n.status, resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// lastChecks is a node's last_check of every service ("group/service"),
// from its `list opstatus`.
func lastChecks(n *benchNode) (map[string]int64, error) {
	c, err := protocol.Dial("127.0.0.1:"+n.d.port, 30*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	data, final, err := c.Command("list opstatus")
	if err != nil {
		return nil, err
	}
	if !protocol.ReplyOK(final) {
		return nil, fmt.Errorf("%s: list opstatus: %s", n.name, final)
	}
	checks := make(map[string]int64, len(data))
	for _, line := range data {
		var group, service string
		var last int64
		// Values are escaped: a record's fields never contain blanks.
		for f := range strings.FieldsSeq(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "group":
				group = v
			case "service":
				service = v
			case "last_check":
				last, _ = strconv.ParseInt(v, 10, 64) // empty: never checked
			}
		}
		checks[group+"/"+service] = last
	}
	return checks, nil
}

// etcdMembers are the member names registered in etcd, sorted.
func etcdMembers(cli *clientv3.Client) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, clusterPrefix+"members/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	var names []string
	for _, kv := range resp.Kvs {
		names = append(names, strings.TrimPrefix(string(kv.Key), clusterPrefix+"members/"))
	}
	slices.Sort(names)
	return names, nil
}

func nodeNames(nodes []*benchNode) []string {
	var names []string
	for _, n := range nodes {
		names = append(names, n.name)
	}
	slices.Sort(names)
	return names
}

// ownership maps every key to its owner among nodes, with the daemon's
// own hash.
func ownership(nodes, keys []string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = cluster.Owner(nodes, k)
	}
	return m
}

// expectedShares counts what each of nodes owns.
func expectedShares(nodes, keys []string) map[string]int {
	count := map[string]int{}
	for _, o := range ownership(nodes, keys) {
		count[o]++
	}
	return count
}

// scrapeCounters reads etcdCounters from etcd's /metrics.
func scrapeCounters(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if ok && slices.Contains(etcdCounters, name) {
			if out[name], err = strconv.ParseFloat(v, 64); err != nil {
				return nil, fmt.Errorf("%s: %q: %w", url, sc.Text(), err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, name := range etcdCounters {
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("%s has no %s", url, name)
		}
	}
	return out, nil
}

// ownershipWatch samples etcd's members and the live nodes' owned
// counts four times a second. A service counts as unowned while its
// owner by etcd's members is a killed process or a node owns fewer than
// etcd's members give it, and as owned twice while a node owns more.
type ownershipWatch struct {
	unowned, twice stretch
	leaseGone      time.Time // the first sample without a killed member
	err            error
	quit           chan struct{}
	done           chan struct{}
	once           sync.Once
}

func watchOwnership(cli *clientv3.Client, nodes []*benchNode, keys []string) *ownershipWatch {
	w := &ownershipWatch{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var lastMembers []string
		var want map[string]int
		var unownedSince, twiceSince time.Time
		track := func(since *time.Time, s *stretch, n int, now time.Time) {
			switch {
			case n > 0 && since.IsZero():
				*since = now
			case n == 0 && !since.IsZero():
				s.longest = max(s.longest, now.Sub(*since))
				*since = time.Time{}
			}
			if n > 0 {
				s.longest = max(s.longest, now.Sub(*since))
			}
			s.services = max(s.services, n)
		}
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
			members, err := etcdMembers(cli)
			if err != nil {
				w.err = fmt.Errorf("ownership watch: %w", err)
				return
			}
			if !slices.Equal(members, lastMembers) {
				lastMembers, want = members, expectedShares(members, keys)
			}
			unowned, twice, deadMember := 0, 0, false
			for _, n := range nodes {
				if n.killed.Load() {
					unowned += want[n.name]
					deadMember = deadMember || want[n.name] > 0 || slices.Contains(members, n.name)
					continue
				}
				st, err := nodeStatus(n)
				if err != nil {
					w.err = fmt.Errorf("ownership watch: %w", err)
					return
				}
				unowned += max(0, want[n.name]-st.Owned)
				twice += max(0, st.Owned-want[n.name])
			}
			now := time.Now()
			if w.leaseGone.IsZero() && !deadMember && slices.ContainsFunc(nodes, func(n *benchNode) bool { return n.killed.Load() }) {
				w.leaseGone = now
			}
			track(&unownedSince, &w.unowned, unowned, now)
			track(&twiceSince, &w.twice, twice, now)
		}
	}()
	return w
}

// stop ends the watch and waits for it; its fields are final then.
func (w *ownershipWatch) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
}
