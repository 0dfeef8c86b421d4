// Command moncmd sends commands to a mon (or gomon) server, as the
// original moncmd from mon-client does: same flags, same output, same
// exit statuses. `moncmd trap …` sends a mon trap over UDP instead.
//
//	moncmd [-a] [-l user] [-s host] [-p port] [-f file] CMD…
//	moncmd trap -g GROUP -s SERVICE -r RETVAL [-o OPSTATUS] [-S SUMMARY]
//	       [-D DETAIL] [-U USER [-P PASS]] [-p PORT] [HOST…]
//
// See docs/compat/client.md.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gomon/gomon/internal/protocol"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// replyTimeout bounds the wait for one reply; the original waits forever.
const replyTimeout = 5 * time.Minute

// run is moncmd with its standard streams; it returns the exit status.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "trap" {
		return runTrap(args[1:], stderr)
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	// -r and -d are accepted and ignored, as in the original.
	opts, args := getopts("ahf:l:s:p:rd", args, stderr)

	host := "localhost"
	if h, ok := os.LookupEnv("MONHOST"); ok {
		host = h
	}
	if opts['s'] != "" {
		host = opts['s']
	}
	if opts['h'] != "" {
		out.WriteString(usage)
		return 0
	}

	// Commands come from the arguments, else from -f FILE ("-" is
	// stdin), else from stdin when it is not a terminal.
	var input *lines
	switch f := opts['f']; {
	case f == "-":
		input = &lines{r: bufio.NewReader(stdin)}
	case f != "":
		fh, err := os.Open(f)
		if err != nil {
			return die(stderr, err, "could not open input file: %s", strerror(err))
		}
		defer fh.Close()
		input = &lines{r: bufio.NewReader(fh)}
	case len(args) == 0:
		if isTerminal(stdin) {
			out.WriteString(interactiveRefused)
			return 1
		}
		input = &lines{r: bufio.NewReader(stdin)}
	}

	var login, pass string
	if opts['a'] != "" {
		var err error
		if login, err = username(opts['l']); err != nil {
			return die(stderr, nil, "could not determine username")
		}
		switch p, env := os.LookupEnv("MONPASS"); {
		case env:
			pass = p // a gomon extension for scripts
		case isTerminal(stdin):
			out.Flush()
			if pass, err = promptPassword(stdin, stdout); err != nil || strings.TrimSpace(pass) == "" {
				return die(stderr, nil, "invalid password")
			}
		case len(args) == 0:
			login, pass = credentialLines(input, opts['l'] != "", login)
		}
		if login == "" || pass == "" {
			return die(stderr, nil, "inadequate authentication information supplied")
		}
	}

	addr, err := serverAddr(host, opts['p'])
	if err != nil {
		return die(stderr, nil, "%s", err)
	}
	conn, err := net.DialTimeout("tcp4", addr, 30*time.Second)
	if err != nil {
		return die(stderr, err, "could not connect: %s", strerror(err))
	}
	defer conn.Close()
	c := &client{conn: conn, r: bufio.NewReader(conn)}

	if opts['a'] != "" {
		if final, _, _ := c.do("login " + login + " " + pass); strings.HasPrefix(final, "530") {
			return die(stderr, nil, "Could not authenticate")
		}
	}

	if input != nil {
		for {
			line, more := input.next()
			if !more {
				break
			}
			final, data, ok := c.do(line)
			if !ok {
				break
			}
			printReply(out, data, final)
		}
	} else {
		final, data, _ := c.do(strings.Join(args, " "))
		printReply(out, data, final)
	}
	c.do("quit")
	return 0
}

// client sends one command at a time and reads its reply.
type client struct {
	conn net.Conn
	r    *bufio.Reader
}

// finalLine is how moncmd recognises the last line of a reply.
var finalLine = regexp.MustCompile(`^\d{3}\s`)

// blankLine is what moncmd does not send: it answers it locally with an
// empty data line and an empty final line.
var blankLine = regexp.MustCompile(`^\s*$`)

// do sends cmd and returns the final line and the data lines. ok is false
// when the connection ended before a final line; data then holds the
// lines read so far.
func (c *client) do(cmd string) (final string, data []string, ok bool) {
	if blankLine.MatchString(cmd) {
		return "", []string{""}, true
	}
	c.conn.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := io.WriteString(c.conn, cmd+"\n"); err != nil {
		return "", nil, false
	}
	for {
		l, err := c.r.ReadString('\n')
		if l == "" && err != nil {
			return "", data, false
		}
		l = strings.TrimSuffix(l, "\n")
		if finalLine.MatchString(l) {
			return l, data, true
		}
		data = append(data, l)
	}
}

func printReply(out io.Writer, data []string, final string) {
	for _, l := range data {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintln(out, final)
}

// lines reads input one line at a time, without its LF.
type lines struct{ r *bufio.Reader }

func (l *lines) next() (string, bool) {
	s, err := l.r.ReadString('\n')
	if s == "" && err != nil {
		return "", false
	}
	return strings.TrimSuffix(s, "\n"), true
}

var (
	anyCredential = regexp.MustCompile(`(?i)user=|pass=`)
	userLine      = regexp.MustCompile(`(?i)^user=(\S+)$`)
	passLine      = regexp.MustCompile(`(?i)^pass=(\S+)$`)
)

// credentialLines reads the "user=NAME" and "pass=WORD" lines that start
// a batch input under -a, and then drops the next line, as the original
// does (scripts written for it put a blank line there). An explicit -l
// wins over user=; the original always ignores user=.
func credentialLines(in *lines, haveUser bool, login string) (string, string) {
	var pass string
	for {
		line, ok := in.next()
		if !ok {
			return login, pass
		}
		if !anyCredential.MatchString(line) {
			return login, pass
		}
		if m := userLine.FindStringSubmatch(line); m != nil && !haveUser {
			login = m[1]
		} else if m := passLine.FindStringSubmatch(line); m != nil {
			pass = m[1]
		}
	}
}

// username is -l, else the name of the effective user.
func username(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	u, err := user.LookupId(strconv.Itoa(os.Geteuid()))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

// serverAddr resolves host to an IPv4 address and port to a number
// (a name is looked up in the services database).
func serverAddr(host, port string) (string, error) {
	ip, err := net.ResolveIPAddr("ip4", host)
	if err != nil {
		return "", fmt.Errorf("Unable to find server '%s'", host)
	}
	p, err := lookupPort("tcp", port)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(p)), nil
}

// lookupPort is the port flag, else mon's entry in the services
// database, else 2583.
func lookupPort(network, port string) (int, error) {
	if port == "" {
		if p, err := net.LookupPort(network, "mon"); err == nil {
			return p, nil
		}
		return protocol.DefaultPort, nil
	}
	p, err := net.LookupPort(network, port)
	if err != nil {
		return 0, fmt.Errorf("unknown port '%s'", port)
	}
	return p, nil
}

// die prints msg like Perl's die and returns its exit status: the errno
// of cause when there is one (moncmd exits 111 when the connection is
// refused), else 255.
func die(stderr io.Writer, cause error, format string, a ...any) int {
	fmt.Fprintf(stderr, format+"\n", a...)
	var errno syscall.Errno
	if errors.As(cause, &errno) && errno != 0 && errno < 256 {
		return int(errno)
	}
	return 255
}

// strerror is the C library's text for an error ("Connection refused").
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}

const interactiveRefused = `You did not give a command on the command line nor a -f flag and
the program is running interactively (e.g. reading from terminal).
This is not supported.  Exiting
`

const usage = `
usage: moncmd [-a] [-l login] [-s host] [-p port] [-f file] commands
       moncmd trap -g group -s service -r retval [-o opstatus] [-S summary]
              [-D detail] [-U user [-P pass]] [-p port] [host ...]

Valid commands are:
    ack "watch" "service" comment
    checkauth cmd [args]
    clear timers "watch" "service"
    disable host "host" ["host"...]
    disable service "group" "service"
    disable watch "watch"
    dump
    enable host "host" ["host"...]
    enable service "group" "service"
    enable watch "watch"
    get "group" "service" "variable"
    list alerthist
    list aliases
    list aliasgroups
    list decisions ["watch" "service"]
    list deps
    list descriptions
    list disabled
    list dtlog
    list failurehist
    list failures
    list group "groupname"
    list opstatus
    list pids
    list state
    list successes
    list views
    list warnings
    list watch
    loadstate
    protid
    quit
    reload auth
    reset [stopped] [keepstate]
    savestate disabled
    servertime
    set "group" "service" "variable" "value"
    start
    stop
    term
    test config
    test monitor "watch" "service"
    test {alert|startupalert|upalert} "watch" "service" "retval" "period"
    version
`
