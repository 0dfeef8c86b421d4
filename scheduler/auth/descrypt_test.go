package auth

import (
	"crypto/des"
	"encoding/binary"
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
