// Package netguard keeps webhook requests away from private networks: it
// checks endpoint URLs when they are saved and the address actually dialled
// when a request is made, so a DNS answer that changes after validation
// (DNS rebinding) is refused too.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbidden is returned (wrapped) for an address in a refused range.
var ErrForbidden = errors.New("address is private, loopback, link-local or otherwise not public")

// ErrNoHost is returned (wrapped) when a URL's host name does not resolve.
var ErrNoHost = errors.New("no such host")

// Guard decides which addresses webhooks may reach.
type Guard struct {
	// AllowPrivate lets endpoints resolve to loopback, private and
	// link-local addresses (for development and tests).
	AllowPrivate bool
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

// forbidden4 are the IPv4 ranges of the IANA IPv4 Special-Purpose Address
// Registry that are not globally reachable, the deprecated 6to4 relay
// anycast range, multicast and the reserved class E.
var forbidden4 = prefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // shared address space (carrier-grade NAT)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments (DS-Lite, NAT64 discovery …)
	"192.0.2.0/24",    // documentation (TEST-NET-1)
	"192.88.99.0/24",  // 6to4 relay anycast (deprecated)
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation (TEST-NET-2)
	"203.0.113.0/24",  // documentation (TEST-NET-3)
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, and 255.255.255.255 broadcast
)

// global6 is IPv6 global unicast: everything outside it (loopback,
// unspecified, IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96,
// NAT64 64:ff9b::/96 and 64:ff9b:1::/48, discard-only 100::/64, unique
// local fc00::/7, site-local fec0::/10, link-local fe80::/10, multicast
// ff00::/8 …) is refused. IPv4-mapped addresses are checked as IPv4.
var global6 = netip.MustParsePrefix("2000::/3")

// forbidden6 are the ranges inside 2000::/3 that the IANA IPv6
// Special-Purpose Address Registry marks as not globally reachable.
var forbidden6 = prefixes(
	"2001::/23",     // IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID …
	"2001:db8::/32", // documentation
	"3fff::/20",     // documentation
)

// sixToFour is 6to4: the IPv4 address in bits 16-47 is what is reached.
var sixToFour = netip.MustParsePrefix("2002::/16")

func prefixes(list ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(list))
	for i, p := range list {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func inAny(ip netip.Addr, list []netip.Prefix) bool {
	for _, p := range list {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Forbidden reports whether ip is not a public unicast address: any
// address of a special-purpose range that is not globally reachable, and
// any IPv6 form that embeds such an IPv4 address.
func Forbidden(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		return inAny(ip, forbidden4)
	}
	if ip.Zone() != "" || !global6.Contains(ip) || inAny(ip, forbidden6) {
		return true
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return Forbidden(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	}
	return false
}

// CheckURL validates a webhook URL: http or https, a host, no user info, and
// (unless private addresses are allowed) every address the host resolves to
// must be public.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url is not valid: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("url scheme must be https or http")
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("url has no host")
	}
	if u.User != nil {
		return fmt.Errorf("url must not carry user info; use headers for credentials")
	}
	if g.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if Forbidden(ip) {
			return fmt.Errorf("url host is not a public address: %w", ErrForbidden)
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("url host %q is local: %w", host, ErrForbidden)
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		// The resolver's own error names the resolver (an internal
		// address): say only what the user can act on.
		return fmt.Errorf("url host %q does not resolve: %w", host, ErrNoHost)
	}
	for _, a := range addrs {
		if Forbidden(a) {
			return fmt.Errorf("url host %q resolves to a non-public address: %w", host, ErrForbidden)
		}
	}
	return nil
}

// Control is a net.Dialer Control function that refuses forbidden addresses
// at connect time, after DNS resolution.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %q: %w", address, err)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("the host resolves to a non-public address: %w", ErrForbidden)
	}
	return nil
}

// Dialer returns a net.Dialer that applies the guard on every connection.
func (g *Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
}
