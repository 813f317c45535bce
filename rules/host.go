package rules

import (
	"fmt"
	"net/netip"
	"strings"
)

// LocalHost is the HOST entry that matches a login with no remote host
// (an empty PAM_RHOST): the console, a display manager, su.
const LocalHost = "LOCAL"

// HostPattern is one entry of a HOST list: LOCAL, an address or network,
// or a host name as PAM_RHOST shows it. Names are compared, never resolved:
// a DNS answer must not decide a login.
type HostPattern struct {
	Text   string
	local  bool
	prefix netip.Prefix // valid for addresses and networks
	name   string       // lower-case, no trailing dot
}

// parseHostPattern reads one HOST entry. The warning is non-empty when the
// entry is usable but probably not what was meant.
func parseHostPattern(s string) (p HostPattern, warning string, err error) {
	p.Text = s
	switch {
	case s == LocalHost:
		p.local = true
		return p, "", nil
	case strings.Contains(s, "/"):
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return p, "", fmt.Errorf("%q is not a network in CIDR form (like 10.0.0.0/8 or 2001:db8::/32)", s)
		}
		if pfx.Addr().Zone() != "" {
			return p, "", fmt.Errorf("%q: a network cannot carry an interface zone", s)
		}
		p.prefix = pfx.Masked()
		if p.prefix != pfx {
			warning = fmt.Sprintf("%q has host bits set; it means %s", s, p.prefix)
		}
		return p, warning, nil
	}
	if addr, err := netip.ParseAddr(s); err == nil {
		addr = addr.WithZone("").Unmap()
		p.prefix = netip.PrefixFrom(addr, addr.BitLen())
		return p, "", nil
	}
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	if !validHostName(name) {
		return p, "", fmt.Errorf("%q is not an address, a CIDR network, a host name or LOCAL", s)
	}
	p.name = name
	if strings.EqualFold(s, LocalHost) {
		warning = fmt.Sprintf("%q is a host name; write LOCAL in capitals for logins without a remote host", s)
	}
	return p, warning, nil
}

func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// remoteHost is PAM_RHOST read once for matching against many patterns.
type remoteHost struct {
	local bool
	addr  netip.Addr // valid when RHOST is an address
	name  string     // lower-case RHOST when it is not an address
}

func parseRemoteHost(rhost string) remoteHost {
	if rhost == "" {
		return remoteHost{local: true}
	}
	if addr, err := netip.ParseAddr(rhost); err == nil {
		return remoteHost{addr: addr.WithZone("").Unmap()}
	}
	return remoteHost{name: strings.ToLower(strings.TrimSuffix(rhost, "."))}
}

func (p HostPattern) matches(h remoteHost) bool {
	switch {
	case p.local:
		return h.local
	case p.prefix.IsValid():
		return h.addr.IsValid() && p.prefix.Contains(h.addr)
	default:
		return h.name != "" && h.name == p.name
	}
}
