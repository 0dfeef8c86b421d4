package web_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/scheduler"
)

// getJSON reads an API document into v and returns the status code.
func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	must(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v\n%s", u, err, body)
	}
	return resp.StatusCode
}

// The JSON endpoints of docs/api.md, each with its examples' fields.
func TestConsoleAPI(t *testing.T) {
	r := startConsole(t)

	var st struct {
		Services []struct {
			Group, Service, State, Status string
			Hosts                         []struct {
				Name              string
				Failing, Disabled bool
			}
			DownSince     *string `json:"down_since"`
			AckComment    string  `json:"ack_comment"`
			DisabledBy    string  `json:"disabled_by"`
			DisableReason string  `json:"disable_reason"`
		}
	}
	if code := getJSON(t, r.URL+"api/status", &st); code != 200 {
		t.Fatalf("api/status: %d", code)
	}
	got := map[string]string{}
	for _, s := range st.Services {
		got[s.Group+"/"+s.Service] = s.State
		switch s.Group + "/" + s.Service {
		case "g1/down":
			if len(s.Hosts) != 3 || s.Hosts[0].Failing || !s.Hosts[1].Failing || s.DownSince == nil {
				t.Errorf("g1/down: hosts %+v, down since %v", s.Hosts, s.DownSince)
			}
		case "g1/acked":
			if s.AckComment != "carol: DB team is on it, INC-4711" {
				t.Errorf("g1/acked: comment %q", s.AckComment)
			}
		case "g1/off":
			if s.DisabledBy != "carol" || s.DisableReason != "maintenance until Friday" {
				t.Errorf("g1/off: disabled by %q: %q", s.DisabledBy, s.DisableReason)
			}
		}
	}
	want := map[string]string{"g1/down": "failing", "g1/acked": "acked", "g1/off": "disabled",
		"g2/fresh": "untested", "g2/after": "suppressed", "g2/fine": "ok"}
	if !maps.Equal(got, want) {
		t.Errorf("states: %v, want %v", got, want)
	}

	var one struct {
		Service   struct{ State string }
		Decisions []struct {
			Rule, Msg string
			Sent      bool
		}
		Alerts   []struct{ Type, Alert, Summary string }
		Failures []struct{ Summary string }
		Timeline []struct {
			Status, State   string
			Acked, Disabled bool
		}
	}
	if code := getJSON(t, r.URL+"api/service?group=g1&service=down", &one); code != 200 {
		t.Fatalf("api/service: %d", code)
	}
	if one.Service.State != "failing" || len(one.Decisions) == 0 || len(one.Alerts) != 1 || one.Alerts[0].Type != "alert" ||
		one.Alerts[0].Summary != "web2 web3 connection refused" || len(one.Failures) != 1 ||
		len(one.Timeline) != 2 || one.Timeline[0].State != "untested" || one.Timeline[1].State != "failing" {
		t.Errorf("api/service: %+v", one)
	}
	var h struct {
		Alerts, Failures []struct{ Group, Service string }
	}
	if code := getJSON(t, r.URL+"api/history?group=g1&service=acked", &h); code != 200 || len(h.Alerts) != 0 || len(h.Failures) != 1 || h.Failures[0].Service != "acked" {
		t.Errorf("api/history for g1/acked: %d %+v", code, h)
	}
	if code := getJSON(t, r.URL+"api/history", &h); code != 200 || len(h.Failures) != 3 {
		t.Errorf("api/history: %d %+v", code, h)
	}
	var e struct{ Error string }
	for q, want := range map[string]int{
		"api/service?group=g1":                400,
		"api/service?group=g1&service=nope":   404,
		"api/history?group=g1":                400,
		"api/history?group=nope&service=x":    404,
		"api/decisions?group=g1&service=nope": 404,
		"api/cluster":                         404,
	} {
		if code := getJSON(t, r.URL+q, &e); code != want || e.Error == "" {
			t.Errorf("%s: %d %q, want %d with an error", q, code, e.Error, want)
		}
	}
}

// A form's token is that of its session: without it, or with another
// session's, a POST is refused; with it, auth.cf decides as for the
// protocol command; a wrong password is refused.
func TestConsoleForms(t *testing.T) {
	r := startConsole(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := func(page string) string {
		resp, err := c.Get(r.URL + page)
		must(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no token on %s", page)
		}
		return string(m[1])
	}
	post := func(path string, v url.Values) (int, string) {
		resp, err := c.PostForm(r.URL+path, v)
		must(t, err)
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	anon := token("login")
	ack := url.Values{"group": {"g1"}, "service": {"down"}, "comment": {"x"}}
	if code, _ := post("action/ack", ack); code != 403 {
		t.Errorf("ack without a token: %d", code)
	}
	ack.Set("csrf", "forged")
	if code, _ := post("action/ack", ack); code != 403 {
		t.Errorf("ack with a forged token: %d", code)
	}
	ack.Set("csrf", anon)
	if code, _ := post("action/ack", ack); code != 403 {
		t.Errorf("ack by nobody (auth.cf: alice only): %d", code)
	}
	if code, _ := post("login", url.Values{"user": {"alice"}, "password": {"wrong"}, "csrf": {anon}}); code != 401 {
		t.Errorf("wrong password: %d", code)
	}
	if code, _ := post("login", url.Values{"user": {"alice"}, "password": {"s3cret"}}); code != 403 {
		t.Errorf("login without a token: %d", code)
	}
	if code, loc := post("login", url.Values{"user": {"bob"}, "password": {"s3cret"}, "csrf": {anon}, "next": {"//evil.example/"}}); code != 303 || loc != "/" {
		t.Errorf("bob's login: %d to %q", code, loc)
	}
	ack.Set("csrf", anon) // the login gave a new session: the old token is void
	if code, _ := post("action/ack", ack); code != 403 {
		t.Errorf("ack with the token of the session before the login: %d", code)
	}
	ack.Set("csrf", token(""))
	if code, _ := post("action/ack", ack); code != 403 {
		t.Errorf("ack by bob (auth.cf: alice only): %d", code)
	}
	if code, _ := post("logout", url.Values{"csrf": {token("")}}); code != 303 {
		t.Errorf("logout: %d", code)
	}
	post("login", url.Values{"user": {"alice"}, "password": {"s3cret"}, "csrf": {token("login")}})
	tok := token("")
	if code, loc := post("action/test", url.Values{"group": {"g2"}, "service": {"fresh"}, "csrf": {tok}}); code != 303 || !strings.Contains(loc, "done=monitor+started") {
		t.Errorf("test monitor: %d to %q", code, loc)
	}
	r.Await(t, "g2/fresh tested", func() bool { st, _ := r.Sched.StatusOf("g2", "fresh"); return st.Ran })
	if code, loc := post("action/ack", url.Values{"group": {"g2"}, "service": {"fine"}, "csrf": {tok}}); code != 303 || !strings.Contains(loc, "error=520") {
		t.Errorf("ack of an ok service: %d to %q", code, loc)
	}
	// The duration of a disable or an ack is one of mon's timevals, or
	// nothing: anything else is refused before a protocol line is made.
	for _, bad := range []string{"2 hours", "2h reason x", "0h", "-1h", "soon"} {
		if code, _ := post("action/disable", url.Values{"group": {"g2"}, "service": {"fine"}, "reason": {"r"}, "for": {bad}, "csrf": {tok}}); code != 400 {
			t.Errorf("disable for %q: %d, want 400", bad, code)
		}
		if code, _ := post("action/ack", url.Values{"group": {"g1"}, "service": {"down"}, "comment": {"c"}, "for": {bad}, "csrf": {tok}}); code != 400 {
			t.Errorf("ack for %q: %d, want 400", bad, code)
		}
	}
	if st, _ := r.Sched.StatusOf("g2", "fine"); st.State.Disabled || len(r.Sched.Downtimes()) != 1 {
		t.Fatalf("a refused form changed the state: disabled %v, downtimes %+v", st.State.Disabled, r.Sched.Downtimes())
	}
	before := time.Now().Truncate(time.Second)
	if code, loc := post("action/disable", url.Values{"group": {"g2"}, "service": {"fine"}, "reason": {"patch\nday"}, "for": {" 30m "}, "csrf": {tok}}); code != 303 || !strings.Contains(loc, "done=disabled+for+30m") {
		t.Errorf("timed disable: %d to %q", code, loc)
	}
	// A timed ack's comment is the rest of the line as it stands: a line
	// break in it becomes a blank, not a second command.
	if code, loc := post("action/ack", url.Values{"group": {"g1"}, "service": {"down"}, "comment": {"on it\ndisable service g2 fresh"}, "for": {"1h"}, "csrf": {tok}}); code != 303 || !strings.Contains(loc, "done=acknowledged+for+1h") {
		t.Errorf("timed ack: %d to %q", code, loc)
	}
	got := map[string]scheduler.Downtime{}
	for _, d := range r.Sched.Downtimes() {
		got[d.Kind+" "+d.Group+"/"+d.Service] = d
	}
	if d := got["service g2/fine"]; d.Who != "alice" || d.Reason != "patch day" || d.Until.Sub(before) < 30*time.Minute || d.Until.Sub(before) > 31*time.Minute {
		t.Errorf("timed disable's downtime: %+v", d)
	}
	if d := got["ack g1/down"]; d.Who != "alice" || d.Reason != "on it disable service g2 fresh" || d.Until.Sub(before) < time.Hour || d.Until.Sub(before) > time.Hour+time.Minute {
		t.Errorf("timed ack's downtime: %+v", d)
	}
	if st, _ := r.Sched.StatusOf("g2", "fresh"); st.State.Disabled {
		t.Error("the ack's comment disabled g2/fresh")
	}
	var api struct {
		Services []struct {
			Group, Service string
			DisabledUntil  *time.Time `json:"disabled_until"`
			AckUntil       *time.Time `json:"ack_until"`
		}
	}
	getJSON(t, r.URL+"api/status", &api)
	for _, s := range api.Services {
		switch s.Group + "/" + s.Service {
		case "g2/fine":
			if s.DisabledUntil == nil || !s.DisabledUntil.Equal(got["service g2/fine"].Until) {
				t.Errorf("g2/fine disabled_until %v", s.DisabledUntil)
			}
		case "g1/down":
			if s.AckUntil == nil || !s.AckUntil.Equal(got["ack g1/down"].Until) {
				t.Errorf("g1/down ack_until %v", s.AckUntil)
			}
		}
	}
	var dts []struct{ Kind, Group, Service, By, Source, Reason string }
	if code := getJSON(t, r.URL+"api/downtimes", &dts); code != 200 || len(dts) != 3 {
		t.Errorf("api/downtimes: %d %+v", code, dts)
	}
	if code, _ := post("action/enable", url.Values{"group": {"g1"}, "service": {"off"}, "csrf": {tok}}); code != 303 {
		t.Errorf("enable: %d", code)
	}
	if st, _ := r.Sched.StatusOf("g1", "off"); st.State.Disabled || st.DisabledBy != nil {
		t.Errorf("g1/off still disabled: %+v", st.DisabledBy)
	}
	if code, _ := post("action/nope", url.Values{"group": {"g1"}, "service": {"off"}, "csrf": {tok}}); code != 404 {
		t.Errorf("unknown action: %d", code)
	}
}
