package web_test

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/internal/web"
	"github.com/gomon/gomon/scheduler"
	"github.com/gomon/gomon/scheduler/decide"
)

// consoleCF has a service for every state the console draws: g1/down
// fails, g1/acked fails and is acknowledged, g1/off is disabled with a
// reason, g2/fresh has never run, g2/after is held by a dependency, g2/fine
// is ok.
const consoleCF = `authtype = userfile
userfile = DIR/users

hostgroup g1 web1 web2 web3

hostgroup g2 db1

watch g1
    service down
        description the front page
        interval 1h
        monitor fail.monitor
        period wd {Sun-Sat}
            alert true.alert
            alertevery 1h
    service acked
        interval 1h
        monitor fail.monitor
    service off
        interval 1h
        monitor fail.monitor

watch g2
    service fresh
        description never checked yet
        interval 1h
        monitor ok.monitor
    service after
        interval 1h
        monitor ok.monitor
    service fine
        interval 1h
        monitor ok.monitor
`

// consoleAuth: alice (password s3cret) may act; bob may only look;
// nobody logged in may list.
const consoleAuth = `command section
list:    all
ack:     alice
disable: alice
enable:  alice
test:    alice

trap section
`

// consoleRig is a real scheduler and protocol server with the console
// in front of them.
type consoleRig struct {
	*servertest.Rig
	URL string
}

func startConsole(t *testing.T) *consoleRig {
	t.Helper()
	r := servertest.Start(t, servertest.Config{
		MonCF:  consoleCF,
		AuthCF: consoleAuth,
		Files:  map[string]string{"users": "alice:Ab2AFc/ztMufY\nbob:Ab2AFc/ztMufY\n"},
		Scripts: map[string]string{
			"ok.monitor":   "exit 0\n",
			"fail.monitor": "echo 'web2 web3 connection refused'; echo 'web2: port 80 refused'; echo 'web3: port 80 refused'; exit 1\n",
			"true.alert":   "cat >/dev/null\n",
		},
	})
	for _, s := range []string{"down", "acked", "off"} {
		if err := r.Sched.TestMonitor("g1", s); err != nil {
			t.Fatal(err)
		}
	}
	r.Sched.TestMonitor("g2", "fine")
	r.Sched.TestMonitor("g2", "after")
	r.Await(t, "first runs", func() bool {
		for _, s := range []string{"down", "acked", "off"} {
			if st, _ := r.Sched.StatusOf("g1", s); !st.State.OpStatus.IsFailure() {
				return false
			}
		}
		st, _ := r.Sched.StatusOf("g2", "fine")
		st2, _ := r.Sched.StatusOf("g2", "after")
		return st.State.OpStatus == decide.OK && st2.State.OpStatus == decide.OK
	})
	must(t, r.Sched.Ack("g1", "acked", "carol", "DB team is on it, INC-4711"))
	must(t, r.Sched.DisableServiceFor("g1", "off", "carol", scheduler.Hold{Reason: "maintenance until Friday"}))
	// As `set g2 after opstatus depend` does: the state a dependency holds.
	must(t, r.Sched.SetOpStatus("g2", "after", decide.Depend))
	return serveConsole(t, r)
}

// serveConsole puts the console in front of a rig's scheduler and
// protocol server.
func serveConsole(t *testing.T, r *servertest.Rig) *consoleRig {
	srv := httptest.NewServer(web.Handler(r.Sched, web.NewCounters(), nil, r.Server))
	t.Cleanup(srv.Close)
	return &consoleRig{Rig: r, URL: srv.URL + "/"}
}

// extensionsCF is a service with issue 16's engine extensions: per-host
// verdicts and flap detection over 3 results, so that a failure, a
// success and a failure make it flap (90% state change) with web1 and
// web3 failing.
const extensionsCF = `authtype = userfile
userfile = DIR/users

hostgroup web web1 web2 web3

watch web
    service http
        interval 1h
        host_verdicts yes
        flap_detection 3 20 50
        monitor flap.monitor
`

// startFlappingConsole runs extensionsCF's service three times.
func startFlappingConsole(t *testing.T) *consoleRig {
	t.Helper()
	r := servertest.Start(t, servertest.Config{
		MonCF:  extensionsCF,
		AuthCF: consoleAuth,
		Files:  map[string]string{"users": "alice:Ab2AFc/ztMufY\n"},
		Scripts: map[string]string{
			// Every other run succeeds; $0.n counts the runs.
			"flap.monitor": `n=$(cat "$0.n" 2>/dev/null || echo 0); echo $((n+1)) >"$0.n"
[ $((n%2)) = 1 ] && exit 0
echo 'web1 web3 timeout'; echo 'web1: no answer after 5s'; echo 'web3: no answer after 5s'; exit 1
`,
		},
	})
	for n := 1; n <= 3; n++ {
		must(t, r.Sched.TestMonitor("web", "http"))
		r.Await(t, fmt.Sprintf("run %d", n), func() bool {
			st, _ := r.Sched.StatusOf("web", "http")
			return len(st.State.FlapHistory()) == n
		})
	}
	return serveConsole(t, r)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
