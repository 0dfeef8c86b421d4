package ipvs

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// Errors of the Fake director, mirroring the kernel's EEXIST, ENOENT and
// ESRCH answers.
var (
	ErrExists    = errors.New("already exists")
	ErrNoReal    = errors.New("no such destination")
	ErrNoService = errors.New("no such service")
)

// Fake is an in-memory Director with the kernel's strictness (adding an
// existing entry or removing an absent one fails). It records every
// change in Ops, for tests.
type Fake struct {
	mu       sync.Mutex
	services []Service
	ops      []string
}

// NewFake returns a Fake holding a copy of services.
func NewFake(services ...Service) *Fake {
	f := &Fake{}
	for _, s := range services {
		s.Reals = slices.Clone(s.Reals)
		f.services = append(f.services, s)
	}
	return f
}

// Ops returns the changes made so far, e.g. "add-real tcp 10.0.0.3:80
// 192.168.0.1:80 dr 1".
func (f *Fake) Ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ops)
}

func (f *Fake) Services(ctx context.Context) ([]Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Service, len(f.services))
	for i, s := range f.services {
		s.Reals = slices.Clone(s.Reals)
		out[i] = s
	}
	slices.SortFunc(out, func(a, b Service) int { return compareVS(a.VirtualService, b.VirtualService) })
	return out, ctx.Err()
}

func (f *Fake) AddService(ctx context.Context, vs VirtualService, scheduler string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if find(f.services, vs) != nil {
		return fmt.Errorf("service %s: %w", vs, ErrExists)
	}
	f.services = append(f.services, Service{VirtualService: vs, Scheduler: scheduler})
	f.ops = append(f.ops, fmt.Sprintf("add-service %s %s", vs, scheduler))
	return nil
}

func (f *Fake) AddReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := find(f.services, vs)
	switch {
	case s == nil:
		return fmt.Errorf("service %s: %w", vs, ErrNoService)
	case s.findReal(rs.Addr) != nil:
		return fmt.Errorf("real %s: %w", rs.Addr, ErrExists)
	}
	s.Reals = append(s.Reals, rs)
	f.ops = append(f.ops, fmt.Sprintf("add-real %s %s %s %d", vs, rs.Addr, rs.Forward, rs.Weight))
	return nil
}

func (f *Fake) UpdateReal(ctx context.Context, vs VirtualService, rs RealServer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := find(f.services, vs)
	if s == nil {
		return fmt.Errorf("service %s: %w", vs, ErrNoService)
	}
	have := s.findReal(rs.Addr)
	if have == nil {
		return fmt.Errorf("real %s: %w", rs.Addr, ErrNoReal)
	}
	*have = rs
	f.ops = append(f.ops, fmt.Sprintf("update-real %s %s %s %d", vs, rs.Addr, rs.Forward, rs.Weight))
	return nil
}

func (f *Fake) DeleteReal(ctx context.Context, vs VirtualService, real netip.AddrPort) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := find(f.services, vs)
	if s == nil {
		return fmt.Errorf("service %s: %w", vs, ErrNoService)
	}
	i := slices.IndexFunc(s.Reals, func(r RealServer) bool { return r.Addr == real })
	if i < 0 {
		return fmt.Errorf("real %s: %w", real, ErrNoReal)
	}
	s.Reals = slices.Delete(s.Reals, i, i+1)
	f.ops = append(f.ops, fmt.Sprintf("delete-real %s %s", vs, real))
	return nil
}
