package auth

// Traditional Unix DES crypt(3): the password (first 8 bytes, 7 bits
// each) is the DES key, a zero block is encrypted 25 times with the
// expansion table perturbed by the 12-bit salt, and the result is
// encoded as 11 characters after the 2 salt characters. Neither the
// standard library nor x/crypto offers it, so it is written out here
// bit by bit after FIPS 46; speed does not matter for logins.

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// All tables use 1-based bit numbers, as printed in FIPS 46.
var (
	desIP = [64]byte{
		58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
		62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
		57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
		61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
	}
	desFP = [64]byte{
		40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
		38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
		36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
		34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
	}
	desE = [48]byte{
		32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13,
		12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
		24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
	}
	desP = [32]byte{
		16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
		2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
	}
	desPC1 = [56]byte{
		57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
		10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
		63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
		14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
	}
	desPC2 = [48]byte{
		14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
		23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
		41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
		44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
	}
	desShifts = [16]int{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}
	desS      = [8][64]byte{
		{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
			0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
			4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
			15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
		{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
			3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
			0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
			13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
		{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
			13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
			13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
			1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
		{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
			13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
			10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
			3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
		{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
			14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
			4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
			11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
		{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
			10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
			9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
			4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
		{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
			13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
			1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
			6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
		{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
			1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
			7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
			2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
	}
)

// desCrypt returns crypt(password, salt) for a 2-character salt from
// cryptAlphabet. ok is false for any other salt.
func desCrypt(password, salt string) (hash string, ok bool) {
	if len(salt) != 2 {
		return "", false
	}
	e := desE
	for i := 0; i < 2; i++ {
		v := indexAlphabet(salt[i])
		if v < 0 {
			return "", false
		}
		// Each set salt bit swaps two expansion outputs.
		for j := 0; j < 6; j++ {
			if v>>j&1 == 1 {
				k := 6*i + j
				e[k], e[k+24] = e[k+24], e[k]
			}
		}
	}

	var key [64]byte // one bit per byte; the low (parity) bit of each byte stays 0
	for i := 0; i < 8 && i < len(password); i++ {
		for j := 0; j < 7; j++ {
			key[8*i+j] = password[i] >> (6 - j) & 1
		}
	}
	subkeys := desSubkeys(&key)

	var block [66]byte // 64 bits of data plus two zero bits for the encoding
	for i := 0; i < 25; i++ {
		var b [64]byte
		copy(b[:], block[:64])
		b = desEncrypt(b, &subkeys, &e)
		copy(block[:64], b[:])
	}

	out := []byte(salt)
	for i := 0; i < 11; i++ {
		c := 0
		for j := 0; j < 6; j++ {
			c = c<<1 | int(block[6*i+j])
		}
		out = append(out, cryptAlphabet[c])
	}
	return string(out), true
}

func indexAlphabet(c byte) int {
	for i := 0; i < len(cryptAlphabet); i++ {
		if cryptAlphabet[i] == c {
			return i
		}
	}
	return -1
}

// desSubkeys derives the 16 round keys from a 64-bit key.
func desSubkeys(key *[64]byte) (subkeys [16][48]byte) {
	var cd [56]byte
	for i, p := range desPC1 {
		cd[i] = key[p-1]
	}
	for round, n := range desShifts {
		for ; n > 0; n-- {
			// Rotate both 28-bit halves left by one.
			c0, d0 := cd[0], cd[28]
			copy(cd[0:27], cd[1:28])
			copy(cd[28:55], cd[29:56])
			cd[27], cd[55] = c0, d0
		}
		for i, p := range desPC2 {
			subkeys[round][i] = cd[p-1]
		}
	}
	return subkeys
}

// desEncrypt encrypts one 64-bit block with the given round keys and
// expansion table.
func desEncrypt(in [64]byte, subkeys *[16][48]byte, e *[48]byte) (out [64]byte) {
	var lr [64]byte
	for i, p := range desIP {
		lr[i] = in[p-1]
	}
	l, r := lr[:32], lr[32:]
	for round := 0; round < 16; round++ {
		f := desF(r, &subkeys[round], e)
		var newR [32]byte
		for i := range newR {
			newR[i] = l[i] ^ f[i]
		}
		copy(l, r)
		copy(r, newR[:])
	}
	// The output is R16 L16.
	var rl [64]byte
	copy(rl[:32], r)
	copy(rl[32:], l)
	for i, p := range desFP {
		out[i] = rl[p-1]
	}
	return out
}

// desF is the DES round function.
func desF(r []byte, k *[48]byte, e *[48]byte) (f [32]byte) {
	var x [48]byte
	for i, p := range e {
		x[i] = r[p-1] ^ k[i]
	}
	var s [32]byte
	for box := 0; box < 8; box++ {
		b := x[6*box : 6*box+6]
		row := b[0]<<1 | b[5]
		col := b[1]<<3 | b[2]<<2 | b[3]<<1 | b[4]
		v := desS[box][16*row+col]
		for j := 0; j < 4; j++ {
			s[4*box+j] = v >> (3 - j) & 1
		}
	}
	for i, p := range desP {
		f[i] = s[p-1]
	}
	return f
}
