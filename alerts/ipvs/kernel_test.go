//go:build linux

package ipvs

import (
	"context"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"syscall"
	"testing"
)

// newNetlinkInNewNetns opens a netlink handle inside a fresh network
// namespace, so the test never touches the host's IPVS table.
func newNetlinkInNewNetns(t *testing.T) *Netlink {
	t.Helper()
	type result struct {
		n   *Netlink
		err error
	}
	ch := make(chan result)
	go func() {
		// The thread stays locked and is discarded when this goroutine
		// ends, so the namespace change never leaks to other goroutines.
		runtime.LockOSThread()
		if err := syscall.Unshare(syscall.CLONE_NEWNET); err != nil {
			ch <- result{err: err}
			return
		}
		n, err := NewNetlink()
		ch <- result{n, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Skipf("cannot open IPVS netlink in a new network namespace: %v", r.err)
	}
	t.Cleanup(r.n.Close)
	return r.n
}

func TestNetlinkKernel(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err != nil {
		t.Skip("no IPVS in this kernel (/proc/net/ip_vs missing): netlink backend tested only by build")
	}
	ctx := context.Background()
	n := newNetlinkInNewNetns(t)
	vs := VirtualService{TCP, netip.MustParseAddrPort("127.0.0.10:8080")}
	desired := map[VirtualService][]RealServer{vs: {
		{netip.MustParseAddrPort("127.0.0.11:8080"), 1, DirectRoute},
		{netip.MustParseAddrPort("127.0.0.12:8080"), 3, Masquerade},
	}}
	if err := Reconcile(ctx, n, desired); err != nil {
		t.Fatal(err)
	}
	if err := SetReal(ctx, n, vs, RealServer{netip.MustParseAddrPort("127.0.0.11:8080"), 0, DirectRoute}); err != nil {
		t.Fatal(err)
	}
	if err := RemoveReal(ctx, n, vs, netip.MustParseAddrPort("127.0.0.12:8080")); err != nil {
		t.Fatal(err)
	}
	list, err := n.Services(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Service{{VirtualService: vs, Scheduler: DefaultScheduler,
		Reals: []RealServer{{netip.MustParseAddrPort("127.0.0.11:8080"), 0, DirectRoute}}}}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("table %+v, want %+v", list, want)
	}
}

// Without ip_vs in the kernel the netlink backend refuses to start.
func TestNetlinkWithoutIPVS(t *testing.T) {
	if _, err := os.Stat("/proc/net/ip_vs"); err == nil {
		t.Skip("this kernel has IPVS")
	}
	if _, err := NewNetlink(); err == nil {
		t.Error("want an error opening netlink without IPVS")
	}
}
