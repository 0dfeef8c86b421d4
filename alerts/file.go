package alerts

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func init() {
	Register(&Builtin{
		Name:    "file",
		Aliases: []string{"file.alert"},
		Usage:   "file [-d DIR] [-S SUMMARY] [FILE]",
		New:     newFile,
	})
}

// fileAlert appends one record per event to a file, in file.alert's format.
type fileAlert struct {
	path    string
	summary *string // -S override
}

func newFile(args []string) (Alert, error) {
	o, err := ParseArgs("file", args, "d:S:l:uOT")
	if err != nil {
		return nil, err
	}
	name := "file"
	if len(o.Args) > 0 {
		name = o.Args[0]
	}
	// file.alert tests $opt_d for truth: "" and "0" mean no directory.
	if d := o.Get("d"); d != "" && d != "0" {
		name = filepath.Join(d, name)
	}
	f := &fileAlert{path: name}
	if o.Has("S") {
		s := o.Get("S")
		f.summary = &s
	}
	return f, nil
}

func (f *fileAlert) Send(ctx context.Context, ev Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	summary, rest := ev.SplitInput()
	if f.summary != nil {
		summary = *f.summary
	}
	alert, ok := ev.Getenv("MON_ALERTTYPE")
	if !ok || alert == "" {
		alert = "UNKNOWN ALERT"
	}
	opstatus, ok := ev.Getenv("MON_OPSTATUS")
	if !ok {
		opstatus = "UNKNOWN OPSTATUS"
	}
	descr, _ := ev.Getenv("MON_DESCRIPTION")

	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s (%s) %s\n", alert, ev.Group, ev.Service,
		strconv.FormatInt(ev.Time.Unix(), 10), shortTime(ev.Time), summary)
	fmt.Fprintf(&b, "DESCR=%s\nOPSTATUS=%s\n", descr, opstatus)
	b.Write(rest)
	b.WriteString(".\n")

	// One write on an O_APPEND descriptor: concurrent alerts appending to
	// the same file do not interleave their records.
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("file alert: could not append to %s: %w", f.path, err)
	}
	if _, err := fh.WriteString(b.String()); err != nil {
		fh.Close()
		return fmt.Errorf("file alert: %s: %w", f.path, err)
	}
	return fh.Close()
}
