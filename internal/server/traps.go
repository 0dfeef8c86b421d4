package server

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/gomon/gomon/internal/protocol"
	"github.com/gomon/gomon/scheduler"
)

// ServeTraps receives mon traps on pc until ctx is done. A malformed,
// unauthenticated or unroutable datagram is logged and dropped; it never
// changes state.
func (srv *Server) ServeTraps(ctx context.Context, pc net.PacketConn) error {
	go func() {
		<-ctx.Done()
		pc.Close()
	}()
	buf := make([]byte, protocol.MaxTrapSize+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			retry, err := socketError(ctx, err)
			if retry {
				continue
			}
			return err
		}
		ip, _, _ := net.SplitHostPort(addr.String())
		if err := srv.trap(ip, buf[:n]); err != nil {
			srv.log.Error(err.Error(), "from", ip)
		}
	}
}

// trap authenticates, validates and delivers one datagram.
func (srv *Server) trap(ip string, pkt []byte) error {
	t, warnings, err := protocol.DecodeTrap(pkt)
	for _, w := range warnings {
		srv.log.Error(w, "from", ip)
	}
	if err != nil {
		return err
	}
	acc, _ := srv.access()
	if err := acc.CheckTrap(ip, t.Usr, t.Pas); err != nil {
		return err
	}
	if err := t.Validate(ip); err != nil {
		return err
	}
	err = srv.sched.Trap(scheduler.TrapEvent{
		From: ip, Group: t.Grp, Service: t.Svc, Status: t.Sta,
		Summary: t.Sum, Detail: t.Dtl, Type: t.Typ, OpCode: t.Spc,
	})
	var no *scheduler.NotOwnerError
	if errors.As(err, &no) && srv.opts.Cluster != nil {
		if t.Fwd != "" {
			return fmt.Errorf("trap for %s/%s forwarded by %s, but this node does not run it either (ownership moving?); dropped", no.Group, no.Service, t.Fwd)
		}
		// Another node runs the service: the trap is its owner's. The
		// owner checks it again, against the forwarding node's address.
		if err := srv.opts.Cluster.ForwardTrap(no.Group, no.Service, pkt); err != nil {
			return fmt.Errorf("trap for %s/%s could not be forwarded to its owner: %w", no.Group, no.Service, err)
		}
		srv.log.Debug("trap forwarded to the service's owner", "group", no.Group, "service", no.Service)
		return nil
	}
	return err
}
