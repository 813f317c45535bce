package serve

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/coreos/go-systemd/v22/activation"
)

// listen is where serve takes its connections: the one socket systemd
// passed (socket activation, pam-accesscontrol-serve.socket: LISTEN_FDS
// and LISTEN_PID name this process), else a new one at --listen. The
// LISTEN_* variables are unset and the passed descriptor is closed on
// exec, so that no helper the PAM stack starts takes it for its own.
// Without TLS the listener's own address must be loopback or a unix
// socket, whoever made it: a socket unit with ListenStream=8443 (every
// address) would carry passwords in the clear.
func listen(addr string, tls bool) (net.Listener, error) {
	files := activation.Files(true)
	if len(files) == 0 {
		return net.Listen("tcp", addr)
	}
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	if len(files) > 1 {
		closeAll()
		return nil, fmt.Errorf("systemd passed %d sockets; serve takes one (one ListenStream= in the socket unit)", len(files))
	}
	l, err := net.FileListener(files[0])
	closeAll()
	if err != nil {
		return nil, fmt.Errorf("the socket systemd passed (%s): %w (want a stream socket: ListenStream=, Accept=no)", files[0].Name(), err)
	}
	if !tls {
		if err := privateAddr(l.Addr()); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// privateAddr: a socket plain HTTP may listen on (loopback, or a unix
// socket, reachable from this host alone).
func privateAddr(a net.Addr) error {
	switch a := a.(type) {
	case *net.UnixAddr:
		return nil
	case *net.TCPAddr:
		if ip, ok := netip.AddrFromSlice(a.IP); ok && ip.Unmap().IsLoopback() {
			return nil
		}
		return fmt.Errorf("the socket systemd passed listens on %s without --tls-cert and --tls-key: plain HTTP carries passwords, "+
			"so it listens on loopback addresses only (ListenStream=127.0.0.1:8443 or [::1]:8443, or a unix socket)", a)
	}
	return errors.New("the socket systemd passed is neither TCP nor a unix socket")
}
