package ipvs

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
)

// Ipvsadm drives the table through the ipvsadm program: the fallback
// where netlink is not usable (e.g. an old kernel interface). It never
// uses a shell.
type Ipvsadm struct {
	Path string // "" means "ipvsadm" from PATH
}

func (a *Ipvsadm) run(ctx context.Context, args ...string) ([]byte, error) {
	path := a.Path
	if path == "" {
		path = "ipvsadm"
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

func (a *Ipvsadm) Services(ctx context.Context) ([]Service, error) {
	out, err := a.run(ctx, "-Ln")
	if err != nil {
		return nil, err
	}
	return ParseList(out)
}

func (a *Ipvsadm) AddService(ctx context.Context, vs VirtualService, scheduler string) error {
	_, err := a.run(ctx, "-A", protoFlag(vs.Protocol), vs.Addr.String(), "-s", scheduler)
	return err
}

func (a *Ipvsadm) AddReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	_, err := a.run(ctx, realArgs("-a", vs, rs)...)
	return err
}

func (a *Ipvsadm) UpdateReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	_, err := a.run(ctx, realArgs("-e", vs, rs)...)
	return err
}

func (a *Ipvsadm) DeleteReal(ctx context.Context, vs VirtualService, real netip.AddrPort) error {
	_, err := a.run(ctx, "-d", protoFlag(vs.Protocol), vs.Addr.String(), "-r", real.String())
	return err
}

func protoFlag(p Protocol) string {
	if p == UDP {
		return "-u"
	}
	return "-t"
}

// realArgs builds "-a|-e -t VIP:PORT -r RIP:PORT -g|-m|-i -w WEIGHT".
func realArgs(op string, vs VirtualService, rs RealServer) []string {
	fwd := "-g"
	switch rs.Forward {
	case Masquerade:
		fwd = "-m"
	case Tunnel:
		fwd = "-i"
	}
	return []string{op, protoFlag(vs.Protocol), vs.Addr.String(), "-r", rs.Addr.String(),
		fwd, "-w", strconv.Itoa(rs.Weight)}
}

// ParseList parses the output of "ipvsadm -Ln":
//
//	IP Virtual Server version 1.2.1 (size=4096)
//	Prot LocalAddress:Port Scheduler Flags
//	  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
//	TCP  10.0.0.3:80 wlc
//	  -> 192.168.0.1:80               Route   1      0          0
//
// Firewall-mark and SCTP services, and their real servers, are skipped.
func ParseList(out []byte) ([]Service, error) {
	var (
		list []Service
		cur  *Service // nil while inside a skipped service
	)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0, f[0] == "IP", f[0] == "Prot",
			f[0] == "->" && len(f) > 1 && f[1] == "RemoteAddress:Port":
			continue // headers
		case f[0] == "->":
			if cur == nil {
				continue
			}
			rs, err := parseRealLine(f)
			if err != nil {
				return nil, fmt.Errorf("ipvsadm -Ln line %d: %w", n, err)
			}
			cur.Reals = append(cur.Reals, rs)
		case f[0] == "TCP" || f[0] == "UDP":
			if len(f) < 3 {
				return nil, fmt.Errorf("ipvsadm -Ln line %d: short service line %q", n, sc.Text())
			}
			addr, err := netip.ParseAddrPort(f[1])
			if err != nil {
				return nil, fmt.Errorf("ipvsadm -Ln line %d: %w", n, err)
			}
			vs := VirtualService{Protocol: Protocol(strings.ToLower(f[0])), Addr: addr}
			list = append(list, Service{VirtualService: vs, Scheduler: f[2]})
			cur = &list[len(list)-1]
		default: // FWM, SCTP
			cur = nil
		}
	}
	return list, sc.Err()
}

func parseRealLine(f []string) (RealServer, error) {
	if len(f) < 4 {
		return RealServer{}, fmt.Errorf("short real server line %q", strings.Join(f, " "))
	}
	addr, err := netip.ParseAddrPort(f[1])
	if err != nil {
		return RealServer{}, err
	}
	w, err := strconv.Atoi(f[3])
	if err != nil {
		return RealServer{}, fmt.Errorf("weight %q: %w", f[3], err)
	}
	var fwd Forward
	switch f[2] {
	case "Route":
		fwd = DirectRoute
	case "Masq":
		fwd = Masquerade
	case "Tunnel":
		fwd = Tunnel
	case "Local":
		fwd = Local
	default:
		return RealServer{}, fmt.Errorf("unknown forwarding method %q", f[2])
	}
	return RealServer{Addr: addr, Weight: w, Forward: fwd}, nil
}
