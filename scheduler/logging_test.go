package scheduler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/syslog"
)

// lockedBuffer is a log destination that goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// take returns the records above DEBUG logged since the last take, one
// per line as LEVEL MSG key=value… of the fields a state record carries.
func (l *lockedBuffer) take(t *testing.T) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if r["level"] == "DEBUG" {
			continue // decision traces and the like
		}
		out = append(out, fmt.Sprintf("%v %v group=%v service=%v hosts=%v opstatus=%v prev=%v summary=%v mon=%v",
			r["level"], r["msg"], r["group"], r["service"], r["hosts"], r["opstatus"], r["prev_opstatus"], r["summary"], r[syslog.Classic]))
	}
	l.b.Reset()
	return out
}

// TestStateChangeRecords: only a result that changes the opstatus is a
// record at info or above; a repeated failure is chatter that carries
// mon's "failure for" line for syslog, and a repeated success is nothing.
func TestStateChangeRecords(t *testing.T) {
	var log lockedBuffer
	r := newRigWith(t, `
hostgroup g h1 h2

watch g
    service s
        interval 10s
        monitor flip.monitor
`, map[string]any{
		"flip.monitor": `if [ -e "$(dirname "$0")/../down" ]; then echo "h2 down"; exit 1; fi; echo fine` + "\n",
	}, func(o *Options) {
		o.Logger = slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	down := filepath.Join(r.dir, "down")
	os.WriteFile(down, nil, 0o644)
	step := func() int64 {
		r.advance(10 * time.Second)
		r.wait("monitor-done")
		return r.clk.Now().Unix()
	}
	t1 := step()
	t2 := step()
	os.Remove(down)
	step()
	step()
	want := []string{
		fmt.Sprintf("ERROR service state changed group=g service=s hosts=[h2] opstatus=fail prev=untested summary=h2 down mon=failure for g s %d h2 down", t1),
		fmt.Sprintf("DEBUG+1 service still failing group=g service=s hosts=[h2] opstatus=fail prev=fail summary=h2 down mon=failure for g s %d h2 down", t2),
		"INFO service state changed group=g service=s hosts=[h1 h2] opstatus=ok prev=fail summary=fine mon=<nil>",
	}
	if got := log.take(t); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
