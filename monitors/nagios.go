package monitors

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// nagiosMonitor runs a Nagios / monitoring-plugins plugin, once per host
// (with $HOST substituted) or once in all with `;;`, and maps the plugin
// states to mon exit codes.
type nagiosMonitor struct {
	plugin    string   // resolved path
	args      []string // may contain $HOST
	timeout   time.Duration
	warningOK bool // -w-ok: WARNING counts as success
}

const nagiosUsage = "nagios [-t SECS] [-w-ok] PLUGIN [ARG...]  ($HOST in ARGs is each host; without it, -H HOST is added)"

// Nagios plugin states; mon sees the same numbers as exit codes.
const (
	nagiosOK       = 0
	nagiosWarning  = 1
	nagiosCritical = 2
	nagiosUnknown  = 3
)

var nagiosStateNames = map[int]string{nagiosOK: "OK", nagiosWarning: "WARNING", nagiosCritical: "CRITICAL", nagiosUnknown: "UNKNOWN"}

// Where distributions install plugins, searched for a bare PLUGIN name
// before $PATH.
var nagiosPluginDirs = []string{
	"/usr/lib/nagios/plugins",
	"/usr/lib/monitoring-plugins",
	"/usr/lib64/nagios/plugins",
	"/usr/local/nagios/libexec",
}

func newNagios(args []string) (Monitor, error) {
	fs := flag.NewFlagSet("nagios", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	secs := fs.Int("t", 60, "plugin timeout in seconds")
	m := &nagiosMonitor{}
	fs.BoolVar(&m.warningOK, "w-ok", false, "treat WARNING as success")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() == 0 {
		return nil, errors.New("no plugin given")
	}
	if *secs <= 0 {
		return nil, fmt.Errorf("-t %d: want a positive number of seconds", *secs)
	}
	m.timeout = time.Duration(*secs) * time.Second
	path, err := findPlugin(fs.Arg(0))
	if err != nil {
		return nil, err
	}
	m.plugin, m.args = path, fs.Args()[1:]
	return m, nil
}

func findPlugin(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range nagiosPluginDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("plugin %s not found in %s or $PATH", name, strings.Join(nagiosPluginDirs, ", "))
	}
	return p, nil
}

// pluginRun is one plugin execution.
type pluginRun struct {
	host   string // "" when run once
	state  int    // the exit status, after timeout mapping
	status string // first output line, before '|'
	long   []string
	perf   map[string]float64
}

func (m *nagiosMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	if len(req.Hosts) == 0 {
		run := m.run(ctx, "", req.Env)
		res := Result{Exit: m.exit(run.state), Values: values("", run.perf)}
		var b strings.Builder
		b.WriteString(run.status + "\n")
		for _, l := range run.long {
			b.WriteString(l + "\n")
		}
		res.Output = []byte(b.String())
		res.Duration = time.Since(start)
		return res
	}

	runs := make([]pluginRun, len(req.Hosts))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, h := range req.Hosts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			runs[i] = m.run(ctx, h, req.Env)
		}()
	}
	wg.Wait()

	var res Result
	var failed []string
	var detail strings.Builder
	worst := nagiosOK
	for _, r := range runs {
		exit := m.exit(r.state)
		res.Hosts = append(res.Hosts, HostResult{Host: r.host, OK: exit == 0, Detail: r.status})
		res.Values = append(res.Values, values(r.host, r.perf)...)
		if exit != 0 {
			failed = append(failed, r.host)
		}
		if nagiosRank(exit) > nagiosRank(worst) {
			worst = exit
		}
		fmt.Fprintf(&detail, "%s: %s\n", r.host, r.status)
	}
	sort.Strings(failed)
	res.Exit = worst
	res.Output = []byte(strings.Join(failed, " ") + "\n" + detail.String())
	res.Duration = time.Since(start)
	return res
}

// exit maps a plugin state to the mon exit code: the same number, except
// WARNING with -w-ok.
func (m *nagiosMonitor) exit(state int) int {
	if state == nagiosWarning && m.warningOK {
		return 0
	}
	return state
}

// nagiosRank orders states by badness for the combined exit code:
// OK < WARNING < UNKNOWN < CRITICAL < anything else (the plugin could not
// run or died).
func nagiosRank(state int) int {
	switch state {
	case nagiosOK:
		return 0
	case nagiosWarning:
		return 1
	case nagiosUnknown:
		return 2
	case nagiosCritical:
		return 3
	}
	return 4
}

// run executes the plugin once, for host (or for none), through the
// external-monitor runner: no shell, a timeout, process-group kill.
func (m *nagiosMonitor) run(ctx context.Context, host string, env []string) pluginRun {
	args := make([]string, len(m.args))
	substituted := false
	for i, a := range m.args {
		args[i] = strings.ReplaceAll(strings.ReplaceAll(a, "${HOST}", host), "$HOST", host)
		substituted = substituted || args[i] != a
	}
	if host != "" && !substituted {
		args = append(args, "-H", host)
	}
	ext := &External{Path: m.plugin, MaxOutput: 64 << 10}
	res := ext.Check(ctx, Request{Args: args, Env: env, Timeout: m.timeout})

	r := pluginRun{host: host, state: res.Exit}
	r.status, r.long, r.perf = splitPluginOutput(res.Output)
	switch {
	case res.TimedOut:
		r.state = nagiosCritical
		r.status = fmt.Sprintf("CRITICAL - plugin timed out after %v", m.timeout)
	case res.Exit > nagiosUnknown && r.status == "":
		r.status = fmt.Sprintf("UNKNOWN - plugin exited with status %d", res.Exit)
	case r.status == "":
		r.status = nagiosStateNames[res.Exit] + " - plugin printed nothing"
	}
	return r
}

// splitPluginOutput splits a Nagios plugin's output into its status
// line, its long output and its perfdata, which follows '|' on the first
// line and, in long output, the first '|' of a later line to the end.
func splitPluginOutput(out []byte) (status string, long []string, perf map[string]float64) {
	perf = map[string]float64{}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	status, data, _ := strings.Cut(lines[0], "|")
	parsePerfdata(data, perf)
	inPerf := false
	for _, l := range lines[1:] {
		if inPerf {
			parsePerfdata(l, perf)
			continue
		}
		if text, more, found := strings.Cut(l, "|"); found {
			inPerf = true
			l = strings.TrimRight(text, " ")
			parsePerfdata(more, perf)
		}
		long = append(long, l)
	}
	return strings.TrimSpace(status), long, perf
}

// parsePerfdata adds the values of "label=value[UOM];warn;crit;min;max"
// items to into. Labels may be single-quoted, a doubled quote standing
// for one; values that are not numbers (like U) are skipped.
func parsePerfdata(s string, into map[string]float64) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return
		}
		var label string
		if s[0] == '\'' {
			var b strings.Builder
			i := 1
			for ; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(s[i])
			}
			label = b.String()
			s = s[min(i+1, len(s)):]
			if !strings.HasPrefix(s, "=") {
				return // malformed: stop rather than guess
			}
		} else {
			eq := strings.IndexByte(s, '=')
			if eq < 0 {
				return
			}
			label = s[:eq]
			s = s[eq:]
		}
		s = s[1:] // the '='
		item, rest, _ := strings.Cut(s, " ")
		s = rest
		value, _, _ := strings.Cut(item, ";")
		num := strings.TrimRight(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
		if v, err := strconv.ParseFloat(strings.Replace(num, ",", ".", 1), 64); err == nil && label != "" {
			into[label] = v
		}
	}
}

func init() {
	Register(&Builtin{Name: "nagios", Usage: nagiosUsage, New: newNagios})
}
