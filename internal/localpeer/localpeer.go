// Package localpeer refuses a service on this host that someone other than
// root answers for. OPA on http://127.0.0.1:8181, a mail relay on
// localhost:25, rsyslog on 127.0.0.1:514, a webhook receiver on this host:
// while the real service is down, restarting or not started yet, any local
// user can bind its port and answer, deciding logins, reading PINs mailed
// through it or the events sent to it. A unix socket is checked by its
// owner; a port has no owner on disk, so the kernel's socket tables
// (/proc/net/tcp, tcp6, udp, udp6) say who holds it.
//
// For TCP the socket checked is the far end of our own connection, the one
// the server accepted: its owner is who accept()ed it (the listener's
// owner before that, on recent kernels), and no other socket can stand in
// for it; sock_diag finds it by its addresses (the tables when netlink is
// not there). Checking "a listener on that port is root's" would not do: a
// listener found after the connect may not be the one that took it. A
// connection not yet accepted is waited for (a server must accept before
// it can answer), within the caller's deadline. For UDP there is no
// connection: every socket that would receive a datagram to that address
// and port must be root's, checked before each datagram.
//
// "This host" is a loopback address (127.0.0.0/8, ::1, ::ffff:127.x) or
// an address of one of its interfaces: a name that resolves to one
// (localhost) is found by the address the connection reached. Anything
// else is not this package's to judge. Root, and the uid the checking
// process runs as (root for the helper, the deliverer and the CLI; the
// user running a unit test), are trusted: a service of the same uid could
// do nothing the client cannot.
package localpeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"time"
)

// MaxWait bounds the wait for a server to accept our connection when the
// caller's context has no earlier deadline.
const MaxWait = 5 * time.Second

// Checker checks the far ends of connections against the kernel's tables.
// The zero value checks the running system.
type Checker struct {
	// Proc, when set, is where the proc file system is, and only its
	// tables are read (tests give fake ones). When empty, the server end
	// of a TCP connection is asked of the kernel through sock_diag, and
	// /proc's tables read when that cannot answer.
	Proc string
	// Self is the uid trusted beside root; the effective uid when nil.
	Self *uint32
	// IsLocal says whether an address is this host's; IsLocal when nil.
	IsLocal func(netip.Addr) bool
}

// NotRootError: a socket of someone other than root holds the address.
type NotRootError struct {
	Network string         // "tcp" or "udp"
	Addr    netip.AddrPort // the address we connected or send to
	UID     uint32
	User    string // the uid's name, "" when NSS has none
}

func (e *NotRootError) Error() string {
	who := fmt.Sprintf("uid %d", e.UID)
	if e.User != "" {
		who += " (" + e.User + ")"
	}
	return fmt.Sprintf("%s %s on this host is held by %s, not root: refused, since any local user could listen there while the service is down",
		e.Network, e.Addr, who)
}

func notRoot(network string, addr netip.AddrPort, uid uint32) error {
	e := &NotRootError{Network: network, Addr: addr, UID: uid}
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		e.User = u.Username
	}
	return e
}

// ErrSelfConnect: the connection reached itself, as TCP allows when
// nobody listens on a port of the ephemeral range.
var ErrSelfConnect = errors.New("the connection reached itself: nobody listens there")

// CheckTCP checks the server end of the TCP connection c with the kernel's
// tables of the running system.
func CheckTCP(ctx context.Context, c net.Conn) error { return Checker{}.CheckTCP(ctx, c) }

// CheckUDP checks the receivers of the connected UDP socket c's datagrams
// with the kernel's tables of the running system.
func CheckUDP(ctx context.Context, c net.Conn) error { return Checker{}.CheckUDP(ctx, c) }

// Dial connects as d.DialContext does and, for TCP, checks the server end
// (CheckTCP) before returning the connection; a refused one is closed.
// Within d.Timeout when set. UDP sockets are returned unchecked: check
// each datagram with CheckUDP.
func Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if _, ok := c.LocalAddr().(*net.TCPAddr); ok {
		if err := CheckTCP(ctx, c); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// CheckTCP returns nil when c's far end is not on this host, or is a
// socket of root's (or of the uid checking); a *NotRootError when it is
// someone else's; another error when the tables cannot say in time.
func (k Checker) CheckTCP(ctx context.Context, c net.Conn) error {
	local, remote, err := addrs(c)
	if err != nil || !k.isLocal(remote.Addr()) {
		return err
	}
	if local == remote {
		return ErrSelfConnect
	}
	deadline := time.Now().Add(MaxWait)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	wait := time.Until(deadline).Round(100 * time.Millisecond)
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		peer, found, err := k.peer(ctx, local, remote)
		switch {
		case err != nil:
			return err
		case found && !k.trusted(peer.uid):
			return notRoot("tcp", remote, peer.uid)
		case found && peer.inode != 0:
			return nil
		}
		// not in the tables (read while they changed), or not accepted yet
		if time.Now().Add(delay).After(deadline) {
			if !found {
				return fmt.Errorf("tcp %s is on this host, but no socket of it answers our connection in the kernel's tables", remote)
			}
			return fmt.Errorf("tcp %s on this host did not accept our connection within %v, so who holds it is unknown", remote, wait)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("tcp %s on this host: who holds it is unknown: %w", remote, ctx.Err())
		case <-t.C:
		}
	}
}

// peer finds the server end of the connection local→remote: the socket
// whose local address is our remote one and whose remote is our local one.
// A TIME_WAIT one is a dead connection's and has no owner.
func (k Checker) peer(ctx context.Context, local, remote netip.AddrPort) (entry, bool, error) {
	if k.Proc == "" {
		if e, found, err := diagPeer(local, remote); err == nil {
			return e, found, nil
		}
	}
	var peer entry
	found := false
	for _, table := range []string{"tcp", "tcp6"} {
		err := scanTable(ctx, k.proc(), table, remote.Port(), func(e entry) bool {
			if e.state == stateListen || e.state == stateTimeWait || !same(e.local, remote) || !same(e.remote, local) {
				return false
			}
			peer, found = e, true
			return true
		})
		if err != nil || found {
			return peer, found, err
		}
	}
	return peer, false, nil
}

// CheckUDP returns nil when the datagrams of the connected UDP socket c go
// elsewhere than this host, or when every socket of this host that would
// receive them is root's (or of the uid checking) and there is one; a
// *NotRootError when one is someone else's. Call it before each datagram:
// a socket can be bound between two.
func (k Checker) CheckUDP(ctx context.Context, c net.Conn) error {
	local, remote, err := addrs(c)
	if err != nil || !k.isLocal(remote.Addr()) {
		return err
	}
	var receivers []entry
	for _, table := range []string{"udp", "udp6"} {
		v6 := table == "udp6"
		err := scanTable(ctx, k.proc(), table, remote.Port(), func(e entry) bool {
			if receives(e, v6, local, remote) {
				receivers = append(receivers, e)
			}
			return false
		})
		if err != nil {
			return err
		}
	}
	if len(receivers) == 0 {
		return fmt.Errorf("udp %s is on this host, but no socket there receives datagrams", remote)
	}
	for _, e := range receivers {
		if !k.trusted(e.uid) {
			return notRoot("udp", remote, e.uid)
		}
	}
	return nil
}

// receives reports whether the UDP socket e (of the udp6 table when v6)
// could take a datagram from local to remote: bound to remote's port, on
// its address or on any (an IPv6 socket on "::" takes IPv4 too, unless it
// is IPV6_V6ONLY, which the table does not say: counted), and connected
// to nobody or to local. Our own socket is not a receiver.
func receives(e entry, v6 bool, local, remote netip.AddrPort) bool {
	if e.local.Port() != remote.Port() || same(e.local, local) && same(e.remote, remote) {
		return false
	}
	a := e.local.Addr().Unmap()
	if a != remote.Addr().Unmap() && !(a.IsUnspecified() && (v6 || remote.Addr().Unmap().Is4())) {
		return false
	}
	return e.remote.Port() == 0 && e.remote.Addr().IsUnspecified() || same(e.remote, local)
}

func (k Checker) proc() string {
	if k.Proc == "" {
		return "/proc"
	}
	return k.Proc
}

func (k Checker) trusted(uid uint32) bool {
	if uid == 0 {
		return true
	}
	if k.Self != nil {
		return uid == *k.Self
	}
	return uid == uint32(os.Geteuid())
}

func (k Checker) isLocal(a netip.Addr) bool {
	if k.IsLocal != nil {
		return k.IsLocal(a)
	}
	return IsLocal(a)
}

// IsLocal reports whether a is an address of this host: loopback,
// unspecified (which connects to this host), or one of its interfaces'.
// When the interfaces cannot be listed, only the first two are: taking
// every address for this host's would refuse every remote service, whose
// server end is not in our tables.
func IsLocal(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsUnspecified() {
		return true
	}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range ifaddrs {
		if n, ok := ia.(*net.IPNet); ok {
			if b, ok := netip.AddrFromSlice(n.IP); ok && b.Unmap() == a.WithZone("") {
				return true
			}
		}
	}
	return false
}

// same compares addresses and ports, an IPv4 one equal to its IPv4-mapped
// IPv6 form (how a dual-stack socket shows it).
func same(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap().WithZone("") == b.Addr().Unmap().WithZone("")
}

// addrs returns c's local and remote addresses.
func addrs(c net.Conn) (local, remote netip.AddrPort, err error) {
	l, err1 := addrPort(c.LocalAddr())
	r, err2 := addrPort(c.RemoteAddr())
	if err := errors.Join(err1, err2); err != nil {
		return l, r, err
	}
	return l, r, nil
}

func addrPort(a net.Addr) (netip.AddrPort, error) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort(), nil
	case *net.UDPAddr:
		return a.AddrPort(), nil
	}
	return netip.AddrPort{}, fmt.Errorf("not an IP connection: %v", a)
}
