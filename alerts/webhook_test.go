package alerts

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"
)

type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	codes  []int // answers in turn; 200 once used up
}

func newHookServer(t *testing.T, codes ...int) *hookServer {
	h := &hookServer{codes: codes}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.heads = append(h.heads, r.Header.Clone())
		code := 200
		if len(h.codes) > 0 {
			code, h.codes = h.codes[0], h.codes[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) requests() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func fastRetries(a Alert) Alert {
	a.(*webhookAlert).backoff = 10 * time.Millisecond
	return a
}

func TestWebhookPayload(t *testing.T) {
	h := newHookServer(t)
	a := newBuiltin(t, "webhook", "-H", "Authorization: Bearer abc", "-H", "X-Team: ops", h.URL+"/hook")
	ev := testEvent("")
	ev.Env = append(ev.Env, "MON_TRAP_PASS=secret")
	if err := a.Send(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if h.heads[0].Get("Authorization") != "Bearer abc" || h.heads[0].Get("X-Team") != "ops" ||
		h.heads[0].Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h.heads[0])
	}
	var got map[string]any
	if err := json.Unmarshal(h.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"group": "g1", "service": "s1", "type": "failure", "upalert": false,
		"time": "2026-11-23T00:48:03Z", "epoch": 1795394883.0,
		"hosts": []any{"h1", "h2", "h3"}, "summary": "h1 h2 failed",
		"detail": "detail line 1\ndetail line 2\n", "retval": 1.0,
		"env": map[string]any{"MON_GROUP": "g1", "MON_SERVICE": "s1", "MON_ALERTTYPE": "failure",
			"MON_RETVAL": "1", "MON_OPSTATUS": "0", "MON_DESCRIPTION": "first service"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("payload:\n%v\nwant:\n%v", got, want)
	}
}

func TestWebhookRetries(t *testing.T) {
	h := newHookServer(t, 503, 500)
	if err := fastRetries(newBuiltin(t, "webhook", "--retries", "2", h.URL)).Send(context.Background(), testEvent("")); err != nil {
		t.Fatal(err)
	}
	if n := h.requests(); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	h = newHookServer(t, 503, 503, 503)
	if err := fastRetries(newBuiltin(t, "webhook", "--retries=1", h.URL)).Send(context.Background(), testEvent("")); err == nil {
		t.Error("want an error after the retries")
	}
	if n := h.requests(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}

	h = newHookServer(t, 404)
	if err := fastRetries(newBuiltin(t, "webhook", h.URL)).Send(context.Background(), testEvent("")); err == nil {
		t.Error("want an error for 404")
	}
	if n := h.requests(); n != 1 {
		t.Errorf("4xx retried: %d requests", n)
	}
}

// A server that never answers is cut off by --timeout on every attempt.
func TestWebhookTimeout(t *testing.T) {
	addr := listenSilent(t)
	a := fastRetries(newBuiltin(t, "webhook", "--timeout", "200ms", "--retries", "1", "http://"+addr+"/"))
	start := time.Now()
	if err := a.Send(context.Background(), testEvent("")); err == nil {
		t.Fatal("want a timeout error")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Send took %v", d)
	}
}

func TestWebhookConfigErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"ftp://x/"}, {"http://a/", "http://b/"},
		{"-H", "novalue", "http://a/"}, {"--timeout", "soon", "http://a/"}, {"--retries", "-1", "http://a/"}} {
		if _, err := builtins.Lookup("webhook").New(args); err == nil {
			t.Errorf("%q: want an error", args)
		}
	}
}
