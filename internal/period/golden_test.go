package period

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // America/New_York even where the system has no zoneinfo
)

// unescapeTSV decodes the vector files' escaping: `\\` is a backslash and
// `\xHH` an arbitrary byte; every other byte stands for itself.
func unescapeTSV(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case i+3 < len(s) && s[i+1] == 'x':
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape %q", s[i:i+4])
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			return "", fmt.Errorf("bad escape at byte %d", i)
		}
	}
	return b.String(), nil
}

type vector struct {
	line int
	spec string
	time int64
	want int
}

func readVectors(t *testing.T, name string) []vector {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "periods", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Fatalf("%s:%d: %d fields, want 3", name, n, len(fields))
		}
		spec, err := unescapeTSV(fields[0])
		if err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		tm, err1 := strconv.ParseInt(fields[1], 10, 64)
		want, err2 := strconv.Atoi(fields[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("%s:%d: bad time or result %q %q", name, n, fields[1], fields[2])
		}
		vs = append(vs, vector{n, spec, tm, want})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestGoldenVectors checks every row produced by Perl's Time::Period 1.25.
func TestGoldenVectors(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []struct {
		name string
		loc  *time.Location
	}{
		{"periods_utc.tsv", time.UTC},
		{"periods_newyork.tsv", ny},
	} {
		t.Run(file.name, func(t *testing.T) {
			vs := readVectors(t, file.name)
			if len(vs) < 1000 {
				t.Fatalf("only %d vectors", len(vs))
			}
			failed := 0
			for _, v := range vs {
				got := InPeriod(v.time, v.spec, file.loc)
				if got != v.want {
					failed++
					if failed <= 50 {
						t.Errorf("%s:%d: InPeriod(%d, %q) = %d, want %d", file.name, v.line, v.time, v.spec, got, v.want)
					}
				}
				checkParse(t, file.name, v, file.loc)
			}
			if failed > 0 {
				t.Errorf("%s: %d of %d rows differ", file.name, failed, len(vs))
			}
		})
	}
}

// checkParse holds Parse and In to InPeriod: a spec Parse accepts never
// makes InPeriod return -1, and In agrees with it.
func checkParse(t *testing.T, file string, v vector, loc *time.Location) {
	s, err := Parse(v.spec)
	if err != nil {
		return
	}
	want := v.want == 1
	if v.want == -1 {
		t.Errorf("%s:%d: Parse(%q) accepted a spec InPeriod rejects", file, v.line, v.spec)
	} else if got := s.In(time.Unix(v.time, 0).In(loc)); got != want {
		t.Errorf("%s:%d: Parse(%q).In(%d) = %v, want %v", file, v.line, v.spec, v.time, got, want)
	}
}
