// Package conformance runs the mon conformance scenarios against a
// mon-compatible daemon and compares the normalized transcripts with the
// ones recorded from the original mon 1.3.6.
//
// The package holds only tests: the step interpreter and the normalization
// are a Go port of the reference harness (runner.pl) and must stay
// behaviour-identical to it, because the golden transcripts were produced by
// that harness. The scenarios, golden transcripts and helper scripts live in
// ../testdata/conformance. See docs/compat/conformance.md for how to run the
// suite and how deliberate deviations from mon are recorded.
package conformance
