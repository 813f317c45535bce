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
// a DNS answer must not decide a login. A name in PAM_RHOST is one anyway
// (the host application's reverse lookup), so by default it lets no login
// in (see match).
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

// RemoteAddr returns PAM_RHOST as an address when it is one: exactly what
// netip.ParseAddr accepts ("10.0.0.1", "2001:db8::1", "fe80::1%eth0"),
// with the zone dropped and an IPv4-mapped IPv6 address unmapped
// ("::ffff:10.0.0.1" is 10.0.0.1). Anything else is not an address, even
// when it looks like one ("[10.0.0.1]", "10.0.0.1.", " 10.0.0.1",
// "10.0.0.1.evil.example"): it is a name, or garbage, that the host
// application put there, and docs/rules.md's "Remote host names" applies to it.
// Rules and plugins (ctx.rhost_in) use this one reading.
func RemoteAddr(rhost string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(rhost)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.WithZone("").Unmap(), true
}

// remoteHost is PAM_RHOST read once for matching against many patterns.
type remoteHost struct {
	local bool       // RHOST is empty
	addr  netip.Addr // valid when RHOST is an address
	// named: RHOST is neither empty nor an address, most likely a name
	// that the host application looked up itself (vsftpd, sshd's UseDNS
	// yes), chosen by whoever controls the PTR record of the client's
	// address.
	named bool
	name  string // lower-case, no trailing dot, when named
}

func parseRemoteHost(rhost string) remoteHost {
	if rhost == "" {
		return remoteHost{local: true}
	}
	if addr, ok := RemoteAddr(rhost); ok {
		return remoteHost{addr: addr}
	}
	return remoteHost{named: true, name: strings.ToLower(strings.TrimSuffix(rhost, "."))}
}

// matchKind is how a rule's TARGET names a login. The two unsure kinds
// arise only for a HOST entry and an RHOST that is not an address, under
// the default HOST_NAMES:DISTRUST; what they do depends on the rule's
// option (decide.go): they count for CLOSE, never to let a login in.
type matchKind uint8

const (
	matchNo matchKind = iota
	// matchUnsure: the entry is an address or a network and RHOST is not
	// an address: where the client is cannot be told.
	matchUnsure
	// matchByName: the entry is the name RHOST shows, which whoever
	// controls the client's PTR record chose.
	matchByName
	matchYes
)

// IsName reports whether the entry is a host name (not LOCAL, an address
// or a network).
func (p HostPattern) IsName() bool { return p.name != "" }

// IsNetwork reports whether the entry is an address or a network.
func (p HostPattern) IsNetwork() bool { return p.prefix.IsValid() }

// match says how p matches h. With trustNames, a name RHOST is matched as
// before HOST_NAMES existed: by name entries only, plainly and
// case-insensitively. Without, a name cannot be shown to match, nor not to
// match, an address or network. An RHOST that is empty or an address is
// matched the same either way.
func (p HostPattern) match(h remoteHost, trustNames bool) matchKind {
	switch {
	case p.local:
		if h.local {
			return matchYes
		}
	case p.prefix.IsValid():
		switch {
		case h.addr.IsValid() && p.prefix.Contains(h.addr):
			return matchYes
		case h.named && !trustNames:
			return matchUnsure
		}
	case h.named && h.name == p.name:
		if trustNames {
			return matchYes
		}
		return matchByName
	}
	return matchNo
}
