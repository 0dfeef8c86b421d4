package auth

import (
	"os/exec"
	"strings"
	"testing"
)

// TestYescrypt checks a hash made by the system's own mkpasswd in the
// format Debian uses for /etc/shadow.
func TestYescrypt(t *testing.T) {
	if _, ok := systemCrypt("x", "$6$saltsalt$"); !ok {
		t.Skip("no system crypt(3) (built without cgo, or no libcrypt)")
	}
	out, err := exec.Command("mkpasswd", "-m", "yescrypt", "s3cret w").Output()
	if err != nil {
		t.Skipf("mkpasswd -m yescrypt: %v (apt-get install whois)", err)
	}
	hash := strings.TrimSpace(string(out))
	if !strings.HasPrefix(hash, "$y$") {
		t.Fatalf("mkpasswd made %q", hash)
	}
	if !VerifyHash("s3cret w", hash) {
		t.Errorf("the right password does not match %s", hash)
	}
	for _, wrong := range []string{"s3cret", "", "s3cret w "} {
		if VerifyHash(wrong, hash) {
			t.Errorf("%q matches %s", wrong, hash)
		}
	}
	// A stored value that is not a valid setting never matches, not even
	// itself.
	if VerifyHash("$notahash", "$notahash") {
		t.Error("a plaintext-looking entry matched itself")
	}
}
