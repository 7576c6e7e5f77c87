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

// Guard decides which addresses webhooks may reach.
type Guard struct {
	// AllowPrivate lets endpoints resolve to loopback, private and
	// link-local addresses (for development and tests).
	AllowPrivate bool
	// Resolver looks up host names; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

var extraForbidden = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("fc00::/7"),
}

// Forbidden reports whether ip is not a public unicast address.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() {
		return true
	}
	for _, p := range extraForbidden {
		if p.Contains(ip) {
			return true
		}
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
			return fmt.Errorf("%s: %w", host, ErrForbidden)
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%s: %w", host, ErrForbidden)
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("url host %q does not resolve: %w", host, err)
	}
	for _, a := range addrs {
		if Forbidden(a) {
			return fmt.Errorf("%s resolves to %s: %w", host, a.Unmap(), ErrForbidden)
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
		return fmt.Errorf("netguard: dial %s: %w", ap.Addr(), ErrForbidden)
	}
	return nil
}

// Dialer returns a net.Dialer that applies the guard on every connection.
func (g *Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
}
