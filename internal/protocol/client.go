package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// ProtocolVersion is the client protocol version of mon 1.3 (protid).
const ProtocolVersion = 9745

// DefaultPort is mon's port for both TCP and UDP when the services
// database has no "mon" entry.
const DefaultPort = 2583

// Client is a minimal mon protocol client: one command at a time, each
// reply read up to its final line.
type Client struct {
	conn    net.Conn
	r       *bufio.Reader
	timeout time.Duration
}

// Dial connects to a mon server at addr ("host:port"). timeout bounds the
// connect and every later command.
func Dial(addr string, timeout time.Duration) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("connecting to mon server: %w", err)
	}
	return &Client{conn: conn, r: bufio.NewReader(conn), timeout: timeout}, nil
}

// Command sends one request line and returns the data lines and the final
// line of the reply. A 5xx reply is not an error: check final (or use
// ReplyOK). err reports I/O failures and timeouts.
func (c *Client) Command(line string) (data []string, final string, err error) {
	if strings.ContainsAny(line, "\r\n") {
		return nil, "", errors.New("request must be a single line")
	}
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, "", err
	}
	if _, err := c.conn.Write([]byte(line + "\n")); err != nil {
		return nil, "", fmt.Errorf("sending command: %w", err)
	}
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return data, "", fmt.Errorf("reading reply: %w", err)
		}
		l = strings.TrimSuffix(l, "\n")
		if IsFinalLine(l) {
			return data, l, nil
		}
		data = append(data, l)
	}
}

// ReplyOK reports whether a final line means success (first digit 2),
// the only part of the code clients look at.
func ReplyOK(final string) bool { return strings.HasPrefix(final, "2") }

// Close sends quit (ignoring the reply) and closes the connection.
func (c *Client) Close() error {
	c.Command("quit")
	return c.conn.Close()
}

// NewTrap builds the trap Mon::Client::send_trap sends for these
// arguments: protocol 0.3807, type "trap", sequence 0, spc = the code of
// opstatus, sta = retval and the current time as tsp. user may be empty
// (then no password is sent).
func NewTrap(user, pass, group, service string, retval int, opstatus decide.Status, summary, detail string) (Trap, error) {
	if opstatus < decide.Fail || opstatus > decide.Depend {
		return Trap{}, fmt.Errorf("undefined opstatus type (code %d)", opstatus)
	}
	if retval < 0 {
		return Trap{}, fmt.Errorf("invalid value for retval: %d", retval)
	}
	return Trap{
		Pro: TrapVersion, Usr: user, Pas: pass, Spc: strconv.Itoa(int(opstatus)), Seq: "0", Typ: "trap",
		Grp: group, Svc: service, Sta: strconv.Itoa(retval), HasSta: true,
		Tsp: strconv.FormatInt(time.Now().Unix(), 10), Sum: summary, Dtl: detail,
	}, nil
}

// SendTrap sends t as one UDP datagram to addr ("host:port"). Nothing
// comes back, so success only means the datagram was sent.
func SendTrap(addr string, t Trap) error {
	conn, err := net.Dial("udp4", addr) // mon listens on IPv4 only
	if err != nil {
		return fmt.Errorf("sending trap: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write(EncodeTrap(t)); err != nil {
		return fmt.Errorf("sending trap: %w", err)
	}
	return nil
}
