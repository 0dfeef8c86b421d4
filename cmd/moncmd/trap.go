package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler/decide"
)

const trapUsage = "usage: moncmd trap -g group -s service -r retval [-o opstatus] [-S summary] [-D detail] [-U user [-P pass]] [-p port] [host ...]"

// runTrap sends one mon trap, as Mon::Client's send_trap builds it, to
// every host (default MONHOST, else localhost) on the trap port (-p,
// else mon/udp, else 2583). The password is -P, else $MONPASS. Nothing
// comes back from a mon server, so success means "sent".
func runTrap(args []string, stderr io.Writer) int {
	opts, hosts := getopts("g:s:r:o:S:D:U:P:p:", args, stderr)
	if opts['g'] == "" || opts['s'] == "" || opts['r'] == "" {
		fmt.Fprintln(stderr, trapUsage)
		return 2
	}
	retval, err := strconv.Atoi(opts['r'])
	if err != nil || retval < 0 {
		fmt.Fprintln(stderr, "moncmd trap: invalid value for retval")
		return 2
	}
	opstatus := decide.Fail
	if retval == 0 {
		opstatus = decide.OK
	}
	if name := opts['o']; name != "" {
		var ok bool
		if opstatus, ok = decide.TrapStatus(name); !ok {
			fmt.Fprintf(stderr, "moncmd trap: undefined opstatus type %q\n", name)
			return 2
		}
	}
	pass := opts['P']
	if p, ok := os.LookupEnv("MONPASS"); ok && pass == "" {
		pass = p
	}
	t, err := protocol.NewTrap(opts['U'], pass, opts['g'], opts['s'], retval, opstatus, opts['S'], opts['D'])
	if err != nil {
		fmt.Fprintln(stderr, "moncmd trap:", err)
		return 2
	}
	port, err := lookupPort("udp", opts['p'])
	if err != nil {
		fmt.Fprintln(stderr, "moncmd trap:", err)
		return 2
	}
	if len(hosts) == 0 {
		hosts = []string{"localhost"}
		if h := os.Getenv("MONHOST"); h != "" {
			hosts = []string{h}
		}
	}
	status := 0
	for _, h := range hosts {
		if err := protocol.SendTrap(net.JoinHostPort(h, strconv.Itoa(port)), t); err != nil {
			fmt.Fprintf(stderr, "moncmd trap: %s: %v\n", h, err)
			status = 1
		}
	}
	return status
}
