// Package syslogtarget reads SYSLOG_SERVER's value: where the central
// syslog server listens, as udp://, tcp:// or tls:// and a host. It has no
// dependencies, so the rules engine can check the setting without pulling
// in internal/remotelog's sender.
package syslogtarget

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// Target is where the lines go: SYSLOG_SERVER's value.
type Target struct {
	Network string // "udp", "tcp" or "tls"
	Addr    string // host:port
}

// Default ports: 514 for UDP and TCP, 6514 for TLS (RFC 5425).
var defaultPort = map[string]string{"udp": "514", "tcp": "514", "tls": "6514"}

// Parse reads udp://host[:port], tcp://host[:port] or tls://host[:port].
func Parse(s string) (Target, error) {
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return Target{}, fmt.Errorf("want udp://, tcp:// or tls:// and a host, as in tls://logs.example.org:6514, not %q", s)
	}
	port, ok := defaultPort[u.Scheme]
	if !ok {
		return Target{}, fmt.Errorf("unknown transport %q in %q: want udp, tcp or tls", u.Scheme, s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return Target{}, fmt.Errorf("%q: only a transport, a host and a port, please", s)
	}
	host := u.Hostname()
	if host == "" {
		return Target{}, fmt.Errorf("no host in %q", s)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Target{}, fmt.Errorf("bad port %q in %q", p, s)
		}
		port = p
	}
	return Target{Network: u.Scheme, Addr: net.JoinHostPort(host, port)}, nil
}

// String is the target in Parse's form, with its port.
func (t Target) String() string { return t.Network + "://" + t.Addr }
