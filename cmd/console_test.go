package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Flags that would weaken the console where it is reachable are refused
// before it starts, naming the flag.
func TestConsoleRefusesUnsafeFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"cookies without Secure on a pod address", []string{"--insecure-cookies", "--bind-address", "10.1.2.3"},
			`--insecure-cookies is for a console served on a loopback address only; --bind-address "10.1.2.3" is not one`},
		{"cookies without Secure on every interface", []string{"--insecure-cookies", "--bind-address", "0.0.0.0"},
			`--bind-address "0.0.0.0" is not one`},
		{"a proxy that is no address", []string{"--trusted-proxies", "10.0.0.0/8,ingress"},
			`--trusted-proxies: "ingress" is neither a CIDR nor an address`},
		{"a CIDR out of range", []string{"--trusted-proxies", "10.0.0.0/33"},
			`--trusted-proxies: "10.0.0.0/33" is not a CIDR`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := runConsole(append(tc.args, "--issuer", "https://issuer.invalid", "--redirect-url", "https://console.invalid/callback"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("runConsole(%q) = %v, want an error saying %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes("10.0.0.0/8, 192.0.2.7,fd00::1/64, ::ffff:198.51.100.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("198.51.100.1/32"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("parsePrefixes (-want +got):\n%s", diff)
	}
	if got, err := parsePrefixes(""); err != nil || len(got) != 0 {
		t.Errorf("parsePrefixes(\"\") = %v, %v; want none", got, err)
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.9.9.9": true,
		"0.0.0.0": false, "": false, "10.0.0.1": false, "::": false, "example.com": false} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %t, want %t", host, got, want)
		}
	}
}
