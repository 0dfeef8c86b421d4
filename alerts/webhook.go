package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func init() {
	Register(&Builtin{
		Name:  "webhook",
		Usage: "webhook [-H 'NAME: VALUE']... [--timeout DURATION] [--retries N] URL",
		New:   newWebhook,
	})
}

// webhookAlert POSTs the event as JSON. It retries transport errors, 429
// and 5xx answers with a growing pause; other answers are final.
type webhookAlert struct {
	url     string
	header  http.Header
	timeout time.Duration // per attempt
	retries int
	backoff time.Duration // pause before the first retry, doubled after each
	client  *http.Client
}

// WebhookPayload is the JSON body a webhook alert sends.
type WebhookPayload struct {
	Group   string            `json:"group"`
	Service string            `json:"service"`
	Type    string            `json:"type"`    // MON_ALERTTYPE values: failure, up, ...
	Upalert bool              `json:"upalert"` // mon would pass -u
	Time    time.Time         `json:"time"`
	Epoch   int64             `json:"epoch"`
	Hosts   []string          `json:"hosts"`
	Summary string            `json:"summary"`
	Detail  string            `json:"detail"`
	Retval  *int              `json:"retval"` // null when mon sets no MON_RETVAL (ack)
	Env     map[string]string `json:"env"`    // MON_* variables, secrets (*_PASS) left out
}

func newWebhook(args []string) (Alert, error) {
	o, err := ParseArgs("webhook", args, "H:", "timeout:", "retries:")
	if err != nil {
		return nil, err
	}
	if len(o.Args) != 1 {
		return nil, errors.New("webhook alert: want exactly one URL")
	}
	u, err := url.Parse(o.Args[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook alert: %q is not an http(s) URL", o.Args[0])
	}
	w := &webhookAlert{url: u.String(), header: http.Header{}, timeout: 10 * time.Second,
		retries: 2, backoff: time.Second, client: &http.Client{}}
	for _, h := range o.All("H") {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("webhook alert: -H %q: want 'Name: value'", h)
		}
		w.header.Add(textproto.TrimString(name), textproto.TrimString(value))
	}
	if v := o.Get("timeout"); v != "" {
		if w.timeout, err = time.ParseDuration(v); err != nil || w.timeout <= 0 {
			return nil, fmt.Errorf("webhook alert: --timeout %q: want a positive duration like 5s", v)
		}
	}
	if v := o.Get("retries"); v != "" {
		if w.retries, err = strconv.Atoi(v); err != nil || w.retries < 0 {
			return nil, fmt.Errorf("webhook alert: --retries %q: want a non-negative integer", v)
		}
	}
	return w, nil
}

func payload(ev Event) WebhookPayload {
	summary, rest := ev.SplitInput()
	p := WebhookPayload{
		Group: ev.Group, Service: ev.Service, Type: string(ev.Type), Upalert: ev.IsUpalert(),
		Time: ev.Time.UTC(), Epoch: ev.Time.Unix(), Hosts: ev.Hosts,
		Summary: summary, Detail: string(rest), Env: map[string]string{},
	}
	if p.Hosts == nil {
		p.Hosts = []string{}
	}
	if t, ok := ev.Getenv("MON_ALERTTYPE"); ok {
		p.Type = t
	}
	if v, ok := ev.Getenv("MON_RETVAL"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			p.Retval = &n
		}
	}
	for _, kv := range ev.Env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "MON_") && !strings.HasSuffix(k, "_PASS") {
			p.Env[k] = v
		}
	}
	return p
}

func (w *webhookAlert) Send(ctx context.Context, ev Event) error {
	body, err := json.Marshal(payload(ev))
	if err != nil {
		return fmt.Errorf("webhook alert: %w", err)
	}
	pause := w.backoff
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= w.retries {
			return fmt.Errorf("webhook alert %s: %w", w.url, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("webhook alert %s: %w (last error: %v)", w.url, ctx.Err(), err)
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// post makes one attempt and says whether a failure is worth retrying.
func (w *webhookAlert) post(ctx context.Context, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header = w.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	err = fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, err
}
