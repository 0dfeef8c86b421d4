package auth

import (
	"crypto/des"
	"encoding/binary"
	"encoding/hex"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// With salt ".." the expansion is unchanged, so one round of the DES core
// must agree with crypto/des.
func TestDESCoreMatchesStdlib(t *testing.T) {
	keyBytes := []byte{0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1}
	plain := uint64(0x0123456789ABCDEF)
	var key, in [64]byte
	for i := 0; i < 64; i++ {
		key[i] = keyBytes[i/8] >> (7 - i%8) & 1
		in[i] = byte(plain >> (63 - i) & 1)
	}
	subkeys := desSubkeys(&key)
	e := desE
	out := desEncrypt(in, &subkeys, &e)
	var got uint64
	for _, b := range out {
		got = got<<1 | uint64(b)
	}
	c, err := des.NewCipher(keyBytes)
	if err != nil {
		t.Fatal(err)
	}
	var pb, want [8]byte
	binary.BigEndian.PutUint64(pb[:], plain)
	c.Encrypt(want[:], pb[:])
	if got != binary.BigEndian.Uint64(want[:]) {
		t.Errorf("DES core = %016x, crypto/des = %x", got, want)
	}
}

func TestDESCryptVectors(t *testing.T) {
	// Values printed by perl -e 'print crypt(PASSWORD, SALT)' (glibc).
	tests := []struct{ password, salt, want string }{
		{"secret", "ab", "abNANd1rDfiNc"},
		{"secret", "zz", "zz1T8N4tWvmbE"},
	}
	for _, tc := range tests {
		got, ok := desCrypt(tc.password, tc.salt)
		if !ok || got != tc.want {
			t.Errorf("desCrypt(%q, %q) = %q, %v; want %q", tc.password, tc.salt, got, ok, tc.want)
		}
	}
	if _, ok := desCrypt("x", "a!"); ok {
		t.Error("salt outside the alphabet accepted")
	}
}

// TestDESCryptMatchesPerl compares desCrypt with the system's crypt(3)
// through Perl for many passwords and salts.
func TestDESCryptMatchesPerl(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	var cases []string
	for i := 0; i < 64; i++ {
		pw := strings.Repeat(string(rune('a'+i%26)), i%12) + "\xe9\x01" + strconv.Itoa(i)
		salt := string([]byte{cryptAlphabet[i], cryptAlphabet[(i*7+3)%64]})
		cases = append(cases, hex.EncodeToString([]byte(pw))+" "+salt)
	}
	cmd := exec.Command("perl", "-ne", `chomp; my ($pw, $salt) = split / /; print crypt(pack("H*", $pw), $salt), "\n";`)
	cmd.Stdin = strings.NewReader(strings.Join(cases, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(string(out))
	for i, c := range cases {
		pwHex, salt, _ := strings.Cut(c, " ")
		pw, _ := hex.DecodeString(pwHex)
		if got, _ := desCrypt(string(pw), salt); got != want[i] {
			t.Errorf("desCrypt(%q, %q) = %q, crypt(3) = %q", pw, salt, got, want[i])
		}
	}
}
