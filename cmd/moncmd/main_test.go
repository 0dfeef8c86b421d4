package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/await"
	"github.com/gomon/gomon/internal/server/servertest"
)

// TestMain lets the test binary act as moncmd when re-executed with
// GOMON_MONCMD=1, so the tests run the real program without a build step.
func TestMain(m *testing.M) {
	if os.Getenv("GOMON_MONCMD") == "1" {
		main()
	}
	os.Exit(m.Run())
}

const realMoncmd = "/usr/bin/moncmd"

const monCF = `hostgroup g1 h1 h2 h3

watch g1
    service s1
        description first service
        interval 1h
        monitor ok.monitor
        period wd {Sun-Sat}
            alert true.alert
    service s2
        interval 1h
        monitor ok.monitor
`

const authCF = `command section
list: all
get: all
checkauth: all
disable: admin
enable: admin
stop: AUTH_ANY

trap section
127.0.0.1 monuser zz1T8N4tWvmbE
`

// userFile holds admin / s3cret (DES crypt).
const userFile = "admin:Ab2AFc/ztMufY\n"

func startServer(t *testing.T) *servertest.Rig {
	return servertest.Start(t, servertest.Config{
		MonCF:   "authtype = userfile\nuserfile = DIR/users\n\n" + monCF,
		AuthCF:  authCF,
		Files:   map[string]string{"users": userFile},
		Scripts: map[string]string{"ok.monitor": "exit 0\n", "true.alert": "exit 0\n"},
	})
}

// result is what one moncmd run produced.
type result struct {
	stdout, stderr string
	status         int
}

// moncmd runs a moncmd program (ours when prog is "", else prog) with
// stdin and extra environment.
func moncmd(t *testing.T, prog, stdin string, env []string, args ...string) result {
	t.Helper()
	var cmd *exec.Cmd
	if prog == "" {
		cmd = exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), "GOMON_MONCMD=1")
	} else {
		cmd = exec.Command(prog, args...)
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %q: %v", prog, args, err)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

func needReal(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(realMoncmd); err != nil {
		t.Skip("real moncmd not installed (apt-get install mon-client): " + err.Error())
	}
}

// TestSameAsRealMoncmd runs the same invocations through the original
// moncmd and ours against one gomon server and compares stdout and the
// exit status byte for byte.
func TestSameAsRealMoncmd(t *testing.T) {
	needReal(t)
	r := startServer(t)
	cmdFile := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(cmdFile, []byte("list watch\nlist group g1\n\nget g1 s1 interval\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := []string{"-s", "127.0.0.1", "-p", r.Port()}
	cases := []struct {
		name  string
		stdin string
		env   []string
		args  []string
	}{
		{"version", "", nil, append(p, "version")},
		{"args joined", "", nil, append(p, "list", "group", "g1")},
		{"data lines", "", nil, append(p, "list descriptions")},
		{"unknown command", "", nil, append(p, "frobnicate")},
		{"denied", "", nil, append(p, "disable", "host", "h1")},
		{"checkauth", "", nil, append(p, "checkauth", "list")},
		{"empty command", "", nil, append(p, "")},
		{"bundled options", "", nil, []string{"-rdp", r.Port(), "-s127.0.0.1", "list", "watch"}},
		{"unknown option", "", nil, append([]string{"-z"}, append(p, "version")...)},
		{"MONHOST", "", []string{"MONHOST=127.0.0.1"}, []string{"-p", r.Port(), "list", "state"}},
		{"batch stdin", "version\n\nlist group g1\nlist\nget g1 s1 description\n", nil, p},
		{"batch CRLF and no final LF", "version\r\nlist watch", nil, p},
		{"file", "", nil, append(p, "-f", cmdFile)},
		{"file from stdin", "list group g1\n", nil, append(p, "-f", "-")},
		{"login batch", "pass=s3cret\nskipped by moncmd\ndisable host h2\nlist disabled\nenable host h2\nlist disabled\n", nil,
			append(p, "-a", "-l", "admin")},
		{"login fails", "pass=wrong\n\nlist watch\n", nil, append(p, "-a", "-l", "admin")},
		{"login without password", "", nil, append(p, "-a", "-l", "admin", "version")},
		{"no server", "", nil, []string{"-s", "127.0.0.1", "-p", "1", "version"}},
		{"unknown host", "", nil, []string{"-s", "no-such-host.invalid", "-p", r.Port(), "version"}},
		{"missing file", "", nil, append(p, "-f", "/nonexistent/cmds")},
	}
	// Here the original dies with a leftover errno as its status (25,
	// 29…); ours exits 255. Only "non-zero" must match.
	errnoStatus := map[string]bool{"login fails": true, "login without password": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := moncmd(t, realMoncmd, c.stdin, c.env, c.args...)
			got := moncmd(t, "", c.stdin, c.env, c.args...)
			if got.stdout != want.stdout {
				t.Errorf("stdout differs\n got: %q\nwant: %q", got.stdout, want.stdout)
			}
			if errnoStatus[c.name] && got.status != 0 && want.status != 0 {
				got.status = want.status
			}
			if got.status != want.status {
				t.Errorf("exit status %d, want %d (stderr %q, real %q)", got.status, want.status, got.stderr, want.stderr)
			}
			if firstLine(got.stderr) != firstLine(want.stderr) {
				t.Errorf("stderr %q, want %q", got.stderr, want.stderr)
			}
		})
	}
}

// TestBatchAfterQuit: when the server closes the connection (after quit
// or term), moncmd stops reading commands. The original is then killed
// by SIGPIPE while sending its own final quit and loses its buffered
// output; ours prints what it got and exits 0.
func TestBatchAfterQuit(t *testing.T) {
	r := startServer(t)
	got := moncmd(t, "", "version\nquit\nlist watch\n", nil, "-s", "127.0.0.1", "-p", r.Port())
	want := "version 9745\n220 version completed\n220 quitting\n"
	if got.stdout != want || got.status != 0 {
		t.Fatalf("got %+v, want stdout %q and status 0", got, want)
	}
}

// firstLine drops Perl's trailing noise (warnings) from stderr.
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestMONPASS checks gomon's extension: -a takes the password from
// $MONPASS, so a command-line command can be authenticated.
func TestMONPASS(t *testing.T) {
	r := startServer(t)
	got := moncmd(t, "", "", []string{"MONPASS=s3cret"}, "-s", "127.0.0.1", "-p", r.Port(), "-a", "-l", "admin", "disable", "host", "h3")
	if got.stdout != "220 disable host completed\n" || got.status != 0 {
		t.Fatalf("got %+v", got)
	}
	got = moncmd(t, "", "", []string{"MONPASS=nope"}, "-s", "127.0.0.1", "-p", r.Port(), "-a", "-l", "admin", "list", "disabled")
	if got.stdout != "" || got.stderr != "Could not authenticate\n" || got.status != 255 {
		t.Fatalf("got %+v", got)
	}
}

// TestTrap sends traps with `moncmd trap` to the server's UDP port: the
// trap section accepts only monuser/secret from 127.0.0.1.
func TestTrap(t *testing.T) {
	r := startServer(t)
	ask := func() string {
		return moncmd(t, "", "", nil, "-s", "127.0.0.1", "-p", r.Port(), "get", "g1", "s2", "_last_summary").stdout
	}
	send := func(args ...string) {
		t.Helper()
		res := moncmd(t, "", "", nil, append([]string{"trap", "-p", r.TrapPort(), "-g", "g1", "-s", "s2"}, args...)...)
		if res.status != 0 {
			t.Fatalf("moncmd trap %q: %+v", args, res)
		}
	}
	send("-r", "1", "-S", "no credentials", "127.0.0.1")
	send("-r", "1", "-U", "monuser", "-P", "wrong", "-S", "bad password", "127.0.0.1")
	send("-r", "1", "-U", "monuser", "-P", "secret", "-S", "it broke", "-D", "line 1\nline 2", "127.0.0.1")
	// moncmd returns once the datagram is sent; the server applies the
	// trap when it reads it.
	r.Await(t, "the authenticated trap", func() bool {
		st, err := r.Sched.StatusOf("g1", "s2")
		return err == nil && st.State.LastSummary == "it broke"
	})
	want := "g1 s2 _last_summary='it\\20broke'\n220 get completed\n"
	if got := ask(); got != want {
		t.Fatalf("after the good trap: %q, want %q", got, want)
	}
	st, err := r.Sched.StatusOf("g1", "s2")
	if err != nil {
		t.Fatal(err)
	}
	if st.State.LastSummary != "it broke" || st.State.ExitVal != 1 || !st.State.OpStatus.IsFailure() {
		t.Fatalf("state after trap: %+v", st.State)
	}
	// The two refused traps came first and left no trace.
	if h := r.Sched.FailureHistory(); len(h) != 1 {
		t.Fatalf("failure history %q, want only the authenticated trap", h)
	}
}

func TestTrapUsage(t *testing.T) {
	for _, args := range [][]string{
		{"trap"},
		{"trap", "-g", "g", "-s", "s"},
		{"trap", "-g", "g", "-s", "s", "-r", "-1"},
		{"trap", "-g", "g", "-s", "s", "-r", "1", "-o", "bogus"},
	} {
		if res := moncmd(t, "", "", nil, args...); res.status != 2 || res.stderr == "" {
			t.Errorf("%q: %+v, want status 2 and a message", args, res)
		}
	}
}

// TestPasswordPrompt runs moncmd -a on a terminal (a pty made by
// script(1)): it prompts "Password: " on stdout, turns echo off while the
// password is typed, then logs in.
func TestPasswordPrompt(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) not installed (apt-get install bsdutils)")
	}
	r := startServer(t)
	cmd := exec.Command(script, "-qec", strings.Join([]string{os.Args[0], "-a", "-l", "admin", "-s", "127.0.0.1", "-p", r.Port(),
		"disable", "host", "h2"}, " "), "/dev/null")
	cmd.Env = append(os.Environ(), "GOMON_MONCMD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out await.Output
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), servertest.Timeout)
	defer cancel()
	if err := out.Contains(ctx, "Password: "); err != nil {
		t.Fatalf("no prompt: %v, output %q", err, out.String())
	}
	stdin.Write([]byte("s3cret\n"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("moncmd: %v, output %q", err, out.String())
		}
	case <-time.After(servertest.Timeout):
		t.Fatalf("moncmd did not finish, output %q", out.String())
	}
	t.Logf("terminal output %q", out.String())
	_, after, _ := strings.Cut(out.String(), "Password: ")
	if strings.Contains(after, "s3cret") {
		t.Errorf("password echoed: %q", out.String())
	}
	if !strings.Contains(after, "220 disable host completed") {
		t.Errorf("login or command failed: %q", out.String())
	}
}
