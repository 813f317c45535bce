package serve

import (
	"net"
	"testing"
)

// TestPrivateAddr: plain HTTP may use a socket systemd passed only on a
// loopback address or a unix socket.
func TestPrivateAddr(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		ok   bool
	}{
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8443}, true},
		{&net.TCPAddr{IP: net.ParseIP("127.0.0.2"), Port: 8443}, true},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 8443}, true},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 8443}, true},
		{&net.UnixAddr{Name: "/run/pam-accesscontrol/serve.sock", Net: "unix"}, true},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8443}, false},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8443}, false},
		{&net.TCPAddr{IP: net.ParseIP("10.0.0.1"), Port: 8443}, false},
		{&net.TCPAddr{Port: 8443}, false},
		{&net.UDPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8443}, false},
	} {
		if err := privateAddr(tt.addr); (err == nil) != tt.ok {
			t.Errorf("%v: %v, want ok=%v", tt.addr, err, tt.ok)
		}
	}
}
