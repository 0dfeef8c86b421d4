package scheduler

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// fakeReplica is a cluster of one test: ownership is set by the test and
// commits are kept until the test accepts them.
type fakeReplica struct {
	mu      sync.Mutex
	own     map[string]bool
	commits []Commit
	got     chan struct{}
}

func newFakeReplica(owned ...string) *fakeReplica {
	f := &fakeReplica{own: map[string]bool{}, got: make(chan struct{}, 100)}
	for _, k := range owned {
		f.own[k] = true
	}
	return f
}

func (f *fakeReplica) Owns(g, s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.own[g+"/"+s]
}

func (f *fakeReplica) Commit(c Commit) {
	f.mu.Lock()
	f.commits = append(f.commits, c)
	f.mu.Unlock()
	f.got <- struct{}{}
}

func (f *fakeReplica) next(t *testing.T) Commit {
	t.Helper()
	select {
	case <-f.got:
	case <-time.After(timeout):
		t.Fatal("no commit")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.commits[0]
	f.commits = f.commits[1:]
	return c
}

const replicaCF = `
hostgroup g h1

watch g
    service s
        interval 10s
        monitor m
        period wd {Sun-Sat}
            alertevery 1h
            alert page.alert
            upalert page.alert
            alert local lvs.alert
            upalert local lvs.alert
    service other
        interval 10s
        monitor m2
`

// In cluster mode the owner publishes a transition and sends its pages
// only once the cluster accepted it; node-local alerts run at once and
// travel with the state. A service owned elsewhere does not run here.
func TestReplicaOwnerPublishesBeforePaging(t *testing.T) {
	mon, other := answer(1, "h1 down\n"), okMonitor()
	page, local := recorder(), recorder()
	rep := newFakeReplica("g/s")
	r := newRigWith(t, replicaCF, map[string]any{"m": mon, "m2": other, "page.alert": page, "lvs.alert": local},
		func(o *Options) { o.Replica = rep })
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	c := rep.next(t)
	if c.Group != "g" || c.Service != "s" || c.Send == nil {
		t.Fatalf("commit %+v", c)
	}
	if ev := r.sent(local); ev.Type != decide.FailureAlert {
		t.Errorf("local alert %v", ev.Type)
	}
	select {
	case ev := <-page.sent:
		t.Fatalf("page sent before the cluster accepted the state: %+v", ev)
	default:
	}
	c.Send()
	if ev := r.sent(page); ev.Type != decide.FailureAlert {
		t.Errorf("page %v", ev.Type)
	}
	for _, s := range r.starts() {
		if s == "g/other" {
			t.Errorf("service owned by another node ran here: %q", r.starts())
		}
	}

	// The next failing result changes nothing the cluster keeps: no write.
	r.advance(10 * time.Second)
	r.wait("monitor-done")
	r.settle()
	rep.mu.Lock()
	n := len(rep.commits)
	rep.mu.Unlock()
	if n != 0 {
		t.Errorf("a steady failure wrote %d commits", n)
	}
}

// A state imported from the owner replaces this node's, and with replay
// its node-local alerts run here; the cluster's pages do not.
func TestReplicaImportRunsLocalAlerts(t *testing.T) {
	page, local := recorder(), recorder()
	owner := newFakeReplica("g/s")
	a := newRigWith(t, replicaCF, map[string]any{"m": answer(1, "h1 down\n"), "m2": okMonitor(), "page.alert": page, "lvs.alert": local},
		func(o *Options) { o.Replica = owner })
	a.advance(10 * time.Second)
	c := owner.next(t)
	a.sent(local)

	page2, local2 := recorder(), recorder()
	b := newRigWith(t, replicaCF, map[string]any{"m": answer(0, ""), "m2": okMonitor(), "page.alert": page2, "lvs.alert": local2},
		func(o *Options) { o.Replica = newFakeReplica() })
	if err := b.s.Import("g", "s", c.State, true); err != nil {
		t.Fatal(err)
	}
	b.wait("import")
	if ev := b.sent(local2); ev.Type != decide.FailureAlert {
		t.Errorf("replayed local alert %v", ev.Type)
	}
	if st := b.status("g", "s"); st.State.OpStatus != decide.Fail || st.State.LastSummary != "h1 down" {
		t.Errorf("imported state %v %q", st.State.OpStatus, st.State.LastSummary)
	}
	select {
	case ev := <-page2.sent:
		t.Errorf("a non-owner paged: %+v", ev)
	default:
	}
	if err := b.s.Import("g", "s", []byte("{"), false); err == nil {
		t.Error("bad state accepted")
	}
}

// A state from a node whose clock runs an hour ahead does not hold this
// node's alertevery window for an extra hour.
func TestReplicaImportFromSkewedClock(t *testing.T) {
	r := newRigWith(t, replicaCF, map[string]any{"m": okMonitor(), "m2": okMonitor(), "page.alert": recorder(), "lvs.alert": recorder()},
		func(o *Options) { o.Replica = newFakeReplica() })
	st := decide.NewState(r.s.Config().Watches[0].Services[0])
	st.OpStatus = decide.Fail
	st.Periods[0].LastAlert = epoch.Add(time.Hour).Unix()
	data, err := json.Marshal(replicated{State: *st})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.s.Import("g", "s", data, false); err != nil {
		t.Fatal(err)
	}
	if got := r.status("g", "s").State.Periods[0].LastAlert; got != epoch.Unix() {
		t.Errorf("last alert %d, want now (%d)", got, epoch.Unix())
	}
}

// A service taken over whose last run is an interval old runs at once,
// not at its next slot.
func TestReplicaTakeOverRunsAtOnce(t *testing.T) {
	rep := newFakeReplica()
	r := newRigWith(t, replicaCF, map[string]any{"m": okMonitor(), "m2": okMonitor(), "page.alert": recorder(), "lvs.alert": recorder()},
		func(o *Options) { o.Replica = rep })
	r.advance(5 * time.Second)
	rep.mu.Lock()
	rep.own["g/s"] = true
	rep.mu.Unlock()
	r.s.TakeOver("g", "s")
	if ev := r.wait("monitor-start"); ev.Service != "s" || !ev.Time.Equal(epoch.Add(5*time.Second)) {
		t.Errorf("after the takeover: %+v", ev)
	}
}

// An all-scope service runs on every node without asking the cluster,
// and its alerts go out at once, with nothing published.
func TestReplicaAllScopeRunsEverywhere(t *testing.T) {
	page := recorder()
	rep := newFakeReplica() // owns nothing
	r := newRigWith(t, `
hostgroup g h1

watch g
    service links
        interval 10s
        monitor m
        cluster_scope all
        period wd {Sun-Sat}
            alert page.alert
`, map[string]any{"m": answer(1, "link down\n"), "page.alert": page}, func(o *Options) { o.Replica = rep })
	r.advance(10 * time.Second)
	if ev := r.sent(page); ev.Type != decide.FailureAlert {
		t.Errorf("page %v", ev.Type)
	}
	rep.mu.Lock()
	defer rep.mu.Unlock()
	if len(rep.commits) != 0 {
		t.Errorf("an all-scope service published %d states", len(rep.commits))
	}
}
