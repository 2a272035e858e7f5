package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// ErrRefused is the error of a connection the Policy does not allow.
var ErrRefused = errors.New("refused by golive's egress policy")

// alwaysRefused are refused unless --egress-allow lists an address by a CIDR
// inside one of them: the pod's own loopback, link-local addresses, the
// unspecified address (which reaches the loopback) and the cloud providers'
// metadata services, which hand out credentials.
var alwaysRefused = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),        // loopback
	netip.MustParsePrefix("::1/128"),            // loopback
	netip.MustParsePrefix("0.0.0.0/8"),          // unspecified ("this network")
	netip.MustParsePrefix("::/128"),             // unspecified
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local
	netip.MustParsePrefix("fe80::/10"),          // link-local
	netip.MustParsePrefix("169.254.169.254/32"), // metadata: AWS, GCP, Azure, OpenStack...
	netip.MustParsePrefix("fd00:ec2::254/128"),  // metadata: AWS over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // metadata: Alibaba Cloud
	netip.MustParsePrefix("192.0.0.192/32"),     // metadata: Oracle Cloud
}

// nat64 is the well-known NAT64 prefix, which embeds an IPv4 address in its last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Policy says which addresses golive's outbound calls may reach. The zero
// value allows any address but the always refused ones.
type Policy struct {
	prefixes []netip.Prefix
	// names are host names allowed exactly; suffixes allow their subdomains
	// (from "*.example.com": ".example.com").
	names    []string
	suffixes []string
}

// Parse builds a Policy from --egress-allow entries: CIDRs ("10.0.0.0/8",
// "127.0.0.1/32"), single addresses, host names ("hooks.example.com") and
// wildcard host names ("*.svc.cluster.local", which allows every subdomain
// of svc.cluster.local). No entries allow any address but the always refused
// ones; entries allow what they list and nothing else.
func Parse(entries []string) (*Policy, error) {
	p := &Policy{}
	for _, entry := range entries {
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
			continue
		case strings.Contains(entry, "/"):
			prefix, err := ParsePrefix(entry)
			if err != nil {
				return nil, fmt.Errorf("--egress-allow entry %w", err)
			}
			p.prefixes = append(p.prefixes, prefix)
		default:
			if prefix, err := ParsePrefix(entry); err == nil {
				p.prefixes = append(p.prefixes, prefix)
				continue
			}
			name := normalHost(entry)
			if rest, ok := strings.CutPrefix(name, "*."); ok {
				if !validHostName(rest) {
					return nil, fmt.Errorf("--egress-allow entry %q is not a CIDR, an address or a host name", entry)
				}
				p.suffixes = append(p.suffixes, "."+rest)
				continue
			}
			if !validHostName(name) {
				return nil, fmt.Errorf("--egress-allow entry %q is not a CIDR, an address or a host name", entry)
			}
			p.names = append(p.names, name)
		}
	}
	return p, nil
}

// open is true when no entry was given: any address but the always refused ones.
func (p *Policy) open() bool {
	return len(p.prefixes) == 0 && len(p.names) == 0 && len(p.suffixes) == 0
}

// AllowsHostName says whether host (a URL's host, without port) is allowed
// by a host-name entry. Its addresses must still not be always refused.
func (p *Policy) AllowsHostName(host string) bool {
	host = normalHost(host)
	if _, err := netip.ParseAddr(host); err == nil {
		return false
	}
	for _, name := range p.names {
		if host == name {
			return true
		}
	}
	for _, suffix := range p.suffixes {
		if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return true
		}
	}
	return false
}

// AllowsAddr says whether a connection to addr may be made; byName is true
// when the host the caller asked for is allowed by a host-name entry.
func (p *Policy) AllowsAddr(addr netip.Addr, byName bool) bool {
	addr = addr.Unmap().WithZone("")
	if nat64.Contains(addr) {
		// The IPv4 address a NAT64 gateway would connect to.
		embedded := addr.As16()
		if p.refusedByDefault(netip.AddrFrom4([4]byte(embedded[12:]))) {
			return false
		}
	}
	if p.refusedByDefault(addr) {
		return false
	}
	if byName || p.open() {
		return true
	}
	for _, prefix := range p.prefixes {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// refusedByDefault says whether addr is in an always refused range that no
// allow entry lifts. An entry lifts a range only when it lies inside it, so
// that 0.0.0.0/0 or 10.0.0.0/8 never open the loopback, and 169.254.0.0/16
// does not open 169.254.169.254, which only a CIDR inside 169.254.169.254/32 does.
func (p *Policy) refusedByDefault(addr netip.Addr) bool {
	for _, refused := range alwaysRefused {
		if !refused.Contains(addr) {
			continue
		}
		lifted := false
		for _, allowed := range p.prefixes {
			if allowed.Contains(addr) && allowed.Bits() >= refused.Bits() && refused.Contains(allowed.Addr()) {
				lifted = true
				break
			}
		}
		if !lifted {
			return true
		}
	}
	return false
}

// DialContext connects like a net.Dialer, after the policy allowed the
// address the host resolved to: the check runs on the socket about to
// connect (net.Dialer.Control), once per address tried.
func (p *Policy) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	byName := p.AllowsHostName(host)
	dialer := net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: keepAlive,
		Control: func(_, resolved string, _ syscall.RawConn) error {
			return p.check(resolved, byName)
		},
	}
	return dialer.DialContext(ctx, network, address)
}

// check refuses a connection to address (IP:port) the policy does not allow.
func (p *Policy) check(address string, byName bool) error {
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrRefused, address)
	}
	if !p.AllowsAddr(addrPort.Addr(), byName) {
		return fmt.Errorf("%w: %s", ErrRefused, addrPort.Addr())
	}
	return nil
}

// canonical stores a prefix as IPv4 when it is an IPv4-mapped IPv6 one, masked.
// ParsePrefix reads a CIDR, or an address as its own /32 or /128, in the
// canonical form golive compares addresses by (an IPv4-mapped IPv6 prefix as
// IPv4, the host bits cleared). The error quotes entry.
func ParsePrefix(entry string) (netip.Prefix, error) {
	entry = strings.TrimSpace(entry)
	if strings.Contains(entry, "/") {
		prefix, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", entry, err)
		}
		return canonical(prefix), nil
	}
	addr, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is neither a CIDR nor an address", entry)
	}
	return canonical(netip.PrefixFrom(addr, addr.BitLen())), nil
}

func canonical(prefix netip.Prefix) netip.Prefix {
	if prefix.Addr().Is4In6() && prefix.Bits() >= 96 {
		prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96)
	}
	return prefix.Masked()
}

func normalHost(host string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
}

func validHostName(name string) bool {
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
