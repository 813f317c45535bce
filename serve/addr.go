package serve

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address PAM sees as PAM_RHOST: the peer's, unless the
// peer is a proxy a --trusted-proxy prefix names; then X-Forwarded-For is
// read from its right end, skipping trusted proxies, and the first address
// no trusted prefix holds is the client. beesly took the first header's
// last entry from anyone, so any client could name its own address.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !holds(trusted, peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer.String() // a hop we cannot read: trust none further
		}
		a = a.Unmap()
		if !holds(trusted, a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func holds(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
