package server_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
)

// recCluster records what the server hands to the other cluster nodes.
type recCluster struct {
	mu    sync.Mutex
	lines []string
}

func (c *recCluster) StatusLines() []string                    { return nil }
func (c *recCluster) Owner(string, string) (string, bool)      { return "", false }
func (c *recCluster) ForwardTrap(string, string, []byte) error { return nil }
func (c *recCluster) Replicate(line, user string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, user+": "+line)
	return nil
}

// TestTimedDisableCommands: the gomon forms of disable and ack (issue 16)
// set downtimes with who and why; `list downtimes` shows them; mon's
// forms keep their replies; the other cluster nodes replay an absolute
// end.
func TestTimedDisableCommands(t *testing.T) {
	cl := &recCluster{}
	r := servertest.Start(t, servertest.Config{
		MonCF: testCF, AuthCF: tableAuth, Files: map[string]string{"users": users}, Scripts: testScripts,
		Server: server.Options{Cluster: cl},
	})
	waitFailing(t, r, "g1", "s2")
	c := r.Dial(t)
	defer c.Close()
	c.Do("login alice s3cret")
	now := time.Now()
	for _, tc := range []struct{ line, want string }{
		{"disable service g1 s1 for 2h reason kernel upgrade", "220 disable service completed"},
		{"disable watch g2 until 4102444800", "220 disable watch completed"},
		{"disable host h2 h3 for 30m reason \"rack move\"", "220 disable host completed"},
		{"ack g1 s2 for 1h looking into it", "220 ack completed"},
		// Mistakes in the extension are refused, nothing is disabled.
		{"disable service g1 s1 for ever", "520 disable error, for ever is not a duration such as 30m, 2h or 1d"},
		{"disable host h1 until tomorrow", "520 disable error, until tomorrow is not a Unix time"},
		{"disable watch g1 for 1h because", "520 disable error, expected reason TEXT after for 1h"},
		{"ack g1 s2 for x y", "520 ack error, for x is not a duration such as 30m, 2h or 1d"},
		// mon's own forms, unchanged.
		{"disable service g1 nosuch for 1h", "520 disable error, unknown service"},
		{"ack g1 s1 for 1h", "520 service is in a non-failure state"},
		{"ack g1 s2 forever", "220 ack completed"},
	} {
		if got := c.Do(tc.line); got[len(got)-1] != tc.want {
			t.Errorf("%s: %q, want %q", tc.line, got, tc.want)
		}
	}
	got := c.Do("list downtimes")
	if got[len(got)-1] != "220 list downtimes completed" || len(got) != 5 {
		t.Fatalf("list downtimes = %q", got)
	}
	ends := map[string]time.Duration{"service g1 s1": 2 * time.Hour, "host h2": 30 * time.Minute, "host h3": 30 * time.Minute}
	for _, l := range got[:4] {
		target := strings.Join(strings.Fields(l)[:len(strings.Fields(l))-5], " ")
		kv := fieldsOf(l)
		if kv["by"] != "alice" || kv["source"] != "command" {
			t.Errorf("%s: who %q source %q", l, kv["by"], kv["source"])
		}
		if d, ok := ends[target]; ok {
			until, _ := strconv.ParseInt(kv["until"], 10, 64)
			if off := time.Unix(until, 0).Sub(now.Add(d)); off < -2*time.Second || off > 2*time.Second {
				t.Errorf("%s: ends %v off", l, off)
			}
		}
	}
	if !strings.Contains(strings.Join(got, "\n"), `reason=kernel\20upgrade`) || !strings.Contains(strings.Join(got, "\n"), `reason=rack\20move`) {
		t.Errorf("reasons missing: %q", got)
	}
	// The ack `forever` is mon's ack, which ended the timed one's record.
	if strings.Contains(strings.Join(got, "\n"), "ack g1 s2") {
		t.Errorf("mon's ack kept the timed record: %q", got)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	until := time.Now().Add(2 * time.Hour).Unix()
	for i, want := range []string{
		"alice: disable service g1 s1 until " + strconv.FormatInt(until, 10) + " reason kernel upgrade",
		"alice: disable watch g2 until 4102444800",
		"alice: disable host h2 h3 until",
		"alice: ack g1 s2 until",
		"alice: ack g1 s2 forever",
	} {
		if i >= len(cl.lines) || !strings.HasPrefix(cl.lines[i], want) {
			// A second may have passed between the command and here.
			if i == 0 && i < len(cl.lines) && strings.HasPrefix(cl.lines[i], "alice: disable service g1 s1 until "+strconv.FormatInt(until-1, 10)) {
				continue
			}
			t.Errorf("replicated %d = %q, want prefix %q", i, cl.lines, want)
		}
	}
}

// fieldsOf splits the key=value words of a line.
func fieldsOf(l string) map[string]string {
	m := map[string]string{}
	for _, w := range strings.Fields(l) {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		}
	}
	return m
}
