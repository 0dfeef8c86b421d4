package alerts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

func init() {
	Register(&Builtin{
		Name:    "trap",
		Aliases: []string{"trap.alert"},
		Usage:   "trap [-U USER] [-P PASS] [-o OPSTATUS] HOST[:PORT]...",
		New:     newTrap,
	})
}

// defaultTrapPort is mon/udp.
const defaultTrapPort = "2583"

// trapAlert forwards the event as a mon trap to other mon servers (a
// cascade of monitoring servers), like trap.alert with Mon::Client.
type trapAlert struct {
	hosts      []string // host:port
	user, pass string   // -U, -P
	opstatus   *int     // -o
}

func newTrap(args []string) (Alert, error) {
	// -T is a flag here (Q-MON-2): trap.alert declares it as taking a
	// value, which swallows an argument when mon passes -T.
	o, err := ParseArgs("trap", args, "l:o:uU:P:T")
	if err != nil {
		return nil, err
	}
	t := &trapAlert{user: o.Get("U"), pass: o.Get("P")}
	// trap.alert tests $opt_o for truth: "" and "0" mean no override.
	if v := o.Get("o"); v != "" && v != "0" {
		n := perlInt(v)
		t.opstatus = &n
	}
	for _, h := range o.Args {
		if _, _, err := net.SplitHostPort(h); err != nil {
			h = net.JoinHostPort(h, defaultTrapPort)
		}
		t.hosts = append(t.hosts, h)
	}
	return t, nil
}

var leadingInt = regexp.MustCompile(`^\s*[-+]?\d+`)

// perlInt is Perl's int() of a string: its leading integer, else 0.
func perlInt(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(leadingInt.FindString(s)))
	return n
}

func (t *trapAlert) Send(ctx context.Context, ev Event) error {
	summary, rest := ev.SplitInput()
	detail := strings.TrimSuffix(string(rest), "\n")

	// As in trap.alert, the environment wins over -U and -P.
	user := firstNonEmpty(envOf(ev, "MON_TRAP_USER"), t.user)
	pass := firstNonEmpty(envOf(ev, "MON_TRAP_PASS"), t.pass)
	code := 0
	if v, ok := ev.Getenv("MON_OPSTATUS"); ok {
		code = perlInt(v)
	}
	if t.opstatus != nil {
		code = *t.opstatus
	}
	retval, ok := ev.Getenv("MON_RETVAL")
	n, err := strconv.Atoi(retval)
	if !ok || err != nil || n < 0 || strings.TrimLeft(retval, "0123456789") != "" {
		return fmt.Errorf("trap alert: invalid value for retval %q", retval)
	}
	group := firstNonEmpty(envOf(ev, "MON_GROUP"), ev.Group)
	service := firstNonEmpty(envOf(ev, "MON_SERVICE"), ev.Service)
	trap, err := protocol.NewTrap(user, pass, group, service, n, decide.Status(code), summary, detail)
	if err != nil {
		return fmt.Errorf("trap alert: %w", err)
	}

	var errs []error
	for _, h := range t.hosts {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := protocol.SendTrap(h, trap); err != nil {
			errs = append(errs, fmt.Errorf("trap alert: error sending trap to %s: %w", h, err))
		}
	}
	return errors.Join(errs...)
}

// envOf is the event's variable, or the daemon's when the event lacks it
// (built-in mode: MON_TRAP_USER/PASS are usually set for the daemon).
func envOf(ev Event, key string) string {
	if v, ok := ev.Getenv(key); ok {
		return v
	}
	return os.Getenv(key)
}
