// Command fakeipvsadm stands in for ipvsadm in gomon's end-to-end LVS
// test: the build machines have no ip_vs in the kernel. It keeps its
// table in "table" beside the program, in the format of `ipvsadm -Ln`,
// so the test reads the table the way gomon does, from another process.
// It accepts exactly the command lines gomon's ipvsadm backend issues and
// answers like the kernel: adding an existing entry or deleting an absent
// one fails. Every change is appended to "ops" beside the program.
package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/gomon/gomon/alerts/ipvs"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Dir(exe)
	// One command at a time: gomon's alerts and its reconciler run
	// concurrently, as they would against the kernel.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	tablePath := filepath.Join(dir, "table")
	b, err := os.ReadFile(tablePath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	list, err := ipvs.ParseList(b)
	if err != nil {
		return err
	}
	if len(args) == 1 && args[0] == "-Ln" {
		_, err := os.Stdout.Write(render(list))
		return err
	}
	if list, err = apply(list, args); err != nil {
		return err
	}
	// Atomic replace: the test reads the file without the lock.
	tmp := tablePath + ".tmp"
	if err := os.WriteFile(tmp, render(list), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, tablePath); err != nil {
		return err
	}
	ops, err := os.OpenFile(filepath.Join(dir, "ops"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer ops.Close()
	_, err = fmt.Fprintln(ops, strings.Join(args, " "))
	return err
}

// apply runs one change command:
//
//	-A -t|-u VIP:PORT -s SCHED
//	-a|-e -t|-u VIP:PORT -r RIP:PORT -g|-m|-i -w WEIGHT
//	-d -t|-u VIP:PORT -r RIP:PORT
func apply(list []ipvs.Service, args []string) ([]ipvs.Service, error) {
	usage := fmt.Errorf("fakeipvsadm: unsupported command line %q", args)
	if len(args) < 3 {
		return nil, usage
	}
	proto := map[string]ipvs.Protocol{"-t": ipvs.TCP, "-u": ipvs.UDP}[args[1]]
	vip, err := netip.ParseAddrPort(args[2])
	if proto == "" || err != nil {
		return nil, usage
	}
	vs := ipvs.VirtualService{Protocol: proto, Addr: vip}
	i := slices.IndexFunc(list, func(s ipvs.Service) bool { return s.VirtualService == vs })
	if args[0] == "-A" {
		if len(args) != 5 || args[3] != "-s" {
			return nil, usage
		}
		if i >= 0 {
			return nil, errors.New("Service already exists")
		}
		return append(list, ipvs.Service{VirtualService: vs, Scheduler: args[4]}), nil
	}
	if len(args) < 5 || args[3] != "-r" {
		return nil, usage
	}
	real, err := netip.ParseAddrPort(args[4])
	if err != nil {
		return nil, usage
	}
	if i < 0 {
		return nil, errors.New("No such service")
	}
	s := &list[i]
	j := slices.IndexFunc(s.Reals, func(r ipvs.RealServer) bool { return r.Addr == real })
	switch args[0] {
	case "-d":
		if len(args) != 5 {
			return nil, usage
		}
		if j < 0 {
			return nil, errors.New("No such destination")
		}
		s.Reals = slices.Delete(s.Reals, j, j+1)
		return list, nil
	case "-a", "-e":
		if len(args) != 8 || args[6] != "-w" {
			return nil, usage
		}
		fwd := map[string]ipvs.Forward{"-g": ipvs.DirectRoute, "-m": ipvs.Masquerade, "-i": ipvs.Tunnel}[args[5]]
		if fwd == "" {
			return nil, usage
		}
		w, err := strconv.Atoi(args[7])
		if err != nil {
			return nil, usage
		}
		rs := ipvs.RealServer{Addr: real, Weight: w, Forward: fwd}
		switch {
		case args[0] == "-a" && j >= 0:
			return nil, errors.New("Destination already exists")
		case args[0] == "-a":
			s.Reals = append(s.Reals, rs)
		case j < 0:
			return nil, errors.New("No such destination")
		default:
			s.Reals[j] = rs
		}
		return list, nil
	}
	return nil, usage
}

// render prints the table as `ipvsadm -Ln` does.
func render(list []ipvs.Service) []byte {
	var b strings.Builder
	b.WriteString("IP Virtual Server version 1.2.1 (size=4096)\n")
	b.WriteString("Prot LocalAddress:Port Scheduler Flags\n")
	b.WriteString("  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	names := map[ipvs.Forward]string{ipvs.DirectRoute: "Route", ipvs.Masquerade: "Masq", ipvs.Tunnel: "Tunnel", ipvs.Local: "Local"}
	for _, s := range list {
		fmt.Fprintf(&b, "%-4s %s %s\n", strings.ToUpper(string(s.Protocol)), s.Addr, s.Scheduler)
		for _, r := range s.Reals {
			fmt.Fprintf(&b, "  -> %-28s %-7s %-6d %-10d %d\n", r.Addr, names[r.Forward], r.Weight, 0, 0)
		}
	}
	return []byte(b.String())
}
