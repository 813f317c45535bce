// Package oidcurl says which URLs an OpenID provider may be reached at. It
// is apart from package oidc, which dials, so that the rules parser (which
// must not depend on network code) checks OIDC_ISSUER and
// OIDC_INTROSPECTION by the same rule the client enforces.
package oidcurl

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Check refuses a URL the provider must not be reached at: anything but
// https, except http to a loopback address (127.0.0.0/8, ::1, localhost),
// which only a provider on this host (tests) uses. No user information or
// fragment.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %q", raw)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		c := *u
		c.User = nil
		return fmt.Errorf("%q carries user information; put secrets in OIDC_CLIENT_SECRET", c.String())
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q has a fragment", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if Loopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q is plain http to another host: tokens and the client secret would cross the network in clear (use https)", raw)
	}
	return fmt.Errorf("%q: the scheme must be https", raw)
}

// CheckIssuer refuses an issuer that cannot be one: an issuer is a URL
// Check accepts, without query or fragment.
func CheckIssuer(issuer string) error {
	if err := Check(issuer); err != nil {
		return err
	}
	if strings.Contains(issuer, "?") {
		return fmt.Errorf("%q has a query, which an issuer must not", issuer)
	}
	return nil
}

// Loopback says whether host names this host's loopback.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
