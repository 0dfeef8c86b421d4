package auth

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newTestAuth(t *testing.T, methods []string, userFile string) (*Authenticator, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	a, err := NewAuthenticator(methods, userFile, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a, &logs
}

func TestLoginUserFile(t *testing.T) {
	dir := t.TempDir()
	apr1 := toolHash(t, "openssl", "passwd", "-apr1", "pw2")
	uf := writeFile(t, dir, "userfile", "# users\n\n  # indented comment\nadmin:abNANd1rDfiNc\n"+
		"other : "+apr1+"\r\n"+
		"plain:secret\n"+
		"dup:abNANd1rDfiNc\ndup:abhv/ZnAzL36k\n"+
		"nocolon\n")
	a, logs := newTestAuth(t, []string{"userfile"}, uf)
	tests := []struct {
		user, pass string
		want       bool
	}{
		{"admin", "secret", true},
		{"admin", "wrong", false},
		{"other", "pw2", true}, // blanks around ':' and a CRLF line end
		{"plain", "secret", false},
		{"nobody", "x", false},
		{"dup", "secret12", true}, // the later line wins
		{"dup", "secret", false},
		{"nocolon", "", false},
		{"", "secret", false},
		{"admin", "", false},
	}
	for _, tc := range tests {
		if got := a.Login(tc.user, tc.pass, "127.0.0.1"); got != tc.want {
			t.Errorf("Login(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.want)
		}
	}
	for _, msg := range []string{"User 'nobody' not in file '" + uf + "'", "User 'admin' gave bad password", "an undef username or password supplied", "authenticated admin"} {
		if !strings.Contains(logs.String(), msg) {
			t.Errorf("log lacks %q:\n%s", msg, logs)
		}
	}
	for _, secret := range []string{"wrong", "secret", "abNANd1rDfiNc", apr1} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains a password or hash %q", secret)
		}
	}

	// The file is read on every attempt.
	writeFile(t, dir, "userfile", "admin:zz1T8N4tWvmbE\n")
	if !a.Login("admin", "secret", "") {
		t.Error("changed userfile not picked up")
	}
	os.Remove(uf)
	logs.Reset()
	if a.Login("admin", "secret", "") || !strings.Contains(logs.String(), "could not open user file '"+uf+"': no such file or directory") {
		t.Errorf("missing userfile: %s", logs)
	}
}

func TestLoginGetpwnam(t *testing.T) {
	dir := t.TempDir()
	sha := toolHash(t, "openssl", "passwd", "-6", "syspw")
	a, _ := newTestAuth(t, []string{"getpwnam"}, "")
	a.passwdFile = writeFile(t, dir, "passwd", "root:x:0:0:root:/root:/bin/bash\nold:abNANd1rDfiNc:1:1::/:/bin/sh\nshadowed:x:2:2::/:/bin/sh\nnoshadow:x:3:3::/:/bin/sh\n")
	a.shadowFile = writeFile(t, dir, "shadow", "shadowed:"+sha+":19000:0:99999:7:::\nnotinpasswd:"+sha+":1::::::\nnoshadow:!:1::::::\n")
	tests := []struct {
		user, pass string
		want       bool
	}{
		{"shadowed", "syspw", true},
		{"shadowed", "x", false},
		{"old", "secret", true}, // hash in /etc/passwd itself
		{"noshadow", "x", false},
		{"notinpasswd", "syspw", false}, // getpwnam finds no such user
		{"root", "x", false},
	}
	for _, tc := range tests {
		if got := a.Login(tc.user, tc.pass, ""); got != tc.want {
			t.Errorf("Login(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.want)
		}
	}
	// Without a readable shadow file the passwd field is used ("x" never matches).
	a.shadowFile = filepath.Join(dir, "missing")
	if a.Login("shadowed", "syspw", "") || !a.Login("old", "secret", "") {
		t.Error("fallback to /etc/passwd")
	}
}

func TestLoginTrustLocalAndOrder(t *testing.T) {
	uf := writeFile(t, t.TempDir(), "userfile", "admin:abNANd1rDfiNc\n")
	a, _ := newTestAuth(t, []string{"userfile", "trustlocal"}, uf)
	if !a.Login("admin", "secret", "10.1.1.1") {
		t.Error("first method should succeed")
	}
	if !a.Login("anyone", "", "127.0.0.1") {
		t.Error("trustlocal from 127.0.0.1 with an empty password")
	}
	for _, ip := range []string{"127.0.0.2", "::1", "10.1.1.1", ""} {
		if a.Login("anyone", "x", ip) {
			t.Errorf("trustlocal accepted %q", ip)
		}
	}
	if a.Login("", "", "127.0.0.1") {
		t.Error("empty user accepted")
	}
}

func TestNewAuthenticatorMethods(t *testing.T) {
	for _, tc := range []struct {
		methods []string
		errPart string
	}{
		{nil, ""},
		{[]string{"getpwnam", "shadow", "trustlocal"}, ""},
		{[]string{"pam"}, "pam is not supported"},
		{[]string{"getpwnam", "kerberos"}, "authentication type 'kerberos' not known"},
		{[]string{"userfile"}, "needs a userfile"},
	} {
		a, err := NewAuthenticator(tc.methods, "", nil)
		if tc.errPart == "" && err != nil || tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)) {
			t.Errorf("NewAuthenticator(%q) = %v, want error containing %q", tc.methods, err, tc.errPart)
		}
		if err == nil && tc.methods == nil && (len(a.methods) != 1 || a.methods[0] != MethodGetpwnam) {
			t.Errorf("default methods = %q", a.methods)
		}
	}
	a, _ := NewAuthenticator([]string{"shadow"}, "", nil)
	if len(a.methods) != 1 || a.methods[0] != MethodGetpwnam {
		t.Errorf("shadow is an alias of getpwnam: %q", a.methods)
	}
}
