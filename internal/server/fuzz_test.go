package server_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gomon/gomon/internal/server"
	"github.com/gomon/gomon/internal/server/servertest"
)

var finalRE = regexp.MustCompile(`^\d{3} `)

// FuzzHandle feeds arbitrary request lines to a session of a running
// server (every command allowed): the handler must never panic, every
// reply must end with a "DDD " line and no data line may contain a line
// break. Seeds: testdata/fuzz/FuzzHandle.
func FuzzHandle(f *testing.F) {
	r := servertest.Start(f, servertest.Config{MonCF: testCF, Files: map[string]string{"users": users},
		Scripts: testScripts})
	for _, s := range []string{"version", "list opstatus g1,s1 g1,nosuch", "ack g1 s2 'a\\20b'",
		"set g1 s1 opstatus 'fail'", "disable host h1 h.", "test alert g1 s1 1 wd {Sun-Sat}",
		"list decisions g1 s2", "get g1 s1 interval", "clear timers g1 s1", "setview v1", "list deps"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		// A line never contains CR or LF: the reader splits there.
		line = strings.NewReplacer("\r", "", "\n", "").Replace(line)
		for _, w := range []string{"term", "reset", "stop", "loadstate", "test config"} {
			// Commands that restart or stop the shared scheduler are
			// covered by the table test; here they would only slow the
			// fuzzer down.
			if strings.HasPrefix(strings.ToLower(line), w) {
				return
			}
		}
		sess := server.NewSession("127.0.0.1")
		data, final, silent := r.Server.Handle(sess, line)
		if silent {
			return
		}
		if !finalRE.MatchString(final) || strings.ContainsAny(final, "\r\n") {
			t.Fatalf("%q: final line %q", line, final)
		}
		for _, d := range data {
			if strings.ContainsAny(d, "\r\n") {
				t.Fatalf("%q: data line %q contains a line break", line, d)
			}
		}
	})
}
