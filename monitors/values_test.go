package monitors

import (
	"context"
	"net"
	"testing"
	"time"
)

// hasValue reports whether the run measured want for host's name.
func hasValue(r Result, host, name string, want float64) bool {
	v, ok := r.Value(host, name)
	return ok && v == want
}

// positive reports whether the run measured a value above zero.
func positive(r Result, name string) bool {
	v, ok := r.Value("", name)
	return ok && v > 0
}

func TestExternalPerfdata(t *testing.T) {
	p := execScript(t, `echo "h1 h2 | rta=1.5ms;100;200;0 'free space'=42%;;"; echo "detail"`)
	r := (&External{Path: p}).Check(context.Background(), Request{})
	if !hasValue(r, "", "rta", 1.5) || !hasValue(r, "", "free space", 42) || len(r.Values) != 2 {
		t.Errorf("values %v", r.Values)
	}
	// A classic monitor's output without perfdata reports no values.
	p = execScript(t, `echo "h1 h2"; echo "h1: refused | h2: timeout"`)
	if r := (&External{Path: p}).Check(context.Background(), Request{}); len(r.Values) != 0 {
		t.Errorf("values from plain output: %v", r.Values)
	}
}

func TestTCPResponseTime(t *testing.T) {
	port := serveTCP(t, func(c net.Conn) {})
	m := mustNew(t, "tcp", "-p", port)
	r := m.Check(context.Background(), Request{Hosts: []string{"127.0.0.1"}, Timeout: 10 * time.Second})
	var got bool
	for _, v := range r.Measurements() {
		got = got || (v.Host == "127.0.0.1" && v.Name == "response_seconds" && v.Value > 0)
	}
	if r.Exit != 0 || !got {
		t.Errorf("exit %d measurements %v", r.Exit, r.Measurements())
	}
}
