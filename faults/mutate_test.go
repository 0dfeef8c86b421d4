package faults

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// mutation changes a configuration file's bytes and says how.
type mutation func(rng *rand.Rand, b []byte) ([]byte, string)

// mutations are the ways a file is damaged: lines deleted, duplicated or
// swapped, bits flipped, control bytes and very long lines inserted, the
// file cut short.
var mutations = []mutation{
	deleteLine, duplicateLine, swapLines, flipBit, insertControl, insertLongLine, truncate,
}

// mutate applies one to three random mutations.
func mutate(rng *rand.Rand, seed []byte) ([]byte, []string) {
	b := bytes.Clone(seed)
	var how []string
	for range 1 + rng.IntN(3) {
		var what string
		b, what = mutations[rng.IntN(len(mutations))](rng, b)
		how = append(how, what)
	}
	return b, how
}

// lines splits b after each line end; the last line may have none.
func lines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func join(ls [][]byte) []byte { return bytes.Join(ls, nil) }

func deleteLine(rng *rand.Rand, b []byte) ([]byte, string) {
	ls := lines(b)
	if len(ls) == 0 {
		return b, "delete (empty file)"
	}
	i := rng.IntN(len(ls))
	return join(append(ls[:i:i], ls[i+1:]...)), fmt.Sprintf("delete line %d", i+1)
}

func duplicateLine(rng *rand.Rand, b []byte) ([]byte, string) {
	ls := lines(b)
	if len(ls) == 0 {
		return b, "duplicate (empty file)"
	}
	i := rng.IntN(len(ls))
	out := append(ls[:i+1:i+1], ls[i:]...)
	return join(out), fmt.Sprintf("duplicate line %d", i+1)
}

func swapLines(rng *rand.Rand, b []byte) ([]byte, string) {
	ls := lines(b)
	if len(ls) < 2 {
		return b, "swap (one line)"
	}
	i, j := rng.IntN(len(ls)), rng.IntN(len(ls))
	ls[i], ls[j] = ls[j], ls[i]
	return join(ls), fmt.Sprintf("swap lines %d and %d", i+1, j+1)
}

func flipBit(rng *rand.Rand, b []byte) ([]byte, string) {
	if len(b) == 0 {
		return b, "flip (empty file)"
	}
	i, bit := rng.IntN(len(b)), rng.IntN(8)
	b[i] ^= 1 << bit
	return b, fmt.Sprintf("flip bit %d of byte %d", bit, i)
}

func insertControl(rng *rand.Rand, b []byte) ([]byte, string) {
	c := byte(rng.IntN(32))
	if rng.IntN(8) == 0 {
		c = 0x7f
	}
	i := rng.IntN(len(b) + 1)
	return append(b[:i:i], append([]byte{c}, b[i:]...)...), fmt.Sprintf("insert byte %#02x at %d", c, i)
}

// insertLongLine inserts a line of 5 KiB to 1 MiB: a hostgroup of many
// hosts, a service keyword with a long argument, or one long word.
func insertLongLine(rng *rand.Rand, b []byte) ([]byte, string) {
	n := []int{5 << 10, 70 << 10, 1<<20 + 1}[rng.IntN(3)]
	var l string
	switch rng.IntN(4) {
	case 0:
		l = "hostgroup long" + strings.Repeat(" h", n/2)
	case 1:
		l = "        monitor ok.monitor " + strings.Repeat("x", n)
	case 2:
		l = "    service " + strings.Repeat("s", n)
	default:
		l = strings.Repeat("#", n)
	}
	ls := lines(b)
	i := rng.IntN(len(ls) + 1)
	out := append(ls[:i:i], append([][]byte{[]byte(l + "\n")}, ls[i:]...)...)
	return join(out), fmt.Sprintf("insert a %d-byte line before line %d", len(l), i+1)
}

func truncate(rng *rand.Rand, b []byte) ([]byte, string) {
	i := rng.IntN(len(b) + 1)
	return b[:i], fmt.Sprintf("cut at byte %d of %d", i, len(b))
}

// TestMutate checks the mutations on small and empty inputs: no panic,
// and each says what it did.
func TestMutate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seed := range []string{"", "x", "a\nb", "a\nb\nc\n", "\n\n\n"} {
		for i, m := range mutations {
			for range 20 {
				out, what := m(rng, []byte(seed))
				if what == "" {
					t.Errorf("mutation %d on %q: no description", i, seed)
				}
				if len(out) > len(seed)+1<<20+100 {
					t.Errorf("mutation %d on %q: %d bytes", i, seed, len(out))
				}
			}
		}
	}
	a, _ := mutate(rand.New(rand.NewPCG(7, 7)), []byte("one\ntwo\nthree\n"))
	b, _ := mutate(rand.New(rand.NewPCG(7, 7)), []byte("one\ntwo\nthree\n"))
	if !bytes.Equal(a, b) {
		t.Error("the same seed mutated differently")
	}
	if got, _ := deleteLine(rand.New(rand.NewPCG(0, 0)), []byte("only\n")); len(got) != 0 {
		t.Errorf("deleting the only line left %q", got)
	}
	if got, _ := duplicateLine(rand.New(rand.NewPCG(0, 0)), []byte("only\n")); string(got) != "only\nonly\n" {
		t.Errorf("duplicating the only line gave %q", got)
	}
}
