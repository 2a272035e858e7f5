package egress_test

import (
	"net/netip"
	"testing"

	"github.com/golive-dev/golive/internal/egress"
)

func mustParse(t *testing.T, entries ...string) *egress.Policy {
	t.Helper()
	policy, err := egress.Parse(entries)
	if err != nil {
		t.Fatal(err)
	}
	return policy
}

func TestAllowsAddr(t *testing.T) {
	restricted := []string{"10.96.0.0/12", "2001:db8::/32", "*.svc.cluster.local", "hooks.example.com"}
	tests := []struct {
		name    string
		allow   []string
		addr    string
		byName  bool
		allowed bool
	}{
		// No entries: anything but the always refused addresses.
		{name: "open: a public IPv4 address", addr: "203.0.113.7", allowed: true},
		{name: "open: a private IPv4 address", addr: "10.96.0.10", allowed: true},
		{name: "open: a public IPv6 address", addr: "2001:db8::1", allowed: true},
		{name: "open: IPv4 loopback", addr: "127.0.0.1"},
		{name: "open: another IPv4 loopback", addr: "127.1.2.3"},
		{name: "open: IPv6 loopback", addr: "::1"},
		{name: "open: IPv4 loopback mapped into IPv6", addr: "::ffff:127.0.0.1"},
		{name: "open: unspecified IPv4", addr: "0.0.0.0"},
		{name: "open: unspecified IPv6", addr: "::"},
		{name: "open: IPv4 link-local", addr: "169.254.10.1"},
		{name: "open: IPv6 link-local", addr: "fe80::1"},
		{name: "open: IPv6 link-local with a zone", addr: "fe80::1%eth0"},
		{name: "open: metadata", addr: "169.254.169.254"},
		{name: "open: metadata mapped into IPv6", addr: "::ffff:169.254.169.254"},
		{name: "open: metadata through NAT64", addr: "64:ff9b::a9fe:a9fe"},
		{name: "open: a public address through NAT64", addr: "64:ff9b::cb00:7107", allowed: true},
		{name: "open: AWS metadata over IPv6", addr: "fd00:ec2::254"},
		{name: "open: Alibaba metadata", addr: "100.100.100.200"},
		{name: "open: another address of 100.64.0.0/10", addr: "100.100.100.201", allowed: true},
		{name: "open: Oracle metadata", addr: "192.0.0.192"},
		{name: "open: a host name allowed by name is still not metadata", addr: "169.254.169.254", byName: true},

		// Entries: what they list, and nothing else.
		{name: "restricted: inside a CIDR", allow: restricted, addr: "10.100.1.2", allowed: true},
		{name: "restricted: outside every CIDR", allow: restricted, addr: "10.0.0.1"},
		{name: "restricted: inside an IPv6 CIDR", allow: restricted, addr: "2001:db8:1::5", allowed: true},
		{name: "restricted: outside every IPv6 CIDR", allow: restricted, addr: "2001:db9::5"},
		{name: "restricted: IPv4 mapped into IPv6 inside a CIDR", allow: restricted, addr: "::ffff:10.100.1.2", allowed: true},
		{name: "restricted: a host allowed by name, any address", allow: restricted, addr: "198.51.100.4", byName: true, allowed: true},
		{name: "restricted: a host allowed by name on the loopback", allow: restricted, addr: "127.0.0.1", byName: true},
		{name: "restricted: a host allowed by name on metadata", allow: restricted, addr: "100.100.100.200", byName: true},
		{name: "restricted: loopback", allow: restricted, addr: "127.0.0.1"},

		// Always refused addresses open only to a CIDR inside their range.
		{name: "loopback listed", allow: []string{"127.0.0.1/32"}, addr: "127.0.0.1", allowed: true},
		{name: "loopback listed as an address", allow: []string{"127.0.0.1"}, addr: "127.0.0.1", allowed: true},
		{name: "another loopback address than the one listed", allow: []string{"127.0.0.1/32"}, addr: "127.0.0.2"},
		{name: "IPv6 loopback listed", allow: []string{"::1/128"}, addr: "::1", allowed: true},
		{name: "everything listed does not open the loopback", allow: []string{"0.0.0.0/0", "::/0"}, addr: "127.0.0.1"},
		{name: "everything listed does not open metadata", allow: []string{"0.0.0.0/0"}, addr: "169.254.169.254"},
		{name: "everything listed does not open IPv6 metadata", allow: []string{"::/0"}, addr: "fd00:ec2::254"},
		{name: "everything listed does open the rest", allow: []string{"0.0.0.0/0"}, addr: "100.100.100.201", allowed: true},
		{name: "a CIDR around Alibaba's metadata does not open it", allow: []string{"100.64.0.0/10"}, addr: "100.100.100.200"},
		{name: "link-local listed", allow: []string{"169.254.0.0/16"}, addr: "169.254.10.1", allowed: true},
		{name: "link-local listed does not open metadata", allow: []string{"169.254.0.0/16"}, addr: "169.254.169.254"},
		{name: "metadata listed by its own CIDR", allow: []string{"169.254.169.254/32"}, addr: "169.254.169.254", allowed: true},
		{name: "metadata listed mapped into IPv6", allow: []string{"::ffff:169.254.169.254/128"}, addr: "169.254.169.254", allowed: true},
		{name: "Oracle metadata listed", allow: []string{"192.0.0.192/32"}, addr: "192.0.0.192", allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			policy := mustParse(t, tt.allow...)
			if got := policy.AllowsAddr(netip.MustParseAddr(tt.addr), tt.byName); got != tt.allowed {
				t.Errorf("Parse(%q).AllowsAddr(%s, byName %t) = %t, want %t", tt.allow, tt.addr, tt.byName, got, tt.allowed)
			}
		})
	}
}

func TestAllowsHostName(t *testing.T) {
	policy := mustParse(t, "*.svc.cluster.local", "Hooks.Example.com", "10.0.0.0/8")
	for host, want := range map[string]bool{
		"billing-api.billing.svc.cluster.local":  true,
		"BILLING-API.billing.svc.cluster.local.": true,
		"svc.cluster.local":                      false, // the wildcard allows subdomains only
		"evilsvc.cluster.local":                  false,
		"svc.cluster.local.evil.example":         false,
		"hooks.example.com":                      true,
		"api.hooks.example.com":                  false, // an exact name allows no subdomain
		"example.com":                            false,
		"10.1.2.3":                               false, // addresses are matched by CIDR, not by name
		"metadata.google.internal":               false,
	} {
		if got := policy.AllowsHostName(host); got != want {
			t.Errorf("AllowsHostName(%q) = %t, want %t", host, got, want)
		}
	}
}

func TestParseRefusesWhatIsNeitherACIDRNorAHostName(t *testing.T) {
	for _, entry := range []string{"10.0.0.0/33", "10.0.0/8", "hooks example.com", "*.", "*", "https://hooks.example.com", "-bad.example.com"} {
		if _, err := egress.Parse([]string{entry}); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", entry)
		}
	}
	if _, err := egress.Parse([]string{" 10.0.0.0/8 ", "", "hooks.example.com"}); err != nil {
		t.Errorf("Parse() of valid entries with blanks: %v", err)
	}
}
