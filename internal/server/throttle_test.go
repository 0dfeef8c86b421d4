package server_test

import (
	"testing"
	"time"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
)

// TestLoginThrottle: a source that keeps guessing is refused further
// logins for a while, even with the right password, and without the
// password check being done; after the lockout the right password works.
func TestLoginThrottle(t *testing.T) {
	r := servertest.Start(t, servertest.Config{MonCF: testCF, AuthCF: tableAuth,
		Files: map[string]string{"users": users}, Scripts: testScripts,
		Server: server.Options{LoginBackoff: 300 * time.Millisecond}})
	c := r.Dial(t)
	start := time.Now()
	for range 300 {
		if got := c.Do("login alice wrong"); got[0] != "530 login unsuccessful" {
			t.Fatalf("wrong password: %q", got)
		}
	}
	t.Logf("300 wrong passwords answered in %v", time.Since(start))
	// Within the lockout even the right password is refused, on any
	// connection from the same source.
	if got := r.Dial(t).Do("login alice s3cret"); got[0] != "530 login unsuccessful" {
		t.Errorf("right password during the lockout: %q", got)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if got := c.Do("login alice s3cret"); got[0] == "220 login accepted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lockout never ended")
		}
		time.Sleep(100 * time.Millisecond) // Sleep: the lockout ends by time, not by an event
	}
}
