package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/internal/testnet"
)

// The cluster tests (issue 11) run a director pair: two gomon processes
// of the real binary on one real etcd started by the test, each keeping
// its own (stand-in) IPVS table, watching two real HTTP servers on
// 127.0.0.2 and 127.0.0.3 and mailing one SMTP sink. Each node reaches
// etcd through a TCP proxy the test can cut.

// clusterLease is the nodes' cluster_lease: etcd's floor, to keep the
// tests short.
const clusterLease = 2 * time.Second

type clusterRig struct {
	t      *testing.T
	dir    string
	gomon  string
	fake   string
	etcd   *testnet.Etcd
	a, b   *backend
	runs   *monitorRuns
	sink   *smtpSink
	vip    netip.AddrPort
	nodes  map[string]*clusterNode
	starts int
	// alertevery is the mail period's: 1h (one page per outage) unless
	// a test needs the page to come round again.
	alertevery string
}

type clusterNode struct {
	name  string
	dir   string
	port  int
	web   int              // status_listen port
	proxy []*testnet.Proxy // one per etcd member
	table *fakeTable
	proc  *gomonProc
}

func newClusterRig(t *testing.T, etcdMembers int) *clusterRig {
	if testing.Short() {
		t.Skip("runs etcd and two gomon daemons")
	}
	r := &clusterRig{t: t, dir: t.TempDir(), nodes: map[string]*clusterNode{}, alertevery: "1h"}
	r.etcd = testnet.StartEtcd(t, etcdMembers)
	r.gomon = goBuild(t, r.dir, "mon", "../cmd/mon")
	r.fake = goBuild(t, r.dir, "ipvsadm", "./testdata/fakeipvsadm")
	r.runs = &monitorRuns{}
	r.a, r.b = startBackends(t, r.runs)
	r.sink = startSMTPSink(t, r.runs, r.a, r.b)
	r.vip = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.10"), r.a.addr.Port())
	writeFile(t, filepath.Join(r.dir, "auth.cf"), "command section\nlist: all\nack: all\ndisable: all\nenable: all\nsavestate: all\n\ntrap section\n127.0.0.1 * *\n")
	return r
}

// node prepares a director: its directory, its own stand-in ipvsadm
// (which keeps its table beside itself; the daemon runs in the node's
// directory, so ./ipvsadm is each node's own with the same text in every
// configuration) and its proxies to etcd.
func (r *clusterRig) node(name string) *clusterNode {
	t := r.t
	n := &clusterNode{name: name, dir: filepath.Join(r.dir, name), port: testnet.Port(t), web: testnet.Port(t)}
	for _, d := range []string{"state", "log"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake, err := os.ReadFile(r.fake)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(n.dir, "ipvsadm"), fake, 0o755); err != nil {
		t.Fatal(err)
	}
	n.table = &fakeTable{path: filepath.Join(n.dir, "table"), vs: ipvs.VirtualService{Protocol: ipvs.TCP, Addr: r.vip}, weight: 1}
	var urls []string
	for _, m := range r.etcd.Members {
		p := testnet.StartProxy(t, strings.TrimPrefix(m.ClientURL, "http://"))
		n.proxy = append(n.proxy, p)
		urls = append(urls, "http://"+p.Addr)
	}
	lvs := fmt.Sprintf("local lvs.alert -P tcp -V %s -F dr -W 1 --backend ipvsadm --ipvsadm ./ipvsadm", r.vip)
	mail := fmt.Sprintf("mail.alert --smtp %s ops@example.com", r.sink.addr)
	writeFile(t, filepath.Join(n.dir, "mon.cf"), `statedir = `+n.dir+`/state
logdir = `+n.dir+`/log
status_listen = 127.0.0.1:`+strconv.Itoa(n.web)+`
cluster_etcd = `+strings.Join(urls, ",")+`
cluster_node = `+name+`
cluster_lease = `+clusterLease.String()+`

hostgroup web 127.0.0.2 127.0.0.3

watch web
    service http
        interval 1s
        monitor http.monitor -p `+strconv.Itoa(int(r.a.addr.Port()))+` -t 2
        period lvs: wd {Sun-Sat}
            alert `+lvs+`
            upalert `+lvs+`
        period mail: wd {Sun-Sat}
            alertevery `+r.alertevery+`
            alert `+mail+`
            upalert `+mail+`
    service heartbeat
        description fed by traps
        period wd {Sun-Sat}
            alert `+mail+`
            upalert `+mail+`
`)
	r.nodes[name] = n
	return n
}

// start runs a node's daemon.
func (r *clusterRig) start(n *clusterNode) {
	r.starts++
	n.proc = startGomon(r.t, n.dir, r.starts, r.gomon, "-c", filepath.Join(n.dir, "mon.cf"),
		"-A", filepath.Join(r.dir, "auth.cf"), "-p", strconv.Itoa(n.port), "-t", strconv.Itoa(n.port))
}

// kill ends a node's daemon with SIGKILL: no lease revoked, nothing saved.
func (r *clusterRig) kill(n *clusterNode) {
	n.proc.cmd.Process.Signal(syscall.SIGKILL)
	<-n.proc.done
}

// command sends one protocol command to a node and returns its data
// lines and final line.
func (r *clusterRig) command(n *clusterNode, cmd string) ([]string, string) {
	r.t.Helper()
	return protoCommand(n.port, cmd)
}

// protoCommand sends one request to a daemon on a loopback port and
// returns its data lines and final line (the error text when it cannot
// connect).
func protoCommand(port int, cmd string) ([]string, string) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return nil, err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "%s\nquit\n", cmd)
	var lines []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		l := sc.Text()
		if len(l) > 3 && (l[0] == '2' || l[0] == '5') && l[3] == ' ' {
			return lines, l
		}
		lines = append(lines, l)
	}
	return lines, "no reply"
}

// cluster returns a node's `list cluster` as this node and members
// (member name → owns), or nil while it does not answer.
func (r *clusterRig) cluster(n *clusterNode) (self map[string]string, owns map[string]int) {
	lines, final := r.command(n, "list cluster")
	if !strings.HasPrefix(final, "220") {
		return nil, nil
	}
	self, owns = map[string]string{}, map[string]int{}
	for _, l := range lines {
		kv := fields(l)
		if m, ok := kv["member"]; ok {
			owns[m], _ = strconv.Atoi(kv["owns"])
		} else if _, ok := kv["node"]; ok {
			self = kv
		} else if why, ok := kv["refusal"]; ok {
			self["refusal"] = why
		}
	}
	return self, owns
}

// fields splits "k=v k=v" (values without blanks, or quoted).
func fields(line string) map[string]string {
	m := map[string]string{}
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			break
		}
		var v string
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				end = len(rest) - 1
			}
			v, line = rest[1:end+1], rest[min(end+2, len(rest)):]
		} else {
			v, line, _ = strings.Cut(rest, " ")
		}
		m[k] = v
	}
	return m
}

// waitMembers waits until every given node sees exactly the members and
// names the same owner of web/http; it returns the owner.
func (r *clusterRig) waitMembers(timeout time.Duration, nodes ...*clusterNode) *clusterNode {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		owners := map[string]bool{}
		agree := true
		for _, n := range nodes {
			self, owns := r.cluster(n)
			if self == nil || self["registered"] != "true" || len(owns) != len(nodes) {
				agree = false
				break
			}
			lines, _ := r.command(n, "list cluster web http")
			if len(lines) == 1 {
				owners[fields(lines[0])["owner"]] = true
			}
		}
		if agree && len(owners) == 1 {
			for name := range owners {
				if o := r.nodes[name]; o != nil {
					return o
				}
			}
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the nodes did not agree on %d members and an owner within %v", len(nodes), timeout)
		}
		time.Sleep(100 * time.Millisecond) // polling daemons over their protocol
	}
}

// opstatus returns a node's `list opstatus` fields for web/http.
func (r *clusterRig) opstatus(n *clusterNode) map[string]string { return r.opstatusOf(n, "http") }

// opstatusOf returns a node's `list opstatus` fields for a web service.
func (r *clusterRig) opstatusOf(n *clusterNode, service string) map[string]string {
	lines, _ := r.command(n, "list opstatus")
	for _, l := range lines {
		if kv := fields(l); kv["group"] == "web" && kv["service"] == service {
			return kv
		}
	}
	return nil
}

// waitRun waits until node n has run the monitor after t0, and returns
// when (last_check has one-second resolution).
func (r *clusterRig) waitRun(n *clusterNode, after time.Time, timeout time.Duration) time.Time {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if kv := r.opstatus(n); kv != nil {
			if lc, _ := strconv.ParseInt(kv["last_check"], 10, 64); lc > after.Unix() {
				return time.Now()
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a daemon over its protocol
	}
	r.t.Fatalf("%s did not run the monitor within %v", n.name, timeout)
	return time.Time{}
}

// pair starts the two directors d1 and d2 and returns them and the owner
// of web/http once they agree.
func (r *clusterRig) pair() (d1, d2, owner *clusterNode) {
	r.t.Helper()
	d1, d2 = r.node("d1"), r.node("d2")
	r.start(d1)
	r.start(d2)
	return d1, d2, r.waitMembers(15*time.Second, d1, d2)
}

func (r *clusterRig) other(n *clusterNode) *clusterNode {
	for _, m := range r.nodes {
		if m != n {
			return m
		}
	}
	return nil
}

// (a) and (e): the owner is killed with SIGKILL in the middle of an
// outage that was paged and acknowledged on it. The other director takes
// over within lease + one interval, honours the ack (no page when
// alertevery comes round), and announces the recovery once; both IPVS
// tables follow the health throughout, and the killed one is converged
// when it comes back.
func TestClusterDirectorPairFailover(t *testing.T) {
	r := newClusterRig(t, 1)
	r.alertevery = "5s"
	d1, d2, owner := r.pair()
	other := r.other(owner)
	both := []netip.AddrPort{r.a.addr, r.b.addr}
	owner.table.waitFor(t, 5*time.Second, both...)
	other.table.waitFor(t, 5*time.Second, both...)

	// Outage: both tables lose A, one mail.
	r.a.stop()
	owner.table.waitFor(t, 5*time.Second, r.b.addr)
	other.table.waitFor(t, 5*time.Second, r.b.addr)
	mails := []string{"ALERT web/http: 127.0.0.2"}
	r.sink.expect(t, 3*time.Second, mails...)
	// The real moncmd, asking the node that does not run the service,
	// sees the failure: any node answers for the whole cluster.
	if moncmd, err := exec.LookPath("moncmd"); err == nil {
		out, err := exec.Command(moncmd, "-s", "127.0.0.1", "-p", strconv.Itoa(other.port), "list", "opstatus").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "group=web service=http opstatus=0 ") {
			t.Errorf("moncmd list opstatus on the non-owner: %v\n%s", err, out)
		}
	}
	if _, final := r.command(owner, "ack web http kernel upgrade on www1"); !strings.HasPrefix(final, "220") {
		t.Fatalf("ack: %s", final)
	}

	// The owner dies.
	r.kill(owner)
	killed := time.Now()
	took := r.waitRun(other, killed, 2*clusterLease+5*time.Second)
	t.Logf("takeover: %v after SIGKILL (goal: lease %v + interval 1s)", took.Sub(killed).Round(time.Millisecond), clusterLease)
	if d := took.Sub(killed); d > clusterLease+time.Second+time.Second {
		t.Errorf("the survivor ran the service %v after the kill, want within lease + interval (+1 s of last_check resolution)", d)
	}
	if kv := r.opstatus(other); kv["ack"] == "0" || kv["ack"] == "" || !strings.Contains(kv["ackcomment"], "kernel") {
		t.Errorf("the ack given on the dead owner is not honoured by the survivor: ack=%q ackcomment=%q", kv["ack"], kv["ackcomment"])
	}
	other.table.check(t, r.b.addr)
	// alertevery 5s comes round during this wait: an ack holds the page.
	time.Sleep(6 * time.Second) // alertevery is a span of wall-clock time
	r.sink.expect(t, 0, mails...)

	// Recovery on the survivor: one upalert, its table converges; the
	// killed director converges when it comes back.
	r.a.start(t)
	other.table.waitFor(t, 5*time.Second, both...)
	mails = append(mails, "UPALERT web/http: 127.0.0.2")
	r.sink.expect(t, 3*time.Second, mails...)
	owner.table.check(t, r.b.addr) // frozen while it is down
	r.start(owner)
	owner.table.waitFor(t, 10*time.Second, both...)
	r.waitMembers(15*time.Second, d1, d2)
	r.sink.expect(t, 0, mails...)
}

// (b): the owner is cut off from etcd during an outage. It stops paging
// (its lease is gone), the other node takes over without paging again,
// the recovery is paged once although both saw it, and the cut-off node
// rejoins cleanly.
func TestClusterNodeCutOffFromEtcd(t *testing.T) {
	r := newClusterRig(t, 1)
	d1, d2, owner := r.pair()
	other := r.other(owner)
	r.a.stop()
	mails := []string{"ALERT web/http: 127.0.0.2"}
	r.sink.expect(t, 5*time.Second, mails...)

	for _, p := range owner.proxy {
		p.Cut()
	}
	cut := time.Now()
	r.waitRun(other, cut, 2*clusterLease+5*time.Second)
	// Both run the service now; neither pages again (the other imported
	// "already paged"; the cut-off one holds its pages).
	r.a.start(t)
	mails = append(mails, "UPALERT web/http: 127.0.0.2")
	r.sink.expect(t, 5*time.Second, mails...)
	if self, _ := r.cluster(owner); self["registered"] != "false" {
		t.Errorf("the cut-off node says registered=%s", self["registered"])
	}

	for _, p := range owner.proxy {
		p.Restore()
	}
	r.waitMembers(15*time.Second, d1, d2)
	r.sink.expect(t, 0, mails...)
	both := []netip.AddrPort{r.a.addr, r.b.addr}
	owner.table.waitFor(t, 5*time.Second, both...)
	other.table.waitFor(t, 5*time.Second, both...)
}

// (c): three etcd members, one killed: gomon goes on unaffected: no
// re-registration, the outage paged once, the tables converged. A third
// gomon started under a name already taken is refused and owns nothing.
func TestClusterEtcdMemberDown(t *testing.T) {
	r := newClusterRig(t, 3)
	d1, d2, owner := r.pair()
	other := r.other(owner)
	r.etcd.Kill(r.etcd.Members[0])
	r.a.stop()
	r.sink.expect(t, 10*time.Second, "ALERT web/http: 127.0.0.2")
	owner.table.waitFor(t, 5*time.Second, r.b.addr)
	other.table.waitFor(t, 5*time.Second, r.b.addr)
	for _, n := range []*clusterNode{d1, d2} {
		if self, owns := r.cluster(n); self["registered"] != "true" || len(owns) != 2 {
			t.Errorf("%s after an etcd member died: %v %v", n.name, self, owns)
		}
		b, _ := os.ReadFile(filepath.Join(n.dir, fmt.Sprintf("gomon-%d.log", map[string]int{"d1": 1, "d2": 2}[n.name])))
		if strings.Contains(string(b), "lost etcd session") {
			t.Errorf("%s lost its session when one etcd member of three died", n.name)
		}
	}

	// A node started with a name that is taken.
	twin := r.node("twin")
	os.WriteFile(filepath.Join(twin.dir, "mon.cf"), []byte(strings.ReplaceAll(readFile(t, filepath.Join(twin.dir, "mon.cf")), "cluster_node = twin", "cluster_node = "+owner.name)), 0o644)
	r.start(twin)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if self, _ := r.cluster(twin); self != nil && self["registered"] == "false" && strings.Contains(self["health"], "another node is registered as") {
			break
		}
		if time.Now().After(deadline) {
			self, _ := r.cluster(twin)
			t.Fatalf("a node with a taken name was not refused: %v", self)
		}
		time.Sleep(100 * time.Millisecond) // polling a daemon over its protocol
	}
	r.a.start(t)
	r.sink.expect(t, 10*time.Second, "ALERT web/http: 127.0.0.2", "UPALERT web/http: 127.0.0.2")
}

// (d): every node restarted in turn (SIGTERM, as systemd does) during an
// outage: the outage is paged once before, nothing is paged by the
// restarts, and the recovery once after.
func TestClusterRollingRestart(t *testing.T) {
	r := newClusterRig(t, 1)
	d1, d2, _ := r.pair()
	r.a.stop()
	mails := []string{"ALERT web/http: 127.0.0.2"}
	r.sink.expect(t, 5*time.Second, mails...)
	for _, n := range []*clusterNode{d1, d2} {
		n.proc.stop(t)
		r.waitRun(r.other(n), time.Now(), 2*clusterLease+5*time.Second)
		r.start(n)
		r.waitMembers(15*time.Second, d1, d2)
	}
	r.sink.expect(t, 0, mails...)
	r.a.start(t)
	mails = append(mails, "UPALERT web/http: 127.0.0.2")
	r.sink.expect(t, 5*time.Second, mails...)
	for _, n := range []*clusterNode{d1, d2} {
		n.table.waitFor(t, 5*time.Second, r.a.addr, r.b.addr)
	}
}

// A node whose configuration differs from the cluster's owns nothing,
// and says why in `list cluster`.
func TestClusterDigestMismatch(t *testing.T) {
	r := newClusterRig(t, 1)
	d1, d2, d3 := r.node("d1"), r.node("d2"), r.node("d3")
	cf := filepath.Join(d3.dir, "mon.cf")
	writeFile(t, cf, strings.Replace(readFile(t, cf), "interval 1s", "interval 2s", 1))
	for _, n := range []*clusterNode{d1, d2, d3} {
		r.start(n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		self, owns := r.cluster(d3)
		if self != nil && len(owns) == 3 && strings.Contains(self["refusal"], "differs from the cluster's") && owns["d3"] == 0 && owns["d1"]+owns["d2"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("d3 with another configuration: %v %v", self, owns)
		}
		time.Sleep(100 * time.Millisecond) // polling a daemon over its protocol
	}
	// The status page and /api/cluster say it too.
	page := httpBody(t, fmt.Sprintf("http://127.0.0.1:%d/", d3.web))
	if !strings.Contains(page, "differs from the cluster") {
		t.Errorf("the status page does not show the refusal:\n%s", page)
	}
	var st struct {
		Refusal string `json:"refusal"`
		Members []struct {
			Node     string `json:"node"`
			Eligible bool   `json:"eligible"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(httpBody(t, fmt.Sprintf("http://127.0.0.1:%d/api/cluster", d3.web))), &st); err != nil {
		t.Fatal(err)
	}
	if st.Refusal == "" || len(st.Members) != 3 {
		t.Errorf("/api/cluster: %+v", st)
	}
}

func httpBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A trap sent to a node that does not run its service is forwarded to the
// owner, which pages once; every node then shows the trap's state.
func TestClusterTrapReachesOwner(t *testing.T) {
	r := newClusterRig(t, 1)
	d1, _, _ := r.pair()
	lines, _ := r.command(d1, "list cluster web heartbeat")
	if len(lines) != 1 {
		t.Fatalf("list cluster web heartbeat: %q", lines)
	}
	owner := r.nodes[fields(lines[0])["owner"]]
	other := r.other(owner)
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(other.port)))
	if err != nil {
		t.Fatal(err)
	}
	c.Write(protocol.EncodeTrap(protocol.Trap{Pro: protocol.TrapVersion, Typ: "trap", Grp: "web", Svc: "heartbeat", Sta: "1", Spc: "0", Sum: "batch job failed", Seq: "1"}))
	c.Close()
	r.sink.expect(t, 5*time.Second, "ALERT web/heartbeat")
	for _, n := range []*clusterNode{owner, other} {
		deadline := time.Now().Add(5 * time.Second)
		for r.opstatusOf(n, "heartbeat")["opstatus"] != "0" {
			if time.Now().After(deadline) {
				t.Fatalf("%s shows heartbeat %v", n.name, r.opstatusOf(n, "heartbeat"))
			}
			time.Sleep(50 * time.Millisecond) // polling a daemon over its protocol
		}
	}
}

// etcd's quorum is lost (its only member dies) for longer than the
// lease, and a service fails meanwhile: nobody pages while etcd is away;
// once it is back, the failure is paged exactly once, and the recovery
// once.
func TestClusterEtcdQuorumLost(t *testing.T) {
	r := newClusterRig(t, 1)
	d1, d2, _ := r.pair()
	m := r.etcd.Members[0]
	r.etcd.Kill(m)
	r.a.stop()
	time.Sleep(2*clusterLease + time.Second) // past every lease: etcd is away for a span of time
	r.sink.expect(t, 0)
	r.etcd.Start(m)
	r.waitMembers(20*time.Second, d1, d2)
	mails := []string{"ALERT web/http: 127.0.0.2"}
	r.sink.expect(t, 10*time.Second, mails...)
	r.a.start(t)
	mails = append(mails, "UPALERT web/http: 127.0.0.2")
	r.sink.expect(t, 5*time.Second, mails...)
}

// The owner loses etcd for less than its lease while a failure falls
// due: the page is held (list cluster shows it) and goes out once when
// etcd answers again.
func TestClusterEtcdBlip(t *testing.T) {
	r := newClusterRig(t, 1)
	_, _, owner := r.pair()
	r.a.stop()
	for _, p := range owner.proxy {
		p.Cut()
	}
	held := false
	for deadline := time.Now().Add(clusterLease / 2); time.Now().Before(deadline) && !held; {
		self, _ := r.cluster(owner)
		held = self["held"] != "" && self["held"] != "0"
		time.Sleep(20 * time.Millisecond) // polling a daemon over its protocol
	}
	for _, p := range owner.proxy {
		p.Restore()
	}
	if !held {
		t.Error("list cluster never showed the page held while etcd was away")
	}
	r.sink.expect(t, 10*time.Second, "ALERT web/http: 127.0.0.2")
	r.a.start(t)
	r.sink.expect(t, 5*time.Second, "ALERT web/http: 127.0.0.2", "UPALERT web/http: 127.0.0.2")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
