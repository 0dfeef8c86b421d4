package configfile

import (
	"errors"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var timevalRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)([dhmsDHMS])$`)

var unitSeconds = map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400}

// parseTimeval parses mon's duration syntax (config.md §4): digits with an
// optional fraction and a mandatory unit s/m/h/d, blanks around allowed.
// The conversion is exact to the nanosecond; values too large for a
// time.Duration are rejected.
func parseTimeval(s string) (time.Duration, bool) {
	s = trimSpace(s)
	if d, ok := wholeTimeval(s); ok {
		return d, true
	}
	m := timevalRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	r, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, false
	}
	unit := unitSeconds[strings.ToLower(m[2])[0]]
	r.Mul(r, new(big.Rat).SetInt64(unit*int64(time.Second)))
	// Round half up to whole nanoseconds.
	r.Add(r, big.NewRat(1, 2))
	ns := new(big.Int).Quo(r.Num(), r.Denom())
	if !ns.IsInt64() {
		return 0, false
	}
	return time.Duration(ns.Int64()), true
}

// shownTimeval is what mon prints in an error for a failed or zero
// conversion: the converted value, "" or "0" (Q-CFG-9).
func shownTimeval(ok bool) string {
	if ok {
		return "0"
	}
	return ""
}

// formatTimeval renders d in the largest unit that represents it exactly,
// so that parseTimeval(formatTimeval(d)) == d.
func formatTimeval(d time.Duration) string {
	for _, u := range []struct {
		suffix string
		size   time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if d != 0 && d%u.size == 0 {
			return strconv.FormatInt(int64(d/u.size), 10) + u.suffix
		}
	}
	sec := new(big.Rat).SetFrac64(int64(d), int64(time.Second))
	return strings.TrimSuffix(strings.TrimRight(sec.FloatString(9), "0"), ".") + "s"
}

// perlNumber returns the numeric value Perl gives a string: leading
// blanks, an optional sign, digits, an optional fraction and exponent;
// anything after that is ignored, and no number at all is 0.
func perlNumber(s string) float64 {
	m := perlNumberRE.FindString(trimLeft(s))
	if m == "" {
		return 0
	}
	f, err := strconv.ParseFloat(m, 64)
	if err != nil {
		return math.Inf(1)
	}
	return f
}

var perlNumberRE = regexp.MustCompile(`^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`)

// ParseTimeval parses mon's duration syntax: digits with an optional
// fraction and a unit, as in `30s`, `5m`, `1.5h`, `1d`.
func ParseTimeval(s string) (time.Duration, error) {
	d, ok := parseTimeval(s)
	if !ok {
		return 0, errors.New("bad time value '" + s + "' (syntax: {number}{s|m|h|d})")
	}
	return d, nil
}

// wholeTimeval is parseTimeval's fast path for the common form, a whole
// number and a unit ("10s"): a configuration of 100,000 services has as
// many, and the regular expression and big.Rat cost most of its parse.
// Anything else (fractions, overflow) is left to the general path.
func wholeTimeval(s string) (time.Duration, bool) {
	if len(s) < 2 || len(s) > 12 {
		return 0, false
	}
	unit, ok := unitSeconds[s[len(s)-1]|0x20]
	if !ok {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s)-1; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	// At most 11 digits: n*unit*1e9 stays within int64 only below this.
	if n > math.MaxInt64/int64(time.Second)/unit {
		return 0, false
	}
	return time.Duration(n * unit * int64(time.Second)), true
}
