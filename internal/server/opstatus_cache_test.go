package server_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/clock"
	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
	"github.com/gomon/gomon/scheduler"
)

// TestOpstatusCacheIsExact checks that a cached `list opstatus` reply is
// always byte for byte what a fresh rendering gives, while a fake clock
// moves in uneven steps (timers and failure durations tick over) and
// operators change state in between.
func TestOpstatusCacheIsExact(t *testing.T) {
	var cf strings.Builder
	intervals := []string{"10m", "17m", "1h", "23m"}
	for g := 1; g <= 3; g++ {
		fmt.Fprintf(&cf, "hostgroup g%d h%d\n\nwatch g%d\n", g, g, g)
		for s := 1; s <= 4; s++ {
			mon := "ok.monitor"
			if (g+s)%2 == 0 {
				mon = "fail.monitor" // some services have a failure_duration
			}
			fmt.Fprintf(&cf, "    service s%d\n        interval %s\n        monitor %s\n", s, intervals[(g*s)%4], mon)
		}
		cf.WriteString("\n")
	}
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 123_000_000, time.UTC))
	r := servertest.Start(t, servertest.Config{
		MonCF:     cf.String(),
		Scripts:   map[string]string{"ok.monitor": "echo fine\n", "fail.monitor": "echo broken\nexit 1\n"},
		Scheduler: scheduler.Options{Clock: clk},
	})
	// Run every monitor once, so that states differ.
	sess := server.NewSession("127.0.0.1")
	for _, st := range r.Sched.StatusAll() {
		if _, final, _ := r.Server.Handle(sess, "test monitor "+st.Group+" "+st.Service); !strings.HasPrefix(final, "220") {
			t.Fatal(final)
		}
	}
	r.Await(t, "the first runs", func() bool { return allRan(r.Sched) })

	rng := rand.New(rand.NewPCG(1, 2))
	ops := []string{"disable service g1 s2", "enable service g1 s2", "ack g2 s1 looking", "disable watch g3", "enable watch g3"}
	hits := 0
	for step := range 400 {
		clk.Advance(time.Duration(rng.IntN(1300)) * time.Millisecond)
		if step%7 == 0 {
			r.Server.Handle(sess, ops[rng.IntN(len(ops))])
		}
		if r.Server.OpstatusCached(sess) {
			hits++
		}
		got, final, _ := r.Server.Handle(sess, "list opstatus")
		r.Server.ForgetOpstatus()
		want, wantFinal, _ := r.Server.Handle(sess, "list opstatus")
		if final != wantFinal || !slices.Equal(got, want) {
			t.Fatalf("step %d at %v: cached reply differs from a fresh one:\n%s\nfresh:\n%s",
				step, clk.Now(), strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if step%3 == 0 {
			r.Server.Handle(sess, "list opstatus") // cached: asked again at once
			if !r.Server.OpstatusCached(sess) {
				t.Fatalf("step %d: a reply asked for twice at the same instant was not cached", step)
			}
		}
	}
	if hits == 0 {
		t.Error("no request was answered from the cache")
	}
}

func allRan(s *scheduler.Scheduler) bool {
	for _, st := range s.StatusAll() {
		if !st.Ran || st.Running {
			return false
		}
	}
	return true
}
