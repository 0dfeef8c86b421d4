package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/configfile"
)

// Logging in and out, and the actions. Every POST must carry the CSRF
// token of its session; each action is then the protocol command it
// stands for, run by the protocol server for the logged-in user, so
// auth.cf decides exactly as it would for that command.

var loginPage = page("login.html")

func (c *console) loginForm(w http.ResponseWriter, r *http.Request) {
	if c.op == nil {
		http.NotFound(w, r)
		return
	}
	render(w, loginPage, http.StatusOK, struct {
		base
		Next string
	}{c.base(w, r, "log in — gomon"), r.URL.Query().Get("next")})
}

func (c *console) login(w http.ResponseWriter, r *http.Request) {
	if c.op == nil {
		http.NotFound(w, r)
		return
	}
	if _, ok := c.sessions.check(r); !ok {
		refuse(w)
		return
	}
	user, next := r.PostFormValue("user"), r.PostFormValue("next")
	if user == "" || strings.ContainsAny(user, " \t\r\n") || !c.op.Login(user, r.PostFormValue("password"), clientIP(r)) {
		b := c.base(w, r, "log in — gomon")
		b.Error = "login unsuccessful"
		render(w, loginPage, http.StatusUnauthorized, struct {
			base
			Next string
		}{b, next})
		return
	}
	c.sessions.login(w, r, user, time.Now())
	http.Redirect(w, r, localURL(next, "./"), http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request) {
	id, ok := c.sessions.check(r)
	if !ok {
		refuse(w)
		return
	}
	c.sessions.logout(id)
	http.Redirect(w, r, "./", http.StatusSeeOther)
}

// localURL returns next if it is a relative URL on this site, else def:
// a login must not redirect elsewhere.
func localURL(next, def string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(next, "/") || strings.Contains(next, `\`) {
		return def
	}
	return next
}

func refuse(w http.ResponseWriter) {
	http.Error(w, "refused: this form has no valid session token; reload the page and try again", http.StatusForbidden)
}

// action carries out ack, disable, enable or test on one service.
func (c *console) action(w http.ResponseWriter, r *http.Request) {
	if c.op == nil {
		http.NotFound(w, r)
		return
	}
	id, ok := c.sessions.check(r)
	if !ok {
		refuse(w)
		return
	}
	g, s := r.PostFormValue("group"), r.PostFormValue("service")
	if !isWord(g) || !isWord(s) {
		http.Error(w, "group and service are required", http.StatusBadRequest)
		return
	}
	// forDur is the optional duration of a disable or an ack: gomon's
	// `for DURATION` (docs/downtimes.md), refused here unless it is one
	// of mon's timevals, so that it cannot carry other words.
	forDur := strings.TrimSpace(r.PostFormValue("for"))
	if d, err := configfile.ParseTimeval(forDur); forDur != "" && (err != nil || d <= 0 || !isWord(forDur)) {
		http.Error(w, "duration "+strconv.Quote(forDur)+" is not a duration such as 30m, 2h or 1d", http.StatusBadRequest)
		return
	}
	var cmd, line, done string
	switch r.PathValue("action") {
	case "ack":
		cmd, done = "ack", "acknowledged"
		if forDur == "" {
			line = "ack " + g + " " + s + " " + quoteWord(r.PostFormValue("comment"))
		} else {
			// A timed ack takes the rest of the line as its comment as
			// it stands (no quotes, no escapes), as the reason below.
			line = strings.TrimSpace("ack " + g + " " + s + " for " + forDur + " " + oneLine(r.PostFormValue("comment")))
			done += " for " + forDur
		}
	case "disable":
		cmd, line, done = "disable", "disable service "+g+" "+s, "disabled"
		if forDur != "" {
			line, done = line+" for "+forDur, done+" for "+forDur
		}
		if why := oneLine(r.PostFormValue("reason")); why != "" {
			line += " reason " + why // gomon's form (docs/downtimes.md), replayed in a cluster too
		}
	case "enable":
		cmd, line, done = "enable", "enable service "+g+" "+s, "enabled"
	case "test":
		cmd, line, done = "test", "test monitor "+g+" "+s, "monitor started"
	default:
		http.NotFound(w, r)
		return
	}
	user := c.sessions.user(id, time.Now())
	if !c.op.Allowed(user, cmd) {
		who := "nobody logged in"
		if user != "" {
			who = "user " + user
		}
		http.Error(w, fmt.Sprintf("refused: auth.cf does not allow %s to %s", who, cmd), http.StatusForbidden)
		return
	}
	back := "../" + serviceURL(g, s)
	reply := c.op.Exec(user, clientIP(r), line)
	if !strings.HasPrefix(reply, "2") {
		http.Redirect(w, r, back+"&"+url.Values{"error": {reply}}.Encode(), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, back+"&"+url.Values{"done": {done}}.Encode(), http.StatusSeeOther)
}

// isWord reports a non-empty protocol word: no blanks, no control bytes.
func isWord(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// oneLine makes free text the tail of one protocol line: control bytes
// (a line break would end the request) become blanks, and blanks collapse.
func oneLine(text string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, text)), " ")
}

// quoteWord makes free text one protocol word for `ack`, which keeps the
// first shell word of its text and then decodes \xx escapes: in single
// quotes nothing is special but the quote itself, so the quote, the
// backslash and control bytes are sent as \xx.
func quoteWord(text string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '\'' || ch == '\\' || ch < ' ' || ch == 0x7f:
			fmt.Fprintf(&b, `\%02x`, ch)
		default:
			b.WriteByte(ch)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
