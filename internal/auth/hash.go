package auth

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/GehirnInc/crypt"
	"github.com/GehirnInc/crypt/apr1_crypt"
	"github.com/GehirnInc/crypt/md5_crypt"
	"github.com/GehirnInc/crypt/sha256_crypt"
	"github.com/GehirnInc/crypt/sha512_crypt"
	"golang.org/x/crypto/bcrypt"
)

// HashFormats names the stored password formats VerifyHash understands,
// for documentation and error messages.
const HashFormats = "DES crypt, $1$ (MD5), $5$ (SHA-256), $6$ (SHA-512), $2a$/$2b$/$2y$ (bcrypt), $apr1$, {SHA}"

// VerifyHash reports whether password matches the stored hash. Stored
// values in no supported format never match, so a plain-text password
// in a user file can not be accepted by accident. Comparisons are
// constant-time.
func VerifyHash(password, hash string) bool {
	switch {
	case strings.HasPrefix(hash, "$1$"):
		return verifyCrypter(md5_crypt.New(), hash, password)
	case strings.HasPrefix(hash, "$5$"):
		return verifyCrypter(sha256_crypt.New(), hash, password)
	case strings.HasPrefix(hash, "$6$"):
		return verifyCrypter(sha512_crypt.New(), hash, password)
	case strings.HasPrefix(hash, "$apr1$"):
		return verifyCrypter(apr1_crypt.New(), hash, password)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	case strings.HasPrefix(hash, "{SHA}"):
		sum := sha1.Sum([]byte(password))
		return constantTimeEqual(base64.StdEncoding.EncodeToString(sum[:]), hash[len("{SHA}"):])
	case strings.HasPrefix(hash, "$"):
		// Other crypt(3) formats, notably yescrypt ($y$), Debian's default
		// for /etc/shadow, are checked by the system's libcrypt.
		got, ok := systemCrypt(password, hash)
		return ok && constantTimeEqual(got, hash)
	case isDESHash(hash):
		got, ok := desCrypt(password, hash[:2])
		return ok && constantTimeEqual(got, hash)
	}
	return false
}

func verifyCrypter(c crypt.Crypter, hash, password string) bool {
	// The crypter recomputes the hash with the stored salt and rounds and
	// compares in constant time.
	return c.Verify(hash, []byte(password)) == nil
}

// isDESHash reports whether s looks like a traditional DES crypt hash:
// exactly 13 characters from the crypt alphabet.
func isDESHash(s string) bool {
	if len(s) != 13 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if indexAlphabet(s[i]) < 0 {
			return false
		}
	}
	return true
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
