package conformance

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The reference harness is a Perl program; the helpers in this file
// reproduce the Perl idioms it relies on so that transcripts stay
// byte-identical.  Perl's \s, \d and \w on byte strings are ASCII-only, so
// the regular expressions below spell out ASCII classes.

var (
	dateRE = regexp.MustCompile(`(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)(?:\\20| )` +
		`(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)(?:\\20| )+` +
		`[0-9]{1,2}(?:\\20| )[0-9][0-9]:[0-9][0-9]:[0-9][0-9](?:\\20| )[0-9]{4}`)
	pidHostRE  = regexp.MustCompile(`\bPID [0-9]+@[^ \t\n\v\f\r]+`)
	durationRE = regexp.MustCompile(`\b(timer|monitor_duration|failure_duration)=[0-9]+`)
	// hex escapes are consumed first so that "\201795394725" is seen as
	// \20 followed by digits
	numberRE   = regexp.MustCompile(`\\[0-9a-fA-F]{2}|[0-9]+`)
	hexEscRE   = regexp.MustCompile(`\\([0-9a-fA-F]{2})`)
	statusRE   = regexp.MustCompile(`^[0-9]{3}(?:[ \t\n\v\f\r]|$)`)
	histCmdRE  = regexp.MustCompile(`^list[ \t\n\v\f\r]+(alerthist|failurehist)\b`)
	pidsCmdRE  = regexp.MustCompile(`^list[ \t\n\v\f\r]+pids\b`)
	aliasCmdRE = regexp.MustCompile(`^list[ \t\n\v\f\r]+aliasgroups\b`)
	listCmdRE  = regexp.MustCompile(`^list\b`)
	pidLineRE  = regexp.MustCompile(`^([^ \t\n\v\f\r]+) ([^ \t\n\v\f\r]+) ([0-9]+)$`)
	serverPid  = regexp.MustCompile(`^server [0-9]+$`)
	monitorPid = regexp.MustCompile(`^([^ \t\n\v\f\r]+ [^ \t\n\v\f\r]+) [0-9]+$`)
)

// normalizer replaces the run-specific parts of a transcript line.
type normalizer struct {
	work string
	port string
}

func (n normalizer) norm(s string) string {
	if n.work != "" {
		s = strings.ReplaceAll(s, n.work, "<WORK>")
	}
	s = replaceDates(s)
	s = pidHostRE.ReplaceAllString(s, "PID <PID>@<HOST>")
	s = durationRE.ReplaceAllString(s, "$1=<N>")
	s = replaceNumber(s, n.port, "<PORT>")
	return numberRE.ReplaceAllStringFunc(s, func(m string) string {
		if m[0] != '\\' && len(m) == 10 && m[0] == '1' {
			return "<TIME>"
		}
		return m
	})
}

// replaceDates replaces ctime(3) dates that do not follow a letter (the
// Perl original uses a look-behind, which Go's regexp lacks).
func replaceDates(s string) string {
	var b strings.Builder
	done, from := 0, 0
	for from <= len(s) {
		loc := dateRE.FindStringIndex(s[from:])
		if loc == nil {
			break
		}
		start, end := from+loc[0], from+loc[1]
		if start > 0 && isLetter(s[start-1]) {
			from = start + 1
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString("<DATE>")
		done, from = end, end
	}
	b.WriteString(s[done:])
	return b.String()
}

// replaceNumber replaces num where it is not part of a longer digit run.
func replaceNumber(s, num, repl string) string {
	if num == "" {
		return s
	}
	var b strings.Builder
	done, from := 0, 0
	for {
		i := strings.Index(s[from:], num)
		if i < 0 {
			break
		}
		start, end := from+i, from+i+len(num)
		if (start > 0 && isDigit(s[start-1])) || (end < len(s) && isDigit(s[end])) {
			from = start + 1
			continue
		}
		b.WriteString(s[done:start])
		b.WriteString(repl)
		done, from = end, end
	}
	b.WriteString(s[done:])
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isSpace(c byte) bool  { return strings.IndexByte(" \t\n\v\f\r", c) >= 0 }

// unesc decodes mon's \HH escapes.
func unesc(s string) string {
	return hexEscRE.ReplaceAllStringFunc(s, func(m string) string {
		v, _ := strconv.ParseUint(m[1:], 16, 8)
		return string([]byte{byte(v)})
	})
}

// perlSplit is Perl's split with a literal separator: trailing empty
// fields are dropped.
func perlSplit(s, sep string) []string {
	f := strings.Split(s, sep)
	for len(f) > 0 && f[len(f)-1] == "" {
		f = f[:len(f)-1]
	}
	return f
}

// perlFields is Perl's split ' ': runs of ASCII whitespace separate fields
// and leading whitespace is ignored.
func perlFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// perlNum converts a string of digits the way Perl numifies it.
func perlNum(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return v
}

// tidyResponse removes the order the protocol does not define (mon walks
// Perl hashes): the body of a list reply is sorted, alert and failure
// histories are grouped by service but stay chronological.  It also
// records the pids of a "list pids" reply in r.lastPids.
func (r *runner) tidyResponse(cmd string, lines []string) []string {
	if len(lines) == 0 {
		return lines
	}
	body := append([]string(nil), lines...)
	var status []string
	if statusRE.MatchString(body[len(body)-1]) {
		status = body[len(body)-1:]
		body = body[:len(body)-1]
	}
	c := strings.TrimLeft(asciiLower(cmd), " \t\n\v\f\r")
	switch {
	case histCmdRE.MatchString(c):
		sortHistory(histCmdRE.FindStringSubmatch(c)[1], body)
	case pidsCmdRE.MatchString(c):
		r.lastPids = nil
		for i, l := range body {
			if m := pidLineRE.FindStringSubmatch(l); m != nil {
				r.lastPids = append(r.lastPids, monitorProc{group: m[1], service: m[2], pid: m[3]})
			}
			l = serverPid.ReplaceAllString(l, "server <PID>")
			body[i] = monitorPid.ReplaceAllString(l, "$1 <PID>")
		}
		sort.Strings(body)
	case aliasCmdRE.MatchString(c):
		for i, l := range body {
			w := perlSplit(l, " ")
			sort.Strings(w)
			body[i] = strings.Join(w, " ")
		}
	case listCmdRE.MatchString(c):
		sort.Strings(body)
	}
	return append(body, status...)
}

// sortHistory groups history lines by service, chronological within one
// service.  Entries of one service with the same time stamp come from one
// event: alerthist orders them by text, failurehist keeps them.
func sortHistory(hist string, body []string) {
	type entry struct {
		key  string
		t    float64
		text string
		line string
	}
	keyField, timeField := 0, 2
	if hist == "alerthist" {
		keyField, timeField = 1, 3
	}
	field := func(f []string, i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	es := make([]entry, len(body))
	for i, l := range body {
		f := perlSplit(unesc(l), " ")
		e := entry{key: field(f, keyField) + " " + field(f, keyField+1), line: l}
		if t := field(f, timeField); isDigits(t) {
			e.t = perlNum(t)
		}
		if hist == "alerthist" {
			e.text = l
		}
		es[i] = e
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.key != b.key {
			return a.key < b.key
		}
		if a.t != b.t {
			return a.t < b.t
		}
		return a.text < b.text
	})
	for i, e := range es {
		body[i] = e.line
	}
}

// isDigits is Perl's /^\d+$/, which also accepts one trailing newline.
func isDigits(s string) bool {
	s = strings.TrimSuffix(s, "\n")
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

func TestNorm(t *testing.T) {
	n := normalizer{work: "/tmp/monpeer.x1", port: "25831"}
	for _, tc := range []struct{ in, want string }{
		{"file /tmp/monpeer.x1/log/x", "file <WORK>/log/x"},
		{"at Sat Nov 23 03:01:02 2024 ok", "at <DATE> ok"},
		{`d=Sat\20Nov\20\203\2003:01:02\202024`, `d=<DATE>`},
		{"xSat Nov 23 03:01:02 2024", "xSat Nov 23 03:01:02 2024"},
		{"220 reset PID 1234@host.example completed", "220 reset PID <PID>@<HOST> completed"},
		{"timer=12 monitor_duration=3 monitor_duration=-1 failure_duration=9", "timer=<N> monitor_duration=<N> monitor_duration=-1 failure_duration=<N>"},
		{"port 25831 not 258310 or 125831", "port <PORT> not 258310 or 125831"},
		{"t=1732330862 n=2732330862 m=17323308620", "t=<TIME> n=2732330862 m=17323308620"},
		{`summary\201732330862`, `summary\20<TIME>`},
	} {
		if got := n.norm(tc.in); got != tc.want {
			t.Errorf("norm(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTidyResponse(t *testing.T) {
	r := &runner{}
	got := r.tidyResponse("list pids", []string{"server 12", "g s 99", "a b 7", "220 list pids"})
	want := []string{"a b <PID>", "g s <PID>", "server <PID>", "220 list pids"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("list pids: got %q, want %q", got, want)
	}
	if len(r.lastPids) != 2 || r.lastPids[0].pid != "99" {
		t.Errorf("lastPids = %v", r.lastPids)
	}
	got = r.tidyResponse(" List alerthist", []string{
		"failure g s2 200 x", "failure g s1 300 b", "failure g s1 300 a", "failure g s1 100 c", "220 done",
	})
	want = []string{"failure g s1 100 c", "failure g s1 300 a", "failure g s1 300 b", "failure g s2 200 x", "220 done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("alerthist: got %q, want %q", got, want)
	}
	got = r.tidyResponse("list aliasgroups", []string{"b a c ", "220 ok"})
	if strings.Join(got, "|") != "a b c|220 ok" {
		t.Errorf("aliasgroups: got %q", got)
	}
	got = r.tidyResponse("version", []string{"b", "a", "220 ok"})
	if strings.Join(got, "|") != "b|a|220 ok" {
		t.Errorf("version: got %q", got)
	}
}
