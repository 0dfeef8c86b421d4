package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/configfile"
)

// options is mon's command line (config.md §1.1) plus gomon's additions.
// Pointer fields are the "overrides" settings: nil means "not given", so
// the config file's value stands.
type options struct {
	alertDir      *string
	authFile      *string
	baseDir       *string
	cfBaseDir     *string
	configFile    string
	debug         int
	stateDir      *string
	fork          bool
	help          bool
	sleep         int
	maxKeep       *int
	loadState     string // "" = not given; "disabled", "opstatus" or "all"
	logDir        *string
	m4            *string // non-nil: preprocess with m4 ("" = m4 from PATH)
	maxProcs      *int
	syslogFac     *string
	port          *int
	pidFile       *string
	randStart     *time.Duration
	scriptDir     *string
	stopped       bool
	trapPort      *int
	version       bool
	checkConfig   bool // gomon: parse, validate, report every problem, exit
	embedded      bool // gomon: run the embedded default configuration
	logFormat     string
	args          []string // non-option arguments (subcommands)
	unknownOption string
}

// optSpec describes one option: its letters, whether it takes a value
// (and whether the value is optional), and where it goes.
type optSpec struct {
	short byte
	long  string
	arg   int // 0 none, 1 required, 2 optional
	set   func(o *options, v string) error
}

const (
	noArg = iota
	reqArg
	optArg
)

var optSpecs = []optSpec{
	{'a', "alertdir", reqArg, func(o *options, v string) error { o.alertDir = &v; return nil }},
	{'A', "authfile", reqArg, func(o *options, v string) error { o.authFile = &v; return nil }},
	{'b', "basedir", reqArg, func(o *options, v string) error { o.baseDir = &v; return nil }},
	{'B', "cfbasedir", reqArg, func(o *options, v string) error { o.cfBaseDir = &v; return nil }},
	{'c', "configfile", reqArg, func(o *options, v string) error { o.configFile = v; return nil }},
	{'d', "debug", noArg, func(o *options, _ string) error { o.debug++; return nil }},
	{'D', "statedir", reqArg, func(o *options, v string) error { o.stateDir = &v; return nil }},
	{'f', "fork", noArg, func(o *options, _ string) error { o.fork = true; return nil }},
	{'h', "help", noArg, func(o *options, _ string) error { o.help = true; return nil }},
	{'i', "sleep", reqArg, func(o *options, v string) error { return atoi(v, &o.sleep) }},
	{'k', "maxkeep", reqArg, func(o *options, v string) error { return atoiP(v, &o.maxKeep) }},
	{'l', "loadstate", optArg, func(o *options, v string) error {
		switch v {
		case "":
			v = "disabled"
		case "disabled", "opstatus", "all":
		default:
			return fmt.Errorf("-l takes disabled, opstatus or all, not %q", v)
		}
		o.loadState = v
		return nil
	}},
	{'L', "logdir", reqArg, func(o *options, v string) error { o.logDir = &v; return nil }},
	{'M', "m4", optArg, func(o *options, v string) error { o.m4 = &v; return nil }},
	{'m', "maxprocs", reqArg, func(o *options, v string) error { return atoiP(v, &o.maxProcs) }},
	{'O', "syslogfacility", reqArg, func(o *options, v string) error { o.syslogFac = &v; return nil }},
	{'p', "port", reqArg, func(o *options, v string) error { return atoiP(v, &o.port) }},
	{'P', "pidfile", reqArg, func(o *options, v string) error { o.pidFile = &v; return nil }},
	{'r', "randstart", reqArg, func(o *options, v string) error {
		d, err := configfile.ParseTimeval(v)
		if err != nil {
			return errors.New("bad randstart value")
		}
		o.randStart = &d
		return nil
	}},
	{'s', "scriptdir", reqArg, func(o *options, v string) error { o.scriptDir = &v; return nil }},
	{'S', "stopped", noArg, func(o *options, _ string) error { o.stopped = true; return nil }},
	{'t', "trapport", reqArg, func(o *options, v string) error { return atoiP(v, &o.trapPort) }},
	{'v', "version", noArg, func(o *options, _ string) error { o.version = true; return nil }},
	// gomon additions. mon's -t is the trap port, so the config check is
	// -C / --check-config.
	{'C', "check-config", noArg, func(o *options, _ string) error { o.checkConfig = true; return nil }},
	{0, "embedded-config", noArg, func(o *options, _ string) error { o.embedded = true; return nil }},
	{0, "log-format", reqArg, func(o *options, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("--log-format takes text or json, not %q", v)
		}
		o.logFormat = v
		return nil
	}},
}

func atoi(v string, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*dst = n
	return nil
}

func atoiP(v string, dst **int) error {
	var n int
	if err := atoi(v, &n); err != nil {
		return err
	}
	*dst = &n
	return nil
}

// parseOptions parses mon's GNU-style options: `-x value`, `--long=value`
// and `--long value`; single-letter flags cannot be bundled. An optional
// value (-l, -M) is taken from the next argument unless that looks like
// an option. Parsing stops at the first non-option argument, which
// starts a subcommand.
func parseOptions(argv []string) (*options, error) {
	o := &options{}
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			o.args = argv[i+1:]
			break
		}
		if len(a) < 2 || a[0] != '-' {
			o.args = argv[i:]
			break
		}
		var (
			spec     *optSpec
			val      string
			hasValue bool
		)
		if strings.HasPrefix(a, "--") {
			name, v, eq := strings.Cut(a[2:], "=")
			for j := range optSpecs {
				if optSpecs[j].long == name {
					spec = &optSpecs[j]
				}
			}
			val, hasValue = v, eq
		} else if len(a) == 2 {
			for j := range optSpecs {
				if optSpecs[j].short == a[1] {
					spec = &optSpecs[j]
				}
			}
		}
		if spec == nil {
			o.unknownOption = a
			return o, fmt.Errorf("unknown option %s", a)
		}
		switch spec.arg {
		case noArg:
			if hasValue {
				return o, fmt.Errorf("option %s takes no value", a)
			}
		case reqArg:
			if !hasValue {
				if i+1 >= len(argv) {
					return o, fmt.Errorf("option %s needs a value", a)
				}
				i++
				val = argv[i]
			}
		case optArg:
			if !hasValue && i+1 < len(argv) && !strings.HasPrefix(argv[i+1], "-") && !isSubcommand(argv[i+1]) {
				i++
				val = argv[i]
			}
		}
		if err := spec.set(o, val); err != nil {
			return o, fmt.Errorf("option %s: %w", a, err)
		}
	}
	return o, nil
}

func isSubcommand(s string) bool {
	switch s {
	case "period", "convert":
		return true
	}
	return false
}

const usage = `Usage: mon [options] [command]

Options (as mon 1.3):
  -a, --alertdir DIRS        alert search path (colon separated)
  -A, --authfile FILE        auth.cf location
  -b, --basedir DIR          base directory for relative paths
  -B, --cfbasedir DIR        configuration directory (default /etc/mon)
  -c, --configfile FILE      configuration file (default CFBASEDIR/mon.cf)
  -d, --debug                more logging (repeatable)
  -D, --statedir DIR         state directory
  -f, --fork                 run in the background
  -h, --help                 this text
  -i, --sleep SECS           accepted for compatibility (gomon does not poll)
  -k, --maxkeep N            alert/failure history length
  -l, --loadstate [WHAT]     load saved state: disabled (default), opstatus, all
  -L, --logdir DIR           log directory
  -M, --m4 [PATH]            preprocess the configuration with m4
  -m, --maxprocs N           at most N monitors at once (0 = no limit)
  -O, --syslogfacility FAC   syslog facility (default daemon)
  -p, --port PORT            TCP client port (default 2583)
  -P, --pidfile FILE         pid file ("" = none)
  -r, --randstart TIME       spread first runs over TIME (e.g. 30s)
  -s, --scriptdir DIRS       monitor search path (colon separated)
  -S, --stopped              start with the scheduler stopped
  -t, --trapport PORT        UDP trap port (default 2583)
  -v, --version              print the version and exit

gomon additions:
  -C, --check-config         check the configuration, print every problem, exit
      --embedded-config      run the built-in configuration that monitors this host
      --log-format text|json log format on stderr (default text)

Status page and web console: on http://127.0.0.1:2584/ (loopback only) unless
mon.cf says otherwise: status_listen = ADDR moves it, status_listen = off turns
it off. If the default address is taken, gomon runs without it (a warning is
logged); an explicit ADDR that cannot be bound stops the start. Actions there
(ack, disable, enable, test) need the same login and auth.cf rights as the
protocol commands. The start-up log names the URL.

Commands:
  mon period SPEC [TIME...]  print 1, 0 or -1 for each unix TIME (default now):
                             is TIME inside the period SPEC?
  mon convert FILE           print the configuration FILE as HCL
`
