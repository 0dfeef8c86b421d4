package conformance

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// alertRecord is one invocation recorded by log.alert in WORK/alerts.log.
type alertRecord struct {
	name  string
	args  []string
	env   []string
	stdin []string
	bytes string
	// fields the steps filter on
	group, service, time, typ string
}

var (
	alertRecordRE = regexp.MustCompile(`(?ms)^@@BEGIN ([^ \t\n\v\f\r]+)\n(.*?)^@@END\n`)
	// Perl's $ also matches before a final newline, so an argument ending
	// in one is printed unquoted by the original; keep that.
	plainArgRE = regexp.MustCompile(`^[A-Za-z0-9_.,:/=+\-@<>%]+\n?$`)
)

func (r *runner) alertRecords() []alertRecord {
	d, _ := os.ReadFile(filepath.Join(r.work, "alerts.log"))
	var recs []alertRecord
	for _, m := range alertRecordRE.FindAllStringSubmatch(string(d), -1) {
		rec := alertRecord{name: m[1], bytes: "0"}
		for _, l := range perlSplit(m[2], "\n") {
			switch {
			case strings.HasPrefix(l, "ARG "):
				rec.args = append(rec.args, l[len("ARG "):])
			case strings.HasPrefix(l, "ARG+ "):
				if len(rec.args) == 0 {
					rec.args = append(rec.args, "")
				}
				rec.args[len(rec.args)-1] += "\n" + l[len("ARG+ "):]
			case strings.HasPrefix(l, "ENV "):
				rec.env = append(rec.env, l[len("ENV "):])
			case strings.HasPrefix(l, "STDIN_BYTES "):
				if n := leadingDigits(l[len("STDIN_BYTES "):]); n != "" {
					rec.bytes = n
				}
			case strings.HasPrefix(l, "STDIN "):
				rec.stdin = append(rec.stdin, l[len("STDIN "):])
			case l == "STDIN":
				rec.stdin = append(rec.stdin, "")
			}
		}
		opt := map[string]string{}
		for i := 0; i < len(rec.args); i++ {
			switch rec.args[i] {
			case "-s", "-g", "-h", "-t":
				if i+1 < len(rec.args) {
					opt[rec.args[i]] = rec.args[i+1]
					i++
				}
			}
		}
		env := map[string]string{}
		for _, e := range rec.env {
			k, v, _ := strings.Cut(e, "=")
			env[k] = v
		}
		rec.group, rec.service, rec.time = opt["-g"], opt["-s"], opt["-t"]
		rec.typ = env["MON_ALERTTYPE"]
		recs = append(recs, rec)
	}
	return recs
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i]
}

// alertFilter holds the group=, service=, type= and name= conditions of
// the alert steps.
type alertFilter map[string]string

func parseAlertFilter(words []string) (alertFilter, string, error) {
	f := alertFilter{}
	timeout := ""
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		switch {
		case ok && k == "timeout" && isDecimal(v):
			timeout = v
		case ok && (k == "group" || k == "service" || k == "type" || k == "name"):
			f[k] = v
		default:
			return nil, "", fmt.Errorf("bad alert filter '%s'\n", w)
		}
	}
	return f, timeout, nil
}

var decimalRE = regexp.MustCompile(`^[0-9]+(?:\.[0-9]+)?$`)

func isDecimal(s string) bool { return decimalRE.MatchString(s) }

func (f alertFilter) apply(recs []alertRecord) []alertRecord {
	var out []alertRecord
	for _, rec := range recs {
		field := map[string]string{"group": rec.group, "service": rec.service, "type": rec.typ, "name": rec.name}
		ok := true
		for k, v := range f {
			if field[k] != v {
				ok = false
			}
		}
		if ok {
			out = append(out, rec)
		}
	}
	return out
}

// sortAlerts groups records by group/service.  Within one service they are
// ordered by the -t value, then by the order in which each distinct event
// (same environment and stdin) first appeared in the log, then by argv:
// several alert lines fired by one event are forked together and may
// finish in any order.
func sortAlerts(recs []alertRecord) []alertRecord {
	type item struct {
		rec   alertRecord
		first int
		t     float64
	}
	first := map[string]int{}
	items := make([]item, len(recs))
	for i, rec := range recs {
		sig := strings.Join(append(append(append([]string(nil), rec.env...), ""), rec.stdin...), "\n")
		if _, ok := first[sig]; !ok {
			first[sig] = i
		}
		items[i] = item{rec: rec, first: first[sig]}
		if isDigits(rec.time) {
			items[i].t = perlNum(strings.TrimSuffix(rec.time, "\n"))
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		ka, kb := a.rec.group+"\x00"+a.rec.service, b.rec.group+"\x00"+b.rec.service
		if ka != kb {
			return ka < kb
		}
		if a.t != b.t {
			return a.t < b.t
		}
		if a.first != b.first {
			return a.first < b.first
		}
		return strings.Join(a.rec.args, "\n") < strings.Join(b.rec.args, "\n")
	})
	out := make([]alertRecord, len(items))
	for i, it := range items {
		out[i] = it.rec
	}
	return out
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	if plainArgRE.MatchString(a) {
		return a
	}
	q := strings.ReplaceAll(a, "'", `'\''`)
	q = strings.ReplaceAll(q, "\n", `\n`)
	return "'" + q + "'"
}

func formatAlert(n int, rec alertRecord) []string {
	o := []string{fmt.Sprintf("alert #%d: %s", n, rec.name)}
	args := make([]string, len(rec.args))
	for i, a := range rec.args {
		args[i] = quoteArg(a)
	}
	o = append(o, "  argv: "+strings.Join(args, " "))
	for _, e := range rec.env {
		o = append(o, "  env:  "+e)
	}
	in := make([]string, len(rec.stdin))
	for i, l := range rec.stdin {
		in[i] = strings.ReplaceAll(l, "\r", "<CR>")
	}
	o = append(o, "  stdin: "+rec.bytes+" bytes, "+strconv.Itoa(len(in))+" lines")
	shown := in
	if len(in) > 12 {
		sum := md5.Sum([]byte(strings.Join(in, "\n")))
		shown = append(append(append([]string(nil), in[:6]...),
			fmt.Sprintf("... (%d lines omitted, md5 of all lines %s)", len(in)-9, hex.EncodeToString(sum[:]))),
			in[len(in)-3:]...)
	}
	for _, l := range shown {
		o = append(o, "  | "+l)
	}
	return o
}

func TestAlertRecords(t *testing.T) {
	r := &runner{work: t.TempDir()}
	log := "@@BEGIN log.alert\nARG -s\nARG svc\nARG -g\nARG grp\nARG -t\nARG 100\nARG two\nARG+ lines\n" +
		"ENV MON_ALERTTYPE=failure\nSTDIN_BYTES 4\nSTDIN abc\nSTDIN \n@@END\n" +
		"@@BEGIN other\nARG -g\nARG a\nARG -t\nARG 50\nENV MON_ALERTTYPE=up\nSTDIN_BYTES 0\n@@END\n"
	if err := os.WriteFile(filepath.Join(r.work, "alerts.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	recs := r.alertRecords()
	if len(recs) != 2 || recs[0].service != "svc" || recs[0].typ != "failure" || recs[1].name != "other" {
		t.Fatalf("records = %+v", recs)
	}
	if got := alertFilter(map[string]string{"type": "up"}).apply(recs); len(got) != 1 || got[0].name != "other" {
		t.Errorf("filter type=up: %+v", got)
	}
	sorted := sortAlerts(recs)
	if sorted[0].name != "other" {
		t.Errorf("group a sorts first: %+v", sorted)
	}
	got := strings.Join(formatAlert(1, recs[0]), "\n")
	want := "alert #1: log.alert\n  argv: -s svc -g grp -t 100 'two\\nlines'\n  env:  MON_ALERTTYPE=failure\n" +
		"  stdin: 4 bytes, 2 lines\n  | abc\n  | "
	if got != want {
		t.Errorf("formatAlert:\n%s\nwant\n%s", got, want)
	}
}
