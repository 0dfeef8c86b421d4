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
