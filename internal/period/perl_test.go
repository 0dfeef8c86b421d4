package period

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// perlInPeriod reads "HEXSPEC\tTIME" lines and prints inPeriod's result
// for each, using the real Time::Period (Debian: libtime-period-perl,
// which mon depends on).
const perlInPeriod = `use Time::Period; $ENV{TZ} = shift;
while (<STDIN>) { chomp; my ($h, $t) = split /\t/; print inPeriod($t, pack("H*", $h)), "\n"; }`

// randomSpec builds a spec that is mostly well-formed, with enough noise
// to reach the odd corners (spacing, mixed names, stray bytes).
func randomSpec(r *rand.Rand) string {
	scales := []string{"yr", "mo", "wk", "yd", "md", "wd", "hr", "min", "sec",
		"year", "month", "week", "yday", "mday", "wday", "hour", "minute", "second"}
	good := map[string][]string{
		"yr": {"0", "24", "25", "99", "2024", "2030", "2100", "0002024"},
		"mo": {"jan", "mar", "Jun", "nov", "DEC", "1", "12", "marathon"},
		"wk": {"1", "2", "3", "5", "6"},
		"yd": {"1", "64", "200", "366", "64x", "+60", "6.0e1", "1#x"},
		"md": {"1", "7", "10", "15", "31"},
		"wd": {"sun", "Mon", "tue", "fri", "sat", "1", "7", "sunshine"},
		"hr": {"0", "9", "12", "17", "23", "7am", "10pm", "12am", "12pm", "0pm", "13am", "12noon"},
	}
	odd := []string{"13pm", "noon", "1969", "ja", "m", "8", "32", "1.5", "1#inf", "60", "9:00", "x", "_", "{", "\xe9"}
	long := map[string]string{"year": "yr", "month": "mo", "week": "wk", "yday": "yd",
		"mday": "md", "wday": "wd", "hour": "hr", "minute": "min", "second": "sec"}
	pick := func(sc string) string {
		if r.Intn(15) == 0 {
			return odd[r.Intn(len(odd))]
		}
		vs, ok := good[sc]
		if !ok { // min, sec
			return strconv.Itoa(r.Intn(60))
		}
		return vs[r.Intn(len(vs))]
	}
	var b strings.Builder
	for k := range 1 + r.Intn(3) {
		if k > 0 {
			b.WriteString([]string{", ", ",", " , ", ",\n", ", ,"}[r.Intn(5)])
		}
		for m := range 1 + r.Intn(3) {
			if m > 0 {
				b.WriteString([]string{" ", "", "\t"}[r.Intn(3)])
			}
			sc := scales[r.Intn(len(scales))]
			if r.Intn(40) == 0 {
				sc = []string{"day", "", "w d", "wd }"}[r.Intn(4)]
			}
			b.WriteString(sc + []string{" {", "{", " { ", "{\n"}[r.Intn(4)])
			if code, ok := long[sc]; ok {
				sc = code
			}
			for q := range r.Intn(4) {
				if q > 0 {
					b.WriteString([]string{" ", "  ", "\n"}[r.Intn(3)])
				}
				b.WriteString(pick(sc))
				if r.Intn(2) == 0 {
					b.WriteString([]string{"-", " - ", " -", "- ", "--"}[r.Intn(5)] + pick(sc))
				}
			}
			b.WriteString("}")
		}
	}
	return b.String()
}

// TestAgainstPerl compares InPeriod, Parse and In with the real module on
// random specs, beyond the fixed golden vectors.
func TestAgainstPerl(t *testing.T) {
	if err := exec.Command("perl", "-MTime::Period", "-e", "1").Run(); err != nil {
		t.Skip("perl with Time::Period not available:", err)
	}
	r := rand.New(rand.NewSource(1))
	for _, zone := range []string{"UTC", "America/New_York"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		specs := make([]string, 20000)
		times := make([]int64, len(specs))
		var in bytes.Buffer
		for i := range specs {
			specs[i] = randomSpec(r)
			times[i] = r.Int63n(4300000000)
			fmt.Fprintf(&in, "%s\t%d\n", hex.EncodeToString([]byte(specs[i])), times[i])
		}
		cmd := exec.Command("perl", "-e", perlInPeriod, zone)
		cmd.Stdin = &in
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		results := strings.Fields(string(out))
		if len(results) != len(specs) {
			t.Fatalf("perl printed %d results for %d specs", len(results), len(specs))
		}
		for i, spec := range specs {
			want, _ := strconv.Atoi(results[i])
			if got := InPeriod(times[i], spec, loc); got != want {
				t.Errorf("%s: InPeriod(%d, %q) = %d; Time::Period says %d", zone, times[i], spec, got, want)
			}
			checkParse(t, zone, vector{line: i + 1, spec: spec, time: times[i], want: want}, loc)
		}
	}
}
