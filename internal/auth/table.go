package auth

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"
)

// Table is a loaded auth.cf: who may run which protocol command, and who
// may send traps. It is read-only after Load and safe for concurrent use.
type Table struct {
	allow    map[string]map[string]bool // command → "all", "AUTH_ANY" or user names
	deny     map[string]map[string]bool // command → "AUTH_ANY" or user names
	traps    map[string]map[string]string
	warnings []string
}

// resolveTimeout bounds the lookup of each host name in the trap section.
const resolveTimeout = 10 * time.Second

var (
	commandSection = regexp.MustCompile(`^command\s+section`)
	trapSection    = regexp.MustCompile(`^trap\s+section`)
	dottedQuad     = regexp.MustCompile(`^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$`)
	hostName       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]$`)
)

// Load reads an auth.cf file (auth.md §2). It is all-or-nothing: an
// unreadable file or a command-section line without ':' is an error, and
// the caller keeps its previous table (gomon's answer to Q-AUTH-8). Bad
// trap-section lines are skipped and reported by Warnings, as mon logs
// them. Host names in the trap section are resolved here, once.
func Load(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("could not open %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()

	t := &Table{
		allow: map[string]map[string]bool{},
		deny:  map[string]map[string]bool{},
		traps: map[string]map[string]string{},
	}
	inTraps := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case commandSection.MatchString(line):
			inTraps = false
		case trapSection.MatchString(line):
			inTraps = true
		case inTraps:
			if w := t.addTrapLine(line); w != "" {
				t.warnings = append(t.warnings, fmt.Sprintf("%s %s, line %d", w, path, n))
			}
		default:
			if !t.addCommandLine(line) {
				return nil, fmt.Errorf("%s:%d: could not parse line %d of auth file: expected COMMAND: USER[, USER...]", path, n, n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return t, nil
}

// addCommandLine adds "COMMAND: USER, USER..." to the tables; false if
// the line has no ':'.
func (t *Table) addCommandLine(line string) bool {
	cmd, users, found := strings.Cut(line, ":")
	if !found {
		return false
	}
	cmd = strings.ToLower(strings.TrimSpace(cmd))
	for _, u := range strings.Split(users, ",") {
		u = strings.TrimSpace(u)
		switch {
		case u == "":
		case strings.HasPrefix(u, "!"):
			addEntry(t.deny, cmd, u[1:])
		default:
			addEntry(t.allow, cmd, u)
		}
	}
	return true
}

func addEntry(m map[string]map[string]bool, cmd, user string) {
	if m[cmd] == nil {
		m[cmd] = map[string]bool{}
	}
	m[cmd][user] = true
}

// addTrapLine adds "HOST USER HASH"; for a line it skips it returns the
// start of mon's log message, which goes on with the file and line.
func (t *Table) addTrapLine(line string) string {
	f := strings.Fields(line)
	if len(f) != 3 {
		return "invalid entry in trap sect of"
	}
	host, user, hash := f[0], f[1], f[2]
	switch {
	case host == "*":
	case dottedQuad.MatchString(host):
		ip := net.ParseIP(host).To4()
		if ip == nil {
			return "invalid host in"
		}
		host = ip.String()
	case hostName.MatchString(host):
		ip, err := resolveIPv4(host)
		if err != nil {
			return "invalid host in"
		}
		host = ip
	default:
		return "invalid host in"
	}
	if t.traps[host] == nil {
		t.traps[host] = map[string]string{}
	}
	t.traps[host][user] = hash
	return ""
}

// resolveIPv4 returns the first IPv4 address of a host name.
func resolveIPv4(host string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", host)
	if err != nil {
		return "", err
	}
	return ips[0].String(), nil
}

// Warnings returns mon's log messages for the trap-section lines Load
// skipped ("invalid entry in trap sect of FILE, line N", "invalid host
// in FILE, line N").
func (t *Table) Warnings() []string { return t.warnings }

// Allowed applies auth.md §3 to one command. user and authenticated are
// the connection's login state; cmd is compared as given (the server
// passes the lower-cased command word, and checkauth's argument
// unchanged, as mon does). When the command is refused, why is
// "denied" (a ! entry) or "not authenticated", completing mon's log
// message "user 'U' tried 'C', WHY". Refused commands must be answered
// like unknown commands (Q-AUTH-3).
func (t *Table) Allowed(user string, authenticated bool, cmd string) (ok bool, why string) {
	if authenticated && (t.deny[cmd][user] || t.deny[cmd]["AUTH_ANY"]) {
		return false, "denied"
	}
	if t.allow[cmd]["all"] ||
		authenticated && (t.allow[cmd]["AUTH_ANY"] || t.allow[cmd][user]) {
		return true, ""
	}
	return false, "not authenticated"
}

// CheckTrap applies the trap section to a trap from senderIP carrying
// the usr and pas tags (auth.md §6). The error texts are mon's log
// messages. If any entry has host "*", only "*" entries count
// (Q-AUTH-2, kept).
func (t *Table) CheckTrap(senderIP, user, pass string) error {
	hostKey := senderIP
	if t.traps["*"] != nil {
		hostKey = "*"
	}
	users := t.traps[hostKey]
	if users == nil {
		return fmt.Errorf("received trap from unauthorized host: %s", senderIP)
	}
	if _, open := users["*"]; open {
		return nil
	}
	hash, found := users[user]
	if !found {
		return fmt.Errorf("received trap from unknown user %s, host %s", user, hostKey)
	}
	if !VerifyHash(pass, hash) {
		return fmt.Errorf("received trap with bad password from user %s, host %s", user, hostKey)
	}
	return nil
}
