package dnsupdate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// rrset is a name's A and AAAA records: the round robin.
type rrset []netip.Addr

func (s rrset) String() string {
	parts := make([]string, len(s))
	for i, a := range s {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

// zoneClient changes one name of a zone on its primary.
type zoneClient struct {
	server string // host:port
	zone   string // with the final dot
	key    *Key   // nil: unsigned
}

// exchange sends m over TCP (no truncation to handle), signed when there
// is a key, and fails on any answer but NOERROR (and NXDOMAIN when
// nxOK), naming a TSIG refusal as such.
func (c *zoneClient) exchange(ctx context.Context, m *dns.Msg, nxOK bool) (*dns.Msg, error) {
	cl := &dns.Client{Net: "tcp"}
	if c.key != nil {
		m.SetTsig(c.key.Name, c.key.Algorithm, 300, time.Now().Unix())
		cl.TsigSecret = map[string]string{c.key.Name: c.key.Secret}
	}
	r, _, err := cl.ExchangeContext(ctx, m, c.server)
	if r != nil && c.key != nil {
		// A server that rejects the key answers NOTAUTH with an unsigned
		// TSIG record carrying the reason (BADKEY, BADSIG, BADTIME).
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			return nil, fmt.Errorf("%s refused TSIG key %s: %s", c.server, strings.TrimSuffix(c.key.Name, "."),
				dns.RcodeToString[int(t.Error)])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.server, err)
	}
	if r.Rcode != dns.RcodeSuccess && !(nxOK && r.Rcode == dns.RcodeNameError) {
		return r, &rcodeError{server: c.server, rcode: r.Rcode}
	}
	return r, nil
}

// rcodeError is an answer other than NOERROR.
type rcodeError struct {
	server string
	rcode  int
}

func (e *rcodeError) Error() string {
	why := ""
	switch e.rcode {
	case dns.RcodeRefused:
		why = " (is the key allowed to update the zone?)"
	case dns.RcodeNotAuth:
		why = " (not authoritative for the zone, or the key is not accepted)"
	}
	return fmt.Sprintf("%s answered %s%s", e.server, dns.RcodeToString[e.rcode], why)
}

// current reads name's A and AAAA records from the primary, sorted.
func (c *zoneClient) current(ctx context.Context, name string) (rrset, error) {
	var out rrset
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(name, typ)
		m.RecursionDesired = false
		r, err := c.exchange(ctx, m, true)
		if err != nil {
			return nil, fmt.Errorf("reading %s %s: %w", name, dns.TypeToString[typ], err)
		}
		for _, rr := range r.Answer {
			if a, ok := rrAddr(rr); ok && strings.EqualFold(rr.Header().Name, name) {
				out = append(out, a)
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

// change is what apply did to a name.
type change struct {
	before, after rrset
	kept          netip.Addr // the last address, kept against a delete (-L not given)
}

// apply deletes del from name's records and adds add (with ttl), in one
// update that holds only if the records are still what was read (RFC 2136
// prerequisites), so two writers never both take out "all but the last".
// Deleting an absent address or adding a present one changes nothing,
// and no update is sent then. Unless allowEmpty, the last address is
// never deleted: the lowest of the current ones stays. When another
// writer changed the records in between, apply starts over once.
func (c *zoneClient) apply(ctx context.Context, name string, ttl uint32, del, add []netip.Addr, allowEmpty bool) (change, error) {
	for attempt := 1; ; attempt++ {
		cur, err := c.current(ctx, name)
		if err != nil {
			return change{}, err
		}
		ch := change{before: cur}
		for _, a := range cur {
			if !slices.Contains(del, a) || slices.Contains(add, a) {
				ch.after = append(ch.after, a)
			}
		}
		for _, a := range add {
			if !slices.Contains(ch.after, a) {
				ch.after = append(ch.after, a)
			}
		}
		slices.SortFunc(ch.after, netip.Addr.Compare)
		if len(ch.after) == 0 && len(cur) > 0 && !allowEmpty {
			ch.kept = cur[0]
			ch.after = rrset{cur[0]}
		}
		if slices.Equal(ch.before, ch.after) {
			return ch, nil
		}
		err = c.update(ctx, name, ttl, ch)
		var rc *rcodeError
		if attempt < 2 && errors.As(err, &rc) && (rc.rcode == dns.RcodeNXRrset || rc.rcode == dns.RcodeYXRrset) {
			continue // changed since it was read
		}
		if err != nil {
			return change{}, fmt.Errorf("updating %s: %w", name, err)
		}
		return ch, nil
	}
}

// update sends the RFC 2136 update taking name from ch.before to
// ch.after, on the condition that its A and AAAA sets are ch.before.
func (c *zoneClient) update(ctx context.Context, name string, ttl uint32, ch change) error {
	m := new(dns.Msg)
	m.SetUpdate(c.zone)
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA} {
		var set []dns.RR
		for _, a := range ch.before {
			if rr := addrRR(name, 0, a); rr.Header().Rrtype == typ {
				set = append(set, rr)
			}
		}
		if len(set) == 0 {
			m.RRsetNotUsed([]dns.RR{&dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: typ}}})
		} else {
			m.Used(set) // exists with exactly these values
		}
	}
	var gone, added []dns.RR
	for _, a := range ch.before {
		if !slices.Contains(ch.after, a) {
			gone = append(gone, addrRR(name, 0, a))
		}
	}
	for _, a := range ch.after {
		if !slices.Contains(ch.before, a) {
			added = append(added, addrRR(name, ttl, a))
		}
	}
	if len(gone) > 0 {
		m.Remove(gone)
	}
	if len(added) > 0 {
		m.Insert(added)
	}
	_, err := c.exchange(ctx, m, false)
	return err
}

// addrRR is name's A or AAAA record for a.
func addrRR(name string, ttl uint32, a netip.Addr) dns.RR {
	hdr := dns.RR_Header{Name: name, Class: dns.ClassINET, Ttl: ttl}
	if a.Is4() {
		hdr.Rrtype = dns.TypeA
		return &dns.A{Hdr: hdr, A: net.IP(a.AsSlice())}
	}
	hdr.Rrtype = dns.TypeAAAA
	return &dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())}
}

// rrAddr is the address of an A or AAAA record.
func rrAddr(rr dns.RR) (netip.Addr, bool) {
	var ip net.IP
	switch rr := rr.(type) {
	case *dns.A:
		ip = rr.A.To4()
	case *dns.AAAA:
		ip = rr.AAAA
	default:
		return netip.Addr{}, false
	}
	a, ok := netip.AddrFromSlice(ip)
	return a, ok
}

// logChange logs what apply did, and warns when it kept the last address.
func logChange(log *slog.Logger, msg, name string, ch change, attrs ...any) {
	attrs = append([]any{"name", name}, attrs...)
	if ch.kept.IsValid() {
		log.Warn(msg+": keeping the last address of the name (give -L to allow an empty round robin)",
			append(attrs, "address", ch.kept.String())...)
	}
	if !slices.Equal(ch.before, ch.after) {
		log.Info(msg, append(attrs, "before", ch.before.String(), "after", ch.after.String())...)
	}
}
