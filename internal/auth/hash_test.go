package auth

import (
	"os/exec"
	"strings"
	"testing"
)

// toolHash runs a system tool that prints a hash and returns the hash,
// skipping the case when the tool is missing.
func toolHash(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (see docs/compat/protocol-auth.md for the test packages)", name)
	}
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	s := strings.TrimSpace(string(out))
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.HasPrefix(name, "htpasswd") {
		s = s[i+1:] // htpasswd -n prints user:hash
	}
	return s
}

func TestVerifyHashSystemTools(t *testing.T) {
	const pw = "s3cret pw"
	tests := []struct {
		name string
		cmd  []string
	}{
		{"openssl md5", []string{"openssl", "passwd", "-1", pw}},
		{"openssl sha256", []string{"openssl", "passwd", "-5", pw}},
		{"openssl sha512", []string{"openssl", "passwd", "-6", pw}},
		{"openssl apr1", []string{"openssl", "passwd", "-apr1", pw}},
		{"htpasswd bcrypt", []string{"htpasswd", "-nbB", "u", pw}},
		{"htpasswd bcrypt cost 5", []string{"htpasswd", "-nbB", "-C", "5", "u", pw}},
		{"htpasswd md5", []string{"htpasswd", "-nbm", "u", pw}},
		{"htpasswd sha1", []string{"htpasswd", "-nbs", "u", pw}},
		{"htpasswd crypt", []string{"htpasswd", "-nbd", "u", pw}},
		{"mkpasswd des", []string{"mkpasswd", "-m", "descrypt", pw}},
		{"mkpasswd md5", []string{"mkpasswd", "-m", "md5crypt", pw}},
		{"mkpasswd sha256 rounds", []string{"mkpasswd", "-m", "sha256crypt", "-R", "1234", pw}},
		{"mkpasswd sha512 rounds", []string{"mkpasswd", "-m", "sha512crypt", "-R", "20000", pw}},
		{"mkpasswd bcrypt-a", []string{"mkpasswd", "-m", "bcrypt-a", pw}},
		{"mkpasswd bcrypt", []string{"mkpasswd", "-m", "bcrypt", pw}},
		{"perl des", []string{"perl", "-e", `print crypt($ARGV[0], "ab")`, pw}},
		{"perl sha512 short salt", []string{"perl", "-e", `print crypt($ARGV[0], '$6$x$')`, pw}},
		{"perl sha256 long salt", []string{"perl", "-e", `print crypt($ARGV[0], '$5$rounds=5000$0123456789abcdefXYZ$')`, pw}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash := toolHash(t, tc.cmd[0], tc.cmd[1:]...)
			if !VerifyHash(pw, hash) {
				t.Errorf("VerifyHash(right password, %q) = false", hash)
			}
			if VerifyHash("X3cret pw", hash) || VerifyHash("", hash) {
				t.Errorf("VerifyHash(wrong password, %q) = true", hash)
			}
		})
	}
}

func TestVerifyHashKnown(t *testing.T) {
	tests := []struct {
		password, hash string
		want           bool
	}{
		{"secret", "zz1T8N4tWvmbE", true},      // auth.md §6
		{"secret", "abNANd1rDfiNc", true},      // auth.md §5
		{"secret12XYZ", "abhv/ZnAzL36k", true}, // DES uses only 8 characters
		{"secret1", "abhv/ZnAzL36k", false},
		{"secret", "secret", false}, // plain text never matches
		{"", "", false},
		{"x", "*", false},
		{"x", "!", false},
		{"x", "$y$j9T$abc$def", false}, // unsupported format
		{"x", "$1$", false},
		{"x", "$5$rounds=x$ab$cd", false},
		{"x", "{SHA}", false},
		{"x", "$2b$04$short", false},
		{"secret", "ab!ANd1rDfiNc", false},
	}
	for _, tc := range tests {
		if got := VerifyHash(tc.password, tc.hash); got != tc.want {
			t.Errorf("VerifyHash(%q, %q) = %v, want %v", tc.password, tc.hash, got, tc.want)
		}
	}
}

// FuzzVerifyHash checks that no stored value makes verification panic.
func FuzzVerifyHash(f *testing.F) {
	for _, s := range []string{"zz1T8N4tWvmbE", "$1$ab$", "$5$rounds=1000$x$y", "$6$$", "$apr1$$", "$2y$04$", "{SHA}===="} {
		f.Add("secret", s)
	}
	f.Fuzz(func(t *testing.T, password, hash string) {
		if strings.Contains(hash, "rounds=") || strings.HasPrefix(hash, "$2") {
			return // large round counts and bcrypt costs are slow by design
		}
		VerifyHash(password, hash)
	})
}
