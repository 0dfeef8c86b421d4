package server

// The web console (internal/web) acts through these methods, so that a
// click is exactly the protocol command it stands for: the same login
// methods and throttle, the same auth.cf check, the same log line, the
// same hand-over to monremote and to the other cluster nodes.

// Login checks a console user's password as `login` does, counting
// failures against ip in the same throttle.
func (srv *Server) Login(user, pass, ip string) bool {
	sess := &session{ip: ip}
	r := srv.cmdLogin(sess, user+" "+pass)
	return sess.authed && r.final == "220 login accepted"
}

// Allowed reports whether auth.cf lets user (empty: nobody logged in)
// run the protocol command cmd.
func (srv *Server) Allowed(user, cmd string) bool {
	acc, _ := srv.access()
	ok, _ := acc.Allowed(user, user != "", cmd)
	return ok
}

// Exec runs one protocol request line for user (empty: nobody logged
// in) coming from ip, and returns the final reply line.
func (srv *Server) Exec(user, ip, line string) string {
	return srv.handle(&session{ip: ip, user: user, authed: user != ""}, line).final
}
