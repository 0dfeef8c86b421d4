package dnsupdate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/miekg/dns"
)

// Key is a TSIG key. Its secret never appears in a log line or an error.
type Key struct {
	Name      string // with the final dot
	Algorithm string // miekg/dns's name, e.g. dns.HmacSHA256
	Secret    string // base64
}

// LogValue shows the key without its secret.
func (k *Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", k.Name), slog.String("algorithm", k.Algorithm))
}

// algorithms maps BIND's algorithm names to miekg/dns's.
var algorithms = map[string]string{
	"hmac-md5":    dns.HmacMD5,
	"hmac-sha1":   dns.HmacSHA1,
	"hmac-sha224": dns.HmacSHA224,
	"hmac-sha256": dns.HmacSHA256,
	"hmac-sha384": dns.HmacSHA384,
	"hmac-sha512": dns.HmacSHA512,
}

func newKey(name, algorithm, secret string) (*Key, error) {
	alg, ok := algorithms[strings.TrimSuffix(strings.ToLower(algorithm), ".")]
	if !ok {
		return nil, fmt.Errorf("TSIG algorithm %q: want hmac-sha256, hmac-sha512, hmac-sha384, hmac-sha224, hmac-sha1 or hmac-md5", algorithm)
	}
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return nil, fmt.Errorf("TSIG key name %q is not a domain name", name)
	}
	// The secret is not quoted in the error: only whether it decodes.
	if b, err := base64.StdEncoding.DecodeString(secret); err != nil || len(b) == 0 {
		return nil, fmt.Errorf("TSIG key %q: the secret is not base64", name)
	}
	return &Key{Name: dns.Fqdn(strings.ToLower(name)), Algorithm: alg, Secret: secret}, nil
}

// parseKeySpec reads -k [algorithm:]keyname:secret, nsupdate -y's form.
func parseKeySpec(spec string) (*Key, error) {
	parts := strings.Split(spec, ":")
	switch len(parts) {
	case 2:
		return newKey(parts[0], "hmac-sha256", parts[1])
	case 3:
		return newKey(parts[1], parts[0], parts[2])
	}
	return nil, errors.New("-k: want [algorithm:]keyname:secret")
}

var (
	// BIND's key statement, as tsig-keygen and ddns-confgen write it.
	bindKey       = regexp.MustCompile(`(?s)\bkey\s+"?([^"\s{]+)"?\s*\{(.*?)\}\s*;`)
	bindAlgorithm = regexp.MustCompile(`\balgorithm\s+"?([A-Za-z0-9.-]+)"?\s*;`)
	bindSecret    = regexp.MustCompile(`\bsecret\s+"([^"]+)"\s*;`)
	// dnssec-keygen's K<name>.+<alg>+<id>.private.
	privateName = regexp.MustCompile(`^K(.+)\.\+\d+\+\d+\.private$`)
)

// readKeyFile reads -K: BIND's key file (key "name" { algorithm …;
// secret "…"; };, its first key) or dnssec-keygen's K*.private.
func readKeyFile(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-K: %w", err)
	}
	text := string(b)
	if m := privateName.FindStringSubmatch(filepath.Base(path)); m != nil && strings.Contains(text, "Private-key-format:") {
		return readPrivate(m[1], text)
	}
	m := bindKey.FindStringSubmatch(stripComments(text))
	if m == nil {
		return nil, fmt.Errorf("-K %s: no key statement (key \"name\" { algorithm …; secret \"…\"; };)", path)
	}
	alg := bindAlgorithm.FindStringSubmatch(m[2])
	secret := bindSecret.FindStringSubmatch(m[2])
	if alg == nil || secret == nil {
		return nil, fmt.Errorf("-K %s: key %q needs an algorithm and a secret", path, m[1])
	}
	k, err := newKey(m[1], alg[1], secret[1])
	if err != nil {
		return nil, fmt.Errorf("-K %s: %w", path, err)
	}
	return k, nil
}

// stripComments removes named.conf's comments (/* */, // and #) outside
// quoted strings: a base64 secret may well contain "//".
func stripComments(text string) string {
	var b strings.Builder
	quoted := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '#' || strings.HasPrefix(text[i:], "//"):
			end := strings.IndexByte(text[i:], '\n')
			if end < 0 {
				return b.String()
			}
			i += end - 1 // the newline stays
			continue
		case strings.HasPrefix(text[i:], "/*"):
			end := strings.Index(text[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += 2 + end + 1
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// readPrivate reads the older dnssec-keygen format: "Algorithm: 163
// (HMAC_SHA256)" and "Key: <base64>"; the name is the file's.
func readPrivate(name, text string) (*Key, error) {
	var alg, secret string
	for _, line := range strings.Split(text, "\n") {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(v)
		switch k {
		case "Algorithm":
			if _, paren, ok := strings.Cut(v, "("); ok {
				alg = strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(paren, ")")), "_", "-")
			}
		case "Key":
			secret = v
		}
	}
	if alg == "" || secret == "" {
		return nil, fmt.Errorf("-K: key %q: want Algorithm: and Key: lines", name)
	}
	return newKey(name, alg, secret)
}
