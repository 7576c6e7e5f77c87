package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// iana lists every entry of the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (2024 editions) whose "Globally Reachable" is False or N/A,
// with addresses inside it: each must be refused.
var iana = []struct {
	entry string
	addrs []string
}{
	{"0.0.0.0/8 this network", []string{"0.0.0.0", "0.1.2.3", "0.255.255.255"}},
	{"10.0.0.0/8 private", []string{"10.0.0.1", "10.255.255.254"}},
	{"100.64.0.0/10 shared address space", []string{"100.64.0.1", "100.127.255.254"}},
	{"127.0.0.0/8 loopback", []string{"127.0.0.1", "127.255.255.254"}},
	{"169.254.0.0/16 link local", []string{"169.254.0.1", "169.254.169.254"}},
	{"172.16.0.0/12 private", []string{"172.16.0.1", "172.31.255.254"}},
	{"192.0.0.0/24 IETF protocol assignments", []string{"192.0.0.1", "192.0.0.255"}},
	{"192.0.0.0/29 DS-Lite", []string{"192.0.0.0", "192.0.0.7"}},
	{"192.0.0.8/32 IPv4 dummy", []string{"192.0.0.8"}},
	{"192.0.0.170/32 NAT64/DNS64 discovery", []string{"192.0.0.170", "192.0.0.171"}},
	{"192.0.2.0/24 documentation TEST-NET-1", []string{"192.0.2.1", "192.0.2.255"}},
	{"192.88.99.0/24 6to4 relay anycast", []string{"192.88.99.1"}},
	{"192.168.0.0/16 private", []string{"192.168.0.1", "192.168.255.254"}},
	{"198.18.0.0/15 benchmarking", []string{"198.18.0.1", "198.19.255.254"}},
	{"198.51.100.0/24 documentation TEST-NET-2", []string{"198.51.100.1"}},
	{"203.0.113.0/24 documentation TEST-NET-3", []string{"203.0.113.1"}},
	{"240.0.0.0/4 reserved", []string{"240.0.0.1", "255.255.255.254"}},
	{"255.255.255.255/32 limited broadcast", []string{"255.255.255.255"}},
	{"224.0.0.0/4 multicast", []string{"224.0.0.1", "239.255.255.255"}},

	{"::1/128 loopback", []string{"::1"}},
	{"::/128 unspecified", []string{"::"}},
	{"::ffff:0:0/96 IPv4-mapped of a refused IPv4", []string{"::ffff:127.0.0.1", "::ffff:10.0.0.1"}},
	{"::/96 IPv4-compatible (deprecated)", []string{"::127.0.0.1", "::8.8.8.8"}},
	{"::ffff:0:0:0/96 IPv4-translated", []string{"::ffff:0:7f00:1", "::ffff:0:808:808"}},
	{"64:ff9b::/96 NAT64 (embeds IPv4)", []string{"64:ff9b::7f00:1", "64:ff9b::808:808"}},
	{"64:ff9b:1::/48 local-use NAT64", []string{"64:ff9b:1::7f00:1", "64:ff9b:1:ffff::1"}},
	{"100::/64 discard-only", []string{"100::1"}},
	{"2001::/23 IETF protocol assignments", []string{"2001:1ff::1", "2001:2::1", "2001:10::1"}},
	{"2001::/32 Teredo", []string{"2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2"}},
	{"2001:2::/48 benchmarking", []string{"2001:2::1"}},
	{"2001:db8::/32 documentation", []string{"2001:db8::1", "2001:db8:ffff::1"}},
	{"2002::/16 6to4 embedding a refused IPv4", []string{"2002:7f00:1::", "2002:a00:1::1", "2002:c0a8:101::1"}},
	{"3fff::/20 documentation", []string{"3fff::1", "3fff:fff::1"}},
	{"5f00::/16 segment routing SIDs", []string{"5f00::1"}},
	{"fc00::/7 unique local", []string{"fc00::1", "fd12:3456::1"}},
	{"fec0::/10 site-local (deprecated)", []string{"fec0::1", "feff::1"}},
	{"fe80::/10 link-local", []string{"fe80::1"}},
	{"ff00::/8 multicast", []string{"ff02::1", "ff0e::1"}},
}

func TestForbiddenCoversIANASpecialPurposeRegistries(t *testing.T) {
	t.Parallel()
	for _, c := range iana {
		for _, a := range c.addrs {
			if !Forbidden(netip.MustParseAddr(a)) {
				t.Errorf("%s: %s is allowed", c.entry, a)
			}
		}
	}
}

func TestPublicAddressesAllowed(t *testing.T) {
	t.Parallel()
	for _, a := range []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "192.0.1.1", "192.0.3.1", "198.17.255.1", "198.20.0.1",
		"::ffff:8.8.8.8", "2606:4700::1111", "2a00:1450:4001::1", "2002:808:808::1", "2620:4f:8000::1",
	} {
		if Forbidden(netip.MustParseAddr(a)) {
			t.Errorf("%s is refused, but it is public", a)
		}
	}
}

// The forms of the SSRF report: IPv6 literals that embed or reach loopback
// are refused when an endpoint is saved and when a connection is dialled.
func TestIPv6FormsRefusedAtSaveAndDial(t *testing.T) {
	t.Parallel()
	g := &Guard{}
	for _, host := range []string{"[::127.0.0.1]", "[::ffff:0:7f00:1]", "[64:ff9b:1::7f00:1]", "[2002:7f00:1::]", "[fec0::1]",
		"198.51.100.7", "203.0.113.9", "192.0.2.1", "192.88.99.1", "[2001:db8::1]", "[2001::1]"} {
		if err := g.CheckURL(context.Background(), "https://"+host+"/hook"); !errors.Is(err, ErrForbidden) {
			t.Errorf("CheckURL(%s) = %v, want ErrForbidden", host, err)
		}
		addr := strings.Trim(host, "[]")
		if err := g.Control("tcp", netip.AddrPortFrom(netip.MustParseAddr(addr), 443).String(), nil); !errors.Is(err, ErrForbidden) {
			t.Errorf("Control(%s) = %v, want ErrForbidden", host, err)
		}
	}
}

// Refusals never name the address a host resolves to, nor the resolver.
func TestMessagesRevealNoInternalAddress(t *testing.T) {
	t.Parallel()
	g := &Guard{}
	err := g.Control("tcp", "10.20.30.40:443", nil)
	if err == nil || strings.Contains(err.Error(), "10.20.30.40") {
		t.Fatalf("dial refusal = %v", err)
	}
	err = g.CheckURL(context.Background(), "https://does-not-exist.invalid/hook")
	if !errors.Is(err, ErrNoHost) || strings.Contains(err.Error(), ":53") || strings.Contains(err.Error(), " on ") {
		t.Fatalf("lookup failure = %v", err)
	}
}
