package web

import (
	"embed"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/gomon/gomon/internal/cluster"
	"github.com/gomon/gomon/scheduler"
)

// Operator runs the console's actions: the protocol server
// (internal/server), so that a click is checked, logged and handed to the
// other cluster nodes exactly as the protocol command it stands for.
type Operator interface {
	// Login checks a password as the protocol's login does.
	Login(user, pass, ip string) bool
	// Allowed reports whether auth.cf lets user ("" when nobody is
	// logged in) run the protocol command cmd.
	Allowed(user, cmd string) bool
	// Exec runs a protocol request line for user and returns the final
	// reply line.
	Exec(user, ip, line string) string
}

// consoleSource is what the console reads of the scheduler beyond the
// status: host groups, disabled watches, downtimes and the state history.
type consoleSource interface {
	GroupMembers(group string) ([]string, bool)
	DisabledList() scheduler.Disabled
	Downtimes() []scheduler.Downtime
	StateHistory(group, service string) ([]scheduler.StateChange, error)
}

//go:embed assets
var assets embed.FS

// console serves the HTML pages and their actions.
type console struct {
	src      Source
	node     *cluster.Node
	op       Operator // nil: read-only, no login
	sessions *sessions
}

func registerConsole(mux *http.ServeMux, src Source, node *cluster.Node, op Operator) {
	c := &console{src: src, node: node, op: op, sessions: newSessions()}
	mux.HandleFunc("GET /{$}", c.overview)
	mux.HandleFunc("GET /service", c.service)
	mux.HandleFunc("GET /downtimes", c.downtimes)
	mux.Handle("GET /assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /login", c.loginForm)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	mux.HandleFunc("POST /action/{action}", c.action)
}

// base is what every page shows around its content.
type base struct {
	Title        string
	Now          time.Time
	User         string // "" when nobody is logged in
	CSRF         string
	CanLogin     bool // actions are possible at all
	Stopped      bool
	StoppedSince time.Time
	Cluster      []string // `list cluster` lines; nil when alone
	Refusal      string   // why this cluster node owns nothing
	Flash, Error string
	Live         bool // the page updates itself (the overview)
}

func (c *console) base(w http.ResponseWriter, r *http.Request, title string) base {
	id := c.sessions.id(w, r)
	now := time.Now()
	b := base{Title: title, Now: now, User: c.sessions.user(id, now), CSRF: c.sessions.token(id), CanLogin: c.op != nil,
		Flash: r.URL.Query().Get("done"), Error: r.URL.Query().Get("error")}
	b.Stopped, b.StoppedSince = c.src.Stopped()
	if c.node != nil {
		st := c.node.Status()
		b.Cluster, b.Refusal = st.Lines(), st.Refusal
	}
	return b
}

// clientIP is the peer's address, for the login throttle and the log.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// serviceURL is the relative URL of a service's page: relative, so the
// console works behind a proxy under any prefix.
func serviceURL(group, service string) string {
	return "service?" + url.Values{"group": {group}, "service": {service}}.Encode()
}

var funcs = template.FuncMap{
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"clock": clock,
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return humanDuration(now.Sub(t)) + " ago"
	},
	"since": func(now, t time.Time) string { return humanDuration(now.Sub(t)) },
	// until is when a timed downtime ends, "" for one without an end.
	"until": func(now, t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return "until " + clock(t) + " (in " + humanDuration(t.Sub(now)) + ")"
	},
	"unix":       func(n int64) time.Time { return time.Unix(n, 0) },
	"pct":        func(p *float64) string { return fmt.Sprintf("%.0f%%", *p) },
	"dur":        humanDuration,
	"serviceURL": serviceURL,
	"label":      kindLabel,
}

// clock is a time as the console shows it, in the server's zone.
func clock(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// page parses one page's template with the layout around it.
func page(name string) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+name))
}

func render(w http.ResponseWriter, t *template.Template, code int, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(code)
	t.ExecuteTemplate(w, "layout", data)
}
