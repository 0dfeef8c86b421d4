package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gomon/gomon/alerts"
	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/internal/getopt"
	"github.com/gomon/gomon/internal/period"
	"github.com/gomon/gomon/monitors"
)

// cmdPeriod prints 1, 0 or -1 for each time: is it inside the period?
func cmdPeriod(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: mon period SPEC [UNIXTIME...]")
		return 2
	}
	spec, times := args[0], args[1:]
	if len(times) == 0 {
		times = []string{strconv.FormatInt(time.Now().Unix(), 10)}
	}
	p, perr := period.Parse(spec)
	for _, ts := range times {
		t, err := strconv.ParseInt(ts, 10, 64)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "mon period: %q is not a unix time\n", ts)
			return 2
		case perr != nil:
			// Time::Period's own answer: it examines sub-periods only
			// until one matches, so a spec the loader rejects can still
			// be inside (`md {1-15}, foo {1}` on the 5th).
			fmt.Fprintln(stdout, period.InPeriod(t, spec, nil))
		case p.In(time.Unix(t, 0)):
			fmt.Fprintln(stdout, 1)
		default:
			fmt.Fprintln(stdout, 0)
		}
	}
	if perr != nil {
		fmt.Fprintf(stderr, "mon period: %v (the config loader rejects this spec)\n", perr)
		return 1
	}
	return 0
}

// cmdConvert prints a configuration file as HCL: what it says, with its
// comments, without defaults or derived paths.
func cmdConvert(o *options, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: mon convert FILE")
		return 2
	}
	// Written whole or not at all: half a configuration on stdout would
	// look like a converted one.
	var out bytes.Buffer
	if err := configfile.Convert(&out, args[0], loadOptions(o)); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	stdout.Write(out.Bytes())
	return 0
}

// cmdInstallDropIns links every drop-in name of the built-in monitors
// and alerts (fping.monitor, mail.alert…) to the mon binary, so the Perl
// mon, or anything else, can run them as scripts. The names come from
// the registries, so an installed name always has its built-in.
//
//	mon install-dropins [--target PATH] MONDIR ALERTDIR
//
// PATH is what the links point to (default: this executable); with a
// staging DESTDIR it is the binary's final installed path.
func cmdInstallDropIns(args []string, stdout, stderr io.Writer) int {
	o, err := getopt.Parse(args, "", "target:")
	if err != nil || len(o.Args) != 2 {
		fmt.Fprintln(stderr, "usage: mon install-dropins [--target PATH] MONDIR ALERTDIR")
		return 2
	}
	target := o.Get("target")
	if target == "" {
		if target, err = os.Executable(); err != nil {
			fmt.Fprintf(stderr, "mon install-dropins: %v\n", err)
			return 1
		}
	}
	for _, set := range []struct {
		dir   string
		names []string
	}{
		{o.Args[0], monitors.Builtins().DropIns()},
		{o.Args[1], alerts.Builtins().DropIns()},
	} {
		if err := os.MkdirAll(set.dir, 0o755); err != nil {
			fmt.Fprintf(stderr, "mon install-dropins: %v\n", err)
			return 1
		}
		for _, n := range set.names {
			link := filepath.Join(set.dir, n)
			// Replace what is there, as ln -sf does: a reinstall
			// points the links at the new binary.
			if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(stderr, "mon install-dropins: %v\n", err)
				return 1
			}
			if err := os.Symlink(target, link); err != nil {
				fmt.Fprintf(stderr, "mon install-dropins: %v\n", err)
				return 1
			}
			fmt.Fprintln(stdout, link)
		}
	}
	return 0
}
