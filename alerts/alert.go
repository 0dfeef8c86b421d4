// Package alerts delivers alerts: external alert scripts (mon's
// interface) and built-in notifiers. Every alert is an Alert, registered
// by name; the external-program runner is just one implementation.
package alerts

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// Event is everything mon hands an alert program.
type Event struct {
	Group, Service string
	Hosts          []string  // -h, joined with blanks
	Time           time.Time // -t, in whole seconds
	Type           decide.AlertType
	// Flag overrides the type's flag when non-nil (test upalerts pass -u).
	Flag *string
	Args []string // configured arguments, shell-split
	// Input is fed on stdin: the event text (summary line, then detail).
	Input []byte
	// Env holds MON_* and the service's VAR=value lines ("K=V").
	Env []string
}

// Argv returns the arguments after the program name, exactly as mon
// builds them: -s S -g G -h "HOSTS" -t EPOCH [FLAG] ARGS...
func (e Event) Argv() []string {
	argv := []string{"-s", e.Service, "-g", e.Group, "-h", strings.Join(e.Hosts, " "),
		"-t", strconv.FormatInt(e.Time.Unix(), 10)}
	flag := e.Type.Flag()
	if e.Flag != nil {
		flag = *e.Flag
	}
	if flag != "" {
		argv = append(argv, flag)
	}
	return append(argv, e.Args...)
}

// Summary is the first line of the input, or "(NO SUMMARY)".
func (e Event) Summary() string {
	s, _, _ := strings.Cut(string(e.Input), "\n")
	if strings.TrimSpace(s) == "" {
		return "(NO SUMMARY)"
	}
	return s
}

// Alert is one notifier implementation.
type Alert interface {
	Send(ctx context.Context, ev Event) error
}

// DeliveryChecker is an Alert that can tell, without sending anything,
// whether it could deliver now (mail: is there a sendmail or an SMTP
// server). `mon --check-config` warns when it cannot.
type DeliveryChecker interface {
	CheckDelivery(ctx context.Context) error
}

// ArgsRedactor is an Alert whose configured arguments can hold a secret
// (dnsupdate -k): the scheduler logs its arguments and keeps them in the
// alert history as RedactArgs returns them.
type ArgsRedactor interface {
	RedactArgs(raw string) string
}
