package server

// Session is a client session for tests that drive the request handler
// directly (FuzzHandle).
type Session = session

// NewSession returns a fresh, unauthenticated session from ip.
func NewSession(ip string) *Session { return &session{ip: ip} }

// Handle runs one request line and returns the reply as written; silent
// is true when the command sends no reply at all.
func (srv *Server) Handle(sess *Session, line string) (data []string, final string, silent bool) {
	r := srv.handle(sess, line)
	return r.data, r.final, r.silent
}

// OpstatusCached reports whether `list opstatus` would be answered from
// the cache for sess right now.
func (srv *Server) OpstatusCached(sess *Session) bool {
	_, hit := srv.opstatus.get(sess.view, srv.sched.StateVersion(), srv.sched.Now())
	return hit
}

// ForgetOpstatus empties the `list opstatus` cache.
func (srv *Server) ForgetOpstatus() {
	srv.opstatus.mu.Lock()
	defer srv.opstatus.mu.Unlock()
	srv.opstatus.r = reply{}
}
