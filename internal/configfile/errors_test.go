package configfile

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestErrorTexts checks every mon.cf error text of config.md §11.3 that a
// file can trigger, with mon's line number. Body lines start at line 5.
func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		name, src, legacy string
	}{
		{"unknown variable", "maxprocs = 1\n\nfrobnicate = yes\n", "cf error: unknown variable 'frobnicate', line 3"},
		{"randstart", "randstart = 60\n", "cf error: bad value '60' for randstart option (syntax: randstart = timeval), line 1"},
		{"historictime", "historictime = x\n", "cf error: bad value 'x' for historictime command (syntax: historictime = timeval), line 1"},
		{"cltimeout plain number", "cltimeout = 30\n", "cf error: bad value '30' for cltimeout command (syntax: cltimeout = secs), line 1"},
		{"global dep_behavior", "dep_behavior = x\n", "cf error: unknown dependency behavior 'x', line 1"},
		{"global dep_memory", "dep_memory = 5\n", "cf error: bad value '5' for dep_memory option (syntax: dep_memory = timeval), line 1"},
		{"global unack_summary", "unack_summary = 2\n", "cf error: invalid unack_summary value '2' (syntax: unack_summary [0|1|y|yes|n|no])"},
		{"global unack_summary empty", "unack_summary =\n", "cf error: invalid unack_summary value '' (syntax: unack_summary [0|1|y|yes|n|no])"},
		{"global exclude_period", "exclude_period = wd {Foo}\n", "cf error: malformed exclude_period 'wd {Foo}' (the specified time period is not valid as per Time::Period::inPeriod), line 1"},
		{"watch twice", "hostgroup g h\n\nwatch g\n\nwatch g\n", "cf error: watch 'g' already defined, line 5"},
		{"env without service", "hostgroup g h\n\nwatch g\n    MON_X=1\n", "cf error: environment variable defined without a service, line 4"},
		{"service tag", "hostgroup g h\n\nwatch g\n    service a b\n", "cf error: invalid service tag 'a b', line 4"},
		{"service twice", svcHeader + "    service s\n", "cf error: service s already defined for watch group g, line 5"},
		{"no service", "hostgroup g h\n\nwatch g\n    interval 5m\n", "cf error: need to specify service in watch record, line 4"},
		{"period twice", svcHeader + "  period a: wd {Mon}\n  period a: wd {Tue}\n", "cf error: period 'a' already defined for watch group g service s, line 6"},
		{"period twice unlabelled", svcHeader + "  period\n  period\n", "cf error: period '' already defined for watch group g service s, line 6"},
		{"malformed period", svcHeader + "  period wd {Funday}\n", "cf error: malformed period 'wd {Funday}' (the specified time period is not valid as per Time::Period::inPeriod), line 5"},
		{"malformed labelled period", svcHeader + "  period x: hr {25}\n", "cf error: malformed period 'hr {25}' (the specified time period is not valid as per Time::Period::inPeriod), line 5"},
		{"alertevery", svcHeader + "  period\n    alertevery 1h bogus\n", "cf error: invalid time interval '' (syntax: alertevery {positive number}{smhd} [ strict | observe_detail | ignore_summary ]), line 6"},
		{"alertevery zero", svcHeader + "  period\n    alertevery 0m strict\n", "cf error: invalid time interval '0' (syntax: alertevery {positive number}{smhd} [ strict | observe_detail | ignore_summary ]), line 6"},
		{"alertafter time zero", svcHeader + "  period\n    alertafter 0m\n", "cf error: invalid time interval '0m' (syntax: alertafter = [{positive integer}] [{positive number}{smhd}]), line 6"},
		{"alertafter not sensible", svcHeader + "  interval 10m\n  period\n    alertafter 4 30m\n", "cf error:  interval & alertafter not sensible. No alerts can be generated with those parameters, line 7"},
		{"alertafter 1d", svcHeader + "  period\n    alertafter 1d\n", "cf error: invalid interval specification '1d', line 6"},
		{"alertafter fraction", svcHeader + "  period\n    alertafter 1.5m\n", "cf error: invalid interval specification '1.5m', line 6"},
		{"upalertafter", svcHeader + "  period\n    upalertafter 5\n", "cf error: invalid upalertafter specification '' (syntax: upalertafter = {positive number}{smhd}), line 6"},
		{"numalerts", svcHeader + "  period\n    numalerts -1\n", "cf error: -numeric arg '-1' (syntax: numalerts = {positive integer}, line 6"},
		{"alertexitrange", svcHeader + "  period\n    alertexitrange 1 - 2\n", "cf error: invalid exit code range '1 - 2', line 6"},
		{"unknown period keyword", svcHeader + "  period\n    escalate 2\n", "cf error: unknown syntax [escalate 2], line 6"},
		{"service keyword after period", svcHeader + "  period\n    alert a.alert\n  interval 5m\n", "cf error: unknown syntax [interval 5m], line 7"},
		{"unknown service keyword", svcHeader + "  retries 3\n", "cf error: unknown syntax [retries 3], line 5"},
		{"keywords are case-sensitive", svcHeader + "  Interval 5m\n", "cf error: unknown syntax [Interval 5m], line 5"},
		{"non-word line in watch", svcHeader + "  -x\n", "cf error: unknown syntax [-x], line 5"},
		{"interval without unit", svcHeader + "  interval 60\n", "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 5"},
		{"interval zero", svcHeader + "  interval 0s\n", "cf error: invalid time interval '0' (syntax: interval = {positive number}{smhd}), line 5"},
		{"interval with =", svcHeader + "  interval = 5m\n", "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 5"},
		{"interval trailing comment", svcHeader + "  interval 5m # every 5 min\n", "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 5"},
		{"failure_interval", svcHeader + "  failure_interval 5\n", "cf error: invalid interval '' (syntax: failure_interval = {positive number}{smhd}), line 5"},
		{"traptimeout", svcHeader + "  traptimeout x\n", "cf error: invalid traptimeout interval '' (syntax: traptimeout = {positive number}{smhd}), line 5"},
		{"trapduration", svcHeader + "  trapduration 0h\n", "cf error: invalid trapduration interval '0' (syntax: trapduration = {positive number}{smhd}), line 5"},
		{"randskew", svcHeader + "  randskew 1w\n", "cf error: invalid randskew time interval '' (syntax: randskew = {positive number}{smhd}), line 5"},
		{"service dep_behavior", svcHeader + "  dep_behavior x\n", "cf error: unknown dependency behavior 'x' (syntax: dep_behavior = {m|a}), line 5"},
		{"service dep_memory", svcHeader + "  dep_memory 0s\n", "cf error: bad value '0s' for dep_memory option (syntax: dep_memory = timeval), line 5"},
		{"service unack_summary requires a value", svcHeader + "  unack_summary\n", "cf error: invalid unack_summary value '' (syntax: unack_summary [0|1|y|yes|n|no])"},
		{"service exclude_period", svcHeader + "  exclude_period hr {99}\n", "cf error: malformed exclude_period 'hr {99}' (the specified time period is not valid as per Time::Period::inPeriod), line 5"},
		{"line counts continuations and comments", "# c\n\nhostgroup g \\\n  h\n# c\n\nwatch g\n  service s\n    interval \\\n# c\n      60\n", "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 11"},
		// gomon's stricter checks, in mon's style.
		{"spaced exit range (Q-CFG-10)", svcHeader + "  period\n    alert exit = 3 mail.alert\n", "cf error: invalid exit code range in alert line 'exit = 3 mail.alert', line 6"},
		{"non-numeric integer (Q-CFG-12)", "maxprocs = lots\n", "cf error: bad value 'lots' for maxprocs (syntax: maxprocs = integer), line 1"},
		{"port out of range", "serverport = 70000\n", "cf error: bad value '70000' for serverport (syntax: serverport = integer), line 1"},
		{"exit value overflow", svcHeader + "  period\n    alert exit=99999999999999999999 mail.alert\n", "cf error: invalid exit code range '99999999999999999999', line 6"},
		{"exit value above 255", svcHeader + "  period\n    upalert exit=1-300 mail.alert\n", "cf error: invalid exit code range '1-300', line 6"},
		{"reversed exit range", svcHeader + "  period\n    alert exit=5-2 mail.alert\n", "cf error: invalid exit code range '5-2', line 6"},
		{"reversed alertexitrange", svcHeader + "  period\n    alertexitrange 9-1\n", "cf error: invalid exit code range '9-1', line 6"},
		{"interval below the minimum", svcHeader + "  interval 0.0001s\n", "cf error: interval 0.0001s is below the minimum of 100ms, line 5"},
		{"failure_interval below the minimum", svcHeader + "  failure_interval 0.05s\n", "cf error: failure_interval 0.05s is below the minimum of 100ms, line 5"},
		{"authtype pam", "authtype = getpwnam pam\n", "cf error: authtype pam is not supported: gomon is built without PAM (cgo); use authtype userfile (crypt, bcrypt or htpasswd hashes) or getpwnam instead, line 1"},
		{"unknown authtype", "authtype = kerberos\n", "cf error: authentication type 'kerberos' not known (known: getpwnam userfile trustlocal shadow), line 1"},
		{"alert without name", svcHeader + "  period\n    alert exit=2\n", "cf error: missing alert name in alert line 'exit=2', line 6"},
		{"unbalanced quote", svcHeader + "  period\n    alert mail.alert \"x\n", "cf error: bad alert arguments '\"x', line 6"},
		{"monitor without name", svcHeader + "  monitor\n", "cf error: missing monitor name [monitor ], line 5"},
		{"bad dependency", svcHeader + "  depend g:s &&\n", "cf error: invalid dependency expression 'g:s &&', line 5"},
		{"bad schedule", svcHeader + "  schedule every now\n", "cf error: invalid schedule 'every now' (syntax: schedule = CRON-EXPRESSION), line 5"},
		{"schedule and interval", svcHeader + "  interval 5m\n  schedule @hourly\n", "cf error: service s has both interval and schedule, line 6"},
		{"status_listen", "status_listen = nonsense\n", "cf error: bad value 'nonsense' for status_listen (syntax: status_listen = [HOST]:PORT), line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := parseErr(t, tc.src)
			if got := e.Legacy(); got != tc.legacy {
				t.Errorf("Legacy() = %q\n             want %q", got, tc.legacy)
			}
			// The positioned form carries the same message without ", line N",
			// but shows the user's text where mon shows a failed conversion.
			d := e.Diags[0]
			msg := strings.TrimSuffix(tc.legacy, ", line "+strconv.Itoa(d.Pos.Line))
			if text, ok := userText[tc.name]; ok {
				_, after, _ := strings.Cut(msg, "'")
				_, after, _ = strings.Cut(after, "'")
				msg = msg[:strings.Index(msg, "'")] + "'" + text + "'" + after
			}
			if !strings.HasPrefix(e.Error(), "mon.cf:"+strconv.Itoa(d.Pos.Line)+": "+msg) {
				t.Errorf("Error() = %q, want prefix %q", e.Error(), "mon.cf:"+strconv.Itoa(d.Pos.Line)+": "+msg)
			}
		})
	}
}

// userText is what gomon's message shows where mon's shows the failed
// conversion of a time value (” or '0'), by TestErrorTexts case.
var userText = map[string]string{
	"alertevery":                             "1h bogus",
	"alertevery zero":                        "0m",
	"upalertafter":                           "5",
	"interval without unit":                  "60",
	"interval zero":                          "0s",
	"interval with =":                        "= 5m",
	"interval trailing comment":              "5m # every 5 min",
	"failure_interval":                       "5",
	"traptimeout":                            "x",
	"trapduration":                           "0h",
	"randskew":                               "1w",
	"line counts continuations and comments": "60",
}

func TestAllErrorsReported(t *testing.T) {
	src := "frobnicate = 1\n" + // 1
		"hostgroup g h\n\n" + // 2-3
		"watch g\n" + // 4
		"    service s\n" + // 5
		"        interval 60\n" + // 6
		"        retries 3\n" + // 7
		"        monitor m.monitor\n" + // 8
		"        period wd {Funday}\n" + // 9
		"            alert mail.alert\n" + // 10 (inside a rejected period: still checked)
		"            alertevery 1x\n" + // 11
		"    service s\n" + // 12
		"        interval 1m\n" // 13
	e := parseErr(t, src)
	var lines []int
	for _, d := range e.Diags {
		lines = append(lines, d.Pos.Line)
	}
	if want := []int{1, 6, 7, 9, 11, 12}; !reflect.DeepEqual(lines, want) {
		t.Errorf("error lines = %v, want %v\n%v", lines, want, e)
	}
	if e.Legacy() != "cf error: unknown variable 'frobnicate', line 1" {
		t.Errorf("Legacy = %q", e.Legacy())
	}
	want := "mon.cf:1: cf error: unknown variable 'frobnicate'\n" +
		"mon.cf:6: cf error: invalid time interval '60' (syntax: interval = {positive number}{smhd}); " + timevalHint
	if !strings.HasPrefix(e.Error(), want) {
		t.Errorf("Error() =\n%s\nwant prefix\n%s", e.Error(), want)
	}
	// The protocol's `test config` keeps mon's text: the failed conversion.
	if l := e.Diags[1].Legacy; l != "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 6" {
		t.Errorf("Legacy = %q", l)
	}
}

func TestHints(t *testing.T) {
	for _, tc := range []struct{ src, hint string }{
		{svcHeader + "  period\n    alert a.alert\n  interval 5m\n", "service keyword 'interval' is not allowed after the first period of a service"},
		{svcHeader + "  alert a.alert\n", "'alert' belongs in a period section"},
		{svcHeader + "  Interval 5m\n", "keywords are case-sensitive"},
		{svcHeader + "  period\n    alert exit = 3 a.alert\n", "write exit=N or exit=N-M without blanks, then the alert name"},
		// Typos of keywords.
		{"maxproc = 3\n", "did you mean 'maxprocs'?"},
		{"statusllisten = :8080\n", "did you mean 'status_listen'?"},
		{svcHeader + "  intervall 5m\n", "did you mean 'interval'?"},
		{svcHeader + "  monitr m\n", "did you mean 'monitor'?"},
		{svcHeader + "  period\n    alertevry 1h\n", "did you mean 'alertevery'?"},
		{svcHeader + "  period\n    numalert 3\n", "did you mean 'numalerts'?"},
		{svcHeader + "  frobnicate 1\n", ""}, // nothing near
	} {
		e := parseErr(t, tc.src)
		if e.Diags[0].Hint != tc.hint {
			t.Errorf("hint = %q, want %q", e.Diags[0].Hint, tc.hint)
		}
	}
}

// TestGlobalKeywords keeps globalKeywords in step with setGlobal: each
// listed name is known, and each name setGlobal switches on or looks up
// is listed.
func TestGlobalKeywords(t *testing.T) {
	for kw := range globalKeywords {
		if _, err := Parse("mon.cf", []byte(kw+" = x\n"), LoadOptions{}); err != nil && strings.Contains(err.Error(), "unknown variable") {
			t.Errorf("%s: %v", kw, err)
		}
	}
	src, err := os.ReadFile("globals.go")
	if err != nil {
		t.Fatal(err)
	}
	body := string(src)
	body = body[strings.Index(body, "func (b *builder) setGlobal"):]
	body = body[:strings.Index(body, "\n}\n")]
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s*case ("[a-z0-9_]+"(?:, "[a-z0-9_]+")*):`).FindAllStringSubmatch(body, -1) {
		names = append(names, strings.Split(strings.ReplaceAll(m[1], `"`, ""), ", ")...)
	}
	for _, m := range regexp.MustCompile(`"([a-z0-9_]+)": +[{&]`).FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	if len(names) < 20 {
		t.Fatalf("found only %v in setGlobal", names)
	}
	for _, name := range names {
		if !globalKeywords[name] {
			t.Errorf("setGlobal knows %q, globalKeywords does not", name)
		}
	}
}

// fixtures is the project's directory of configuration fixtures.
var fixtures = filepath.Join("..", "..", "testdata", "config")

// TestMalformedConfigScenario replays the configs of the conformance
// scenario malformed_config (copied to testdata) against its golden texts.
func TestMalformedConfigScenario(t *testing.T) {
	dir := filepath.Join(fixtures, "malformed")
	for file, want := range map[string]string{
		"unknown_global.cf":          "cf error: unknown variable 'frobnicate', line 3",
		"unknown_service_keyword.cf": "cf error: unknown syntax [retries 3], line 10",
		"unknown_period_keyword.cf":  "cf error: unknown syntax [escalate 2], line 12",
		"bad_interval.cf":            "cf error: invalid time interval '' (syntax: interval = {positive number}{smhd}), line 8",
		"bad_period.cf":              "cf error: malformed period 'wd {Funday}' (the specified time period is not valid as per Time::Period::inPeriod), line 10",
	} {
		_, err := Load(filepath.Join(dir, file), LoadOptions{})
		e, ok := err.(*Error)
		if !ok || e.Legacy() != want {
			t.Errorf("%s: %v, want %q", file, err, want)
		}
	}

	abs, _ := filepath.Abs(filepath.Join(dir, "does_not_exist.cf"))
	_, err := Load(filepath.Join(dir, "does_not_exist.cf"), LoadOptions{})
	if e, ok := err.(*Error); !ok || e.Legacy() != "config file "+abs+" does not exist" || e.Error() != e.Legacy() {
		t.Errorf("missing file: %v", err)
	}

	c, err := Load(filepath.Join(dir, "service_outside_watch.cf"), LoadOptions{})
	if err != nil || len(c.Watches) != 0 || !hasWarning(c, "service_outside_watch.cf:6: warning: line ignored: 'service svc'") {
		t.Errorf("service_outside_watch.cf: %v %v", err, warnings(c))
	}

	c, err = Load(filepath.Join(dir, "undefined_hostgroup.cf"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var legacy []string
	for _, d := range c.Warnings {
		if d.Legacy != "" {
			legacy = append(legacy, d.Legacy)
		}
	}
	if want := []string{
		"Warning: watch group nosuchgroup defined with no corresponding hostgroup.",
		"Warning: hostgroup unused has no watch assigned to it!",
	}; !reflect.DeepEqual(legacy, want) {
		t.Errorf("warnings = %q", legacy)
	}
	if g := c.HostGroup("nosuchgroup"); g == nil || !reflect.DeepEqual(g.Hosts, []string{"nosuchgroup"}) {
		t.Errorf("implicit group = %+v", g)
	}

	if _, err := Load(filepath.Join(dir, "missing_monitor.cf"), LoadOptions{}); err != nil {
		t.Errorf("missing_monitor.cf: %v", err)
	}
}

func TestUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can read any file")
	}
	p := filepath.Join(t.TempDir(), "mon.cf")
	if err := os.WriteFile(p, nil, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, LoadOptions{})
	if e, ok := err.(*Error); !ok || e.Legacy() != "could not open cf file: "+p+": Permission denied" {
		t.Errorf("err = %v", err)
	}
}
