// Package period evaluates mon's time periods (the Time::Period
// language used by `period` and `exclude_period`) and gomon's cron
// extensions: cron windows as periods and cron schedules for checks.
//
// The Time::Period rules are those of Perl's Time::Period 1.25 as
// described in the compatibility spec (periods.md), including its odd
// corners; the golden vectors in testdata/periods pin them down.
package period

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is a parsed, fully validated period: a Time::Period spec, or a
// cron window written as `cron {MIN HOUR DOM MON DOW}`. The zero Spec is
// the empty period, which always matches.
type Spec struct {
	text   string
	kind   specKind
	subs   []subPeriod // kindTimePeriod: inside when any sub-period is
	window *cronWindow // kindCron
}

type specKind int

const (
	kindAlways specKind = iota // empty spec
	kindNever                  // `none`
	kindTimePeriod
	kindCron
)

// Parse validates text completely, independent of the current time
// (mon's own check depends on when the config is loaded, Q-PER-1).
func Parse(text string) (Spec, error) {
	if isCronWindow(text) {
		w, err := parseCronWindow(text)
		if err != nil {
			return Spec{}, fmt.Errorf("period %q: %w", text, err)
		}
		return Spec{text: text, kind: kindCron, window: w}, nil
	}
	s := Spec{text: text}
	subTexts, special := splitSpec(text)
	switch special {
	case kindAlways, kindNever:
		s.kind = special
		return s, nil
	}
	s.kind = kindTimePeriod
	for i, st := range subTexts {
		sp, err := compileSubPeriod(st)
		if err != nil {
			if len(subTexts) == 1 {
				return Spec{}, fmt.Errorf("period %q: %w", text, err)
			}
			return Spec{}, fmt.Errorf("period %q: sub-period %d %q: %w", text, i+1, st, err)
		}
		s.subs = append(s.subs, sp)
	}
	return s, nil
}

// String returns the spec as written.
func (s Spec) String() string { return s.text }

// In reports whether t (in t's location) lies inside the period.
func (s Spec) In(t time.Time) bool {
	switch s.kind {
	case kindAlways:
		return true
	case kindCron:
		return s.window.in(t)
	case kindTimePeriod:
		c := components(t)
		for i := range s.subs {
			if s.subs[i].in(&c) {
				return true
			}
		}
	}
	return false
}

// InPeriod is Time::Period's inPeriod, byte for byte: 1 inside, 0 outside,
// -1 malformed. t is seconds since the epoch (as text digits are required
// by the original, an int64 here), evaluated in loc (nil means time.Local).
// Sub-periods are examined left to right and only until one matches, so a
// malformed sub-period after a matching one goes unnoticed, as in Perl.
// Cron windows are a gomon extension and are malformed here.
func InPeriod(t int64, spec string, loc *time.Location) int {
	if t < 0 { // Perl rejects a time that is not all digits
		return -1
	}
	subTexts, special := splitSpec(spec)
	switch special {
	case kindAlways:
		return 1
	case kindNever:
		return 0
	}
	if loc == nil {
		loc = time.Local
	}
	c := components(time.Unix(t, 0).In(loc))
	for _, st := range subTexts {
		sp, err := compileSubPeriod(st)
		if err != nil {
			return -1
		}
		if sp.in(&c) {
			return 1
		}
	}
	return 0
}

// Whitespace and character classes as Perl sees a byte string.

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func trimLeftSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	return s
}

// lowerASCII is Perl's lc on a byte string: only A-Z change.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func hasWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if isWord(s[i]) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// splitFields splits s at sep, removes the trailing empty fields (Perl's
// split does) and trims each field with trim.
func splitFields(s string, sep byte, trim func(string) string) []string {
	fields := strings.Split(s, string(sep))
	for i := range fields {
		fields[i] = trim(fields[i])
	}
	for len(fields) > 0 && fields[len(fields)-1] == "" {
		fields = fields[:len(fields)-1]
	}
	return fields
}

// splitSpec normalises a Time::Period spec (trim, lower-case) and splits
// it at commas with their surrounding whitespace. special is kindAlways
// or kindNever for the empty spec and `none`, else kindTimePeriod.
func splitSpec(text string) (subs []string, special specKind) {
	text = lowerASCII(trimSpace(text))
	switch text {
	case "":
		return nil, kindAlways
	case "none":
		return nil, kindNever
	}
	return splitFields(text, ',', trimSpace), kindTimePeriod
}

// Time components.

type scale int

const (
	scYear scale = iota
	scMonth
	scWeek
	scYearDay
	scMonthDay
	scWeekDay
	scHour
	scMinute
	scSecond
	numScales
)

var scaleNames = [numScales]string{"yr", "mo", "wk", "yd", "md", "wd", "hr", "min", "sec"}

// longScaleNames maps the long names accepted for NAMEs over 3 bytes.
var longScaleNames = map[string]scale{
	"year": scYear, "month": scMonth, "week": scWeek, "yday": scYearDay,
	"mday": scMonthDay, "wday": scWeekDay, "hour": scHour,
	"minute": scMinute, "second": scSecond,
}

// lookupScale resolves NAME: long names only above 3 bytes, codes only
// for 2 or 3 bytes.
func lookupScale(name string) (scale, bool) {
	if len(name) > 3 {
		sc, ok := longScaleNames[name]
		return sc, ok
	}
	if len(name) < 2 {
		return 0, false
	}
	for sc, code := range scaleNames {
		if code == name {
			return scale(sc), true
		}
	}
	return 0, false
}

// timeComponents holds t's local time per scale; year is needed whole for
// the two-digit year rule.
type timeComponents struct {
	v    [numScales]float64
	year int
}

func components(t time.Time) timeComponents {
	year, month, mday := t.Date()
	hour, minute, second := t.Clock()
	wday := int(t.Weekday())
	var c timeComponents
	c.year = year
	c.v = [numScales]float64{
		scYear:     float64(year),
		scMonth:    float64(month - 1),
		scWeek:     float64((mday + 5 - wday) / 7), // Sundays among days 2..mday
		scYearDay:  float64(t.YearDay() - 1),
		scMonthDay: float64(mday),
		scWeekDay:  float64(wday),
		scHour:     float64(hour),
		scMinute:   float64(minute),
		scSecond:   float64(second),
	}
	return c
}

// century is 100 times the first two digits of the year, Time::Period's
// base for two-digit years.
func (c *timeComponents) century() float64 {
	s := strconv.Itoa(c.year)
	if len(s) > 2 {
		s = s[:2]
	}
	n, _ := strconv.Atoi(s)
	return float64(100 * n)
}

// Compiled sub-periods.

// subPeriod is inside when every scale it mentions has a matching term.
type subPeriod struct {
	used  [numScales]bool
	terms [numScales][]term
}

// term is one value or range of a scale. Values are float64 because the
// original compares Perl numbers: a `yd` value may be fractional and digit
// strings of any length are accepted.
type term struct {
	isRange bool
	lo, hi  float64
	// Year ends of at most two digits are relative to the century of the
	// evaluated time.
	loRel, hiRel bool
}

func (sp *subPeriod) in(c *timeComponents) bool {
	for sc := range numScales {
		if !sp.used[sc] {
			continue
		}
		matched := false
		for i := range sp.terms[sc] {
			if sp.terms[sc][i].matches(sc, c) {
				matched = true
				break
			}
		}
		if !matched {
			return false
		}
	}
	return true
}

func (tm *term) matches(sc scale, c *timeComponents) bool {
	x := c.v[sc]
	if sc == scYear {
		lo, hi := tm.lo, tm.hi
		if tm.loRel {
			lo += c.century()
		}
		if tm.hiRel {
			hi += c.century()
		}
		if !tm.isRange {
			return x == lo
		}
		if lo > hi { // years swap instead of wrapping
			lo, hi = hi, lo
		}
		return lo <= x && x <= hi
	}
	switch {
	case !tm.isRange:
		return x == tm.lo
	case tm.lo > tm.hi: // wraps around, e.g. hr {22-2}
		return x >= tm.lo || x <= tm.hi
	default:
		return tm.lo <= x && x <= tm.hi
	}
}

// compileSubPeriod checks one sub-period and converts its terms. Any error
// means Time::Period would return -1 on reaching it.
func compileSubPeriod(text string) (subPeriod, error) {
	var sp subPeriod
	open, closing := strings.Count(text, "{"), strings.Count(text, "}")
	if open == 0 && closing == 0 {
		return sp, fmt.Errorf("no scale {…} found")
	}
	if open != closing {
		return sp, fmt.Errorf("%d { but %d }", open, closing)
	}
	pieces := splitFields(text, '}', trimLeftSpace) // text has no leading space
	if len(pieces) != open {
		return sp, fmt.Errorf("scales must be written NAME {…} one after another")
	}
	for _, piece := range pieces {
		sc, data, err := splitScale(piece)
		if err != nil {
			return sp, err
		}
		sp.used[sc] = true
		for _, tok := range rangeTokens(data) {
			tm, err := compileTerm(sc, tok)
			if err != nil {
				return sp, fmt.Errorf("%s {%s}: %w", scaleNames[sc], tok, err)
			}
			sp.terms[sc] = append(sp.terms[sc], tm)
		}
	}
	return sp, nil
}

// splitScale splits `NAME WS* { WS* DATA`; DATA ends at the first LF.
func splitScale(piece string) (scale, string, error) {
	i := 0
	for i < len(piece) && isLower(piece[i]) {
		i++
	}
	name := piece[:i]
	rest := trimLeftSpace(piece[i:])
	if rest == "" || rest[0] != '{' {
		return 0, "", fmt.Errorf("%q is not NAME {VALUES}", piece)
	}
	data := trimLeftSpace(rest[1:])
	if nl := strings.IndexByte(data, '\n'); nl >= 0 {
		data = data[:nl]
	}
	sc, ok := lookupScale(name)
	if !ok {
		return 0, "", fmt.Errorf("unknown scale %q (use yr mo wk yd md wd hr min sec or year month week yday mday wday hour minute second)", name)
	}
	return sc, data, nil
}

// rangeTokens removes the whitespace around `-` between two words (left
// to right, non-overlapping, like s/(\w+)\s*-\s*(\w+)/$1-$2/g) and splits
// the result at whitespace.
func rangeTokens(data string) []string {
	var b strings.Builder
	i := 0
	for i < len(data) {
		if !isWord(data[i]) {
			b.WriteByte(data[i])
			i++
			continue
		}
		start := i
		for i < len(data) && isWord(data[i]) {
			i++
		}
		b.WriteString(data[start:i])
		j := i
		for j < len(data) && isSpace(data[j]) {
			j++
		}
		if j >= len(data) || data[j] != '-' {
			continue
		}
		j++
		for j < len(data) && isSpace(data[j]) {
			j++
		}
		if j >= len(data) || !isWord(data[j]) {
			continue
		}
		b.WriteByte('-')
		i = j
		for i < len(data) && isWord(data[i]) {
			i++
		}
		b.WriteString(data[j:i])
	}
	return strings.FieldsFunc(b.String(), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
}

// compileTerm converts one range token: `A-B` split at the last `-`, or a
// single value.
func compileTerm(sc scale, tok string) (term, error) {
	dash := strings.LastIndexByte(tok, '-')
	if dash < 0 {
		if !hasWord(tok) {
			return term{}, fmt.Errorf("no value")
		}
		if sc == scYearDay {
			v, err := yearDaySingle(tok)
			return term{lo: v}, err
		}
		v, rel, err := convert(sc, tok)
		return term{lo: v, loRel: rel}, err
	}
	a, b := tok[:dash], tok[dash+1:]
	if !hasWord(a) || !hasWord(b) {
		return term{}, fmt.Errorf("range needs a value on both sides of -")
	}
	lo, loRel, err := convert(sc, a)
	if err != nil {
		return term{}, err
	}
	hi, hiRel, err := convert(sc, b)
	if err != nil {
		return term{}, err
	}
	return term{isRange: true, lo: lo, hi: hi, loRel: loRel, hiRel: hiRel}, nil
}

var monthNames = map[string]float64{
	"jan": 0, "feb": 1, "mar": 2, "apr": 3, "may": 4, "jun": 5,
	"jul": 6, "aug": 7, "sep": 8, "oct": 9, "nov": 10, "dec": 11,
}

var weekdayNames = map[string]float64{
	"su": 0, "mo": 1, "tu": 2, "we": 3, "th": 4, "fr": 5, "sa": 6,
}

// number converts a digit string to a Perl number; overlong strings
// become large floats (or +Inf) exactly as in Perl.
func number(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64) // ErrRange still yields +Inf
	return f
}

// digitsIn converts a digit string and checks lo <= n+offset <= hi.
func digitsIn(s string, offset, lo, hi float64) (float64, error) {
	if !allDigits(s) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n := number(s) + offset
	if n < lo || n > hi {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return n, nil
}

// prefixName looks up the first n bytes of s in names.
func prefixName(s string, n int, names map[string]float64, what string) (float64, error) {
	if len(s) > n {
		s = s[:n]
	}
	v, ok := names[s]
	if !ok {
		return 0, fmt.Errorf("%q is not a %s", s, what)
	}
	return v, nil
}

func hasLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLower(s[i]) {
			return true
		}
	}
	return false
}

// convert converts one range end or single value (other than a single
// `yd` value) of scale sc. rel reports a two-digit year.
func convert(sc scale, s string) (v float64, rel bool, err error) {
	switch sc {
	case scYear:
		if !allDigits(s) {
			return 0, false, fmt.Errorf("%q is not a year", s)
		}
		n := number(s)
		if n > 99 && n < 1970 {
			return 0, false, fmt.Errorf("year %q is neither two digits nor 1970 or later", s)
		}
		return n, n <= 99, nil
	case scMonth:
		if hasLower(s) {
			v, err = prefixName(s, 3, monthNames, "month")
		} else {
			v, err = digitsIn(s, -1, 0, 11)
		}
	case scWeek:
		v, err = digitsIn(s, -1, 0, 5)
	case scYearDay:
		v, err = digitsIn(s, -1, 0, 365)
	case scMonthDay:
		v, err = digitsIn(s, 0, 1, 31)
	case scWeekDay:
		if hasLower(s) {
			v, err = prefixName(s, 2, weekdayNames, "weekday")
		} else {
			v, err = digitsIn(s, -1, 0, 6)
		}
	case scHour:
		v, err = hour(s)
	case scMinute, scSecond:
		v, err = digitsIn(s, 0, 0, 59)
	}
	return v, false, err
}

// hour converts 0-23, Nam, Npm and 12noon.
func hour(s string) (float64, error) {
	for _, suffix := range []string{"am", "pm", "noon"} {
		n, ok := strings.CutSuffix(s, suffix)
		if !ok || !allDigits(n) {
			continue
		}
		v := number(n)
		switch {
		case suffix == "am" && v == 12:
			v = 0
		case suffix == "pm" && v != 12:
			v += 12
		case suffix == "noon" && v != 12:
			return 0, fmt.Errorf("%q: only 12noon is allowed", s)
		}
		if v > 23 {
			return 0, fmt.Errorf("%q is out of range", s)
		}
		return v, nil
	}
	return digitsIn(s, 0, 0, 23)
}

// yearDaySingle converts a single `yd` value. Time::Period decrements it as
// a Perl number before checking it, so only its numeric prefix counts
// (spec §4.1).
func yearDaySingle(s string) (float64, error) {
	v, ok := perlNumber(s)
	if !ok {
		return 0, fmt.Errorf("%q is not a day of the year", s)
	}
	v--
	if !allDigits(strconv.FormatFloat(v, 'g', 15, 64)) || v < 0 || v > 365 {
		return 0, fmt.Errorf("%q is not a day of the year", s)
	}
	return v, nil
}

// perlNumber is the value Perl gives the string s in numeric context: its
// longest numeric prefix, 0 without one. ok is false for the infinity and
// NaN spellings Perl recognises, which can never be a valid day.
func perlNumber(s string) (v float64, ok bool) {
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if isInfNaN(s) {
		return 0, false
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	mantissa := i
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i == 0 || i == 1 && mantissa == 0 { // no digits at all
		return 0, true
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			end = j
		}
	}
	v, _ = strconv.ParseFloat(s[:end], 64)
	return v, true
}

// isInfNaN reports whether s starts with a spelling Perl reads as infinity
// or NaN. Only the forms starting with a digit matter here ("1.#inf",
// "1#ind", …): words starting with a letter have no numeric prefix anyway.
func isInfNaN(s string) bool {
	rest, ok := strings.CutPrefix(s, "1")
	if !ok {
		return false
	}
	rest = strings.TrimPrefix(rest, ".")
	rest, ok = strings.CutPrefix(rest, "#")
	if !ok {
		return false
	}
	for _, w := range []string{"inf", "ind", "nan", "qnan", "snan"} {
		if strings.HasPrefix(rest, w) {
			return true
		}
	}
	return false
}
