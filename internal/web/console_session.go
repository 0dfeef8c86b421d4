package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

const (
	sessionCookie = "gomon_session"
	sessionTTL    = 12 * time.Hour
	maxSessions   = 10000 // logged-in sessions; the oldest go first beyond it
)

// sessions are the console's logins. Every visitor carries a random
// session id in an HttpOnly, SameSite=Strict cookie; the CSRF token of a
// form is an HMAC of that id, so an anonymous visitor costs no memory.
// Only logged-in ids are kept, with their user.
type sessions struct {
	key []byte // HMAC key of the CSRF tokens, new at every start

	mu    sync.Mutex
	users map[string]login
}

type login struct {
	user    string
	expires time.Time
}

func newSessions() *sessions {
	return &sessions{key: []byte(randomID()), users: map[string]login{}}
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// id returns the request's session id, giving the client one if it has
// none yet.
func (s *sessions) id(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) >= 40 {
		return c.Value
	}
	id := randomID()
	setSessionCookie(w, r, id)
	return id
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
}

// token is the CSRF token of the forms of session id.
func (s *sessions) token(id string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// check reports whether a POST carries its session's cookie and that
// session's CSRF token, and returns the session id.
func (s *sessions) check(r *http.Request) (string, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	got := r.PostFormValue("csrf")
	return c.Value, got != "" && hmac.Equal([]byte(got), []byte(s.token(c.Value)))
}

// user returns who is logged in on session id ("" for nobody).
func (s *sessions) user(id string, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.users[id]
	if !ok || now.After(l.expires) {
		delete(s.users, id)
		return ""
	}
	return l.user
}

// login starts a logged-in session for user under a fresh id (so that an
// id planted before the login is worth nothing) and sets its cookie.
func (s *sessions) login(w http.ResponseWriter, r *http.Request, user string, now time.Time) {
	id := randomID()
	s.mu.Lock()
	for k, l := range s.users {
		if now.After(l.expires) {
			delete(s.users, k)
		}
	}
	for len(s.users) >= maxSessions {
		var oldest string
		for k, l := range s.users {
			if oldest == "" || l.expires.Before(s.users[oldest].expires) {
				oldest = k
			}
		}
		delete(s.users, oldest)
	}
	s.users[id] = login{user: user, expires: now.Add(sessionTTL)}
	s.mu.Unlock()
	setSessionCookie(w, r, id)
}

// logout ends session id.
func (s *sessions) logout(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}
