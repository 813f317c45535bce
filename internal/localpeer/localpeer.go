// Package localpeer refuses a service on this host whose port someone
// other than root holds. OPA on http://127.0.0.1:8181, a mail relay on
// localhost:25, rsyslog on 127.0.0.1:514, a webhook receiver on this host:
// while the real service is down, restarting or not started yet, any local
// user can bind its port and answer, deciding logins, reading PINs mailed
// through it or the events sent to it. A unix socket is checked by its
// owner; a port has no owner on disk, so the kernel says who holds it
// (sock_diag, or its tables /proc/net/tcp, tcp6, udp, udp6).
//
// For TCP, what must be root's is the listening socket: root bound the
// port. The service may then run as another user, as postfix's smtpd,
// rsyslog after dropping root, nginx's workers or a socket-activated
// service do: they accept on root's listener. A local user cannot make a
// socket root's, nor listen beside root's on the same port (the kernel
// shares a port between listeners of one uid only). So the listeners that
// could take a connection to the address are checked before connecting
// (Dialer.ControlContext, on the address the name resolved to), and after
// it our connection itself: its server end, found by its addresses, was
// accepted by root, or is accepted by someone else or waiting to be, and
// then the listeners must still all be root's. To slip through, a user's
// listener would have to take the connection between the two checks while
// root's was away, and root's be back before the second; and when nothing
// listened before connecting, a connection a user accepted is refused
// whoever listens after. For UDP there is no connection: every socket
// that would receive a datagram to that address and port must be root's,
// checked before each datagram.
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
	"strings"
	"sync"
	"syscall"
	"time"
)

// MaxWait bounds the wait for our connection's server end to show in the
// kernel's tables when the caller's context has no earlier deadline.
const MaxWait = 5 * time.Second

// Checker checks the far ends of connections against the kernel's tables.
// The zero value checks the running system.
type Checker struct {
	// Proc, when set, is where the proc file system is, and only its
	// tables are read (tests give fake ones). When empty, TCP sockets are
	// asked of the kernel through sock_diag, and /proc's tables read when
	// that cannot answer.
	Proc string
	// Self is the uid trusted beside root; the effective uid when nil.
	Self *uint32
	// IsLocal says whether an address is this host's; IsLocal when nil.
	IsLocal func(netip.Addr) bool
}

// NotRootError: a socket of someone other than root holds the address.
type NotRootError struct {
	Network string         // "tcp" or "udp"
	Addr    netip.AddrPort // the address we connect or send to
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

// CheckTCP checks the TCP connection c with the running system's kernel.
func CheckTCP(ctx context.Context, c net.Conn) error { return Checker{}.CheckTCP(ctx, c) }

// CheckUDP checks the receivers of the connected UDP socket c's datagrams
// with the running system's kernel.
func CheckUDP(ctx context.Context, c net.Conn) error { return Checker{}.CheckUDP(ctx, c) }

// Dial connects as d.DialContext does, checking the listeners of every
// address it tries before connecting to it and, for TCP, the connection
// (CheckTCP) before returning it; a refused one is closed. Within
// d.Timeout when set. UDP sockets are returned unchecked: check each
// datagram with CheckUDP.
func Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	return Checker{}.Dial(ctx, d, network, addr)
}

// Dial is the package's Dial with k.
func (k Checker) Dial(ctx context.Context, d *net.Dialer, network, addr string) (net.Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	checked := *d
	outer := d.ControlContext
	control := d.Control
	checked.Control = nil
	// the addresses where nothing listened before connecting (the dialer
	// may try two at once)
	var mu sync.Mutex
	unheld := map[netip.AddrPort]bool{}
	checked.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if outer != nil {
			if err := outer(ctx, network, address, c); err != nil {
				return err
			}
		} else if control != nil {
			if err := control(network, address, c); err != nil {
				return err
			}
		}
		if !strings.HasPrefix(network, "tcp") {
			return nil
		}
		to, err := netip.ParseAddrPort(address)
		if err != nil || !k.isLocal(to.Addr()) {
			return err
		}
		// nothing listening is for connect to say ("connection refused"),
		// and for the check after it if someone listens by then
		err = k.CheckListeners(ctx, to)
		if errors.Is(err, ErrNoListener) {
			mu.Lock()
			unheld[to] = true
			mu.Unlock()
			return nil
		}
		return err
	}
	c, err := checked.DialContext(ctx, network, addr)
	if err != nil {
		return nil, unwrapControl(err)
	}
	if _, ok := c.LocalAddr().(*net.TCPAddr); ok {
		_, remote, _ := addrs(c)
		mu.Lock()
		strict := unheld[remote] || unheld[netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())]
		mu.Unlock()
		if err := k.checkTCP(ctx, c, strict); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// unwrapControl keeps the reason of a refusal before connecting, which
// the dialer wraps in "dial tcp ADDR:", as the same error as after.
func unwrapControl(err error) error {
	var nr *NotRootError
	if errors.As(err, &nr) {
		return nr
	}
	return err
}

// CheckListeners returns nil when to is not on this host, or when every
// socket listening there is root's (or of the uid checking) and there is
// one; a *NotRootError naming the first that is someone else's.
func (k Checker) CheckListeners(ctx context.Context, to netip.AddrPort) error {
	if !k.isLocal(to.Addr()) {
		return nil
	}
	ls, err := k.listeners(ctx, to)
	if err != nil {
		return err
	}
	for _, l := range ls {
		if !k.trusted(l.uid) {
			return notRoot("tcp", to, l.uid)
		}
	}
	if len(ls) == 0 {
		return fmt.Errorf("tcp %s: %w", to, ErrNoListener)
	}
	return nil
}

// ErrNoListener: an address of this host where nothing listens.
var ErrNoListener = errors.New("nothing listens there on this host")

// CheckTCP returns nil when c's far end is not on this host, or when root
// (or the uid checking) accepted it, or when every listener that could
// have taken it is root's; a *NotRootError when it is someone else's;
// another error when the kernel cannot say in time.
func (k Checker) CheckTCP(ctx context.Context, c net.Conn) error { return k.checkTCP(ctx, c, false) }

// checkTCP is CheckTCP; strict when nothing listened before connecting:
// then a listener appeared since, and a connection that a user accepted
// is refused even if root's listener is there now (the user's could have
// taken it, and gone).
func (k Checker) checkTCP(ctx context.Context, c net.Conn, strict bool) error {
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
	for delay := 50 * time.Microsecond; ; delay = min(2*delay, 20*time.Millisecond) {
		peer, found, err := k.peer(ctx, local, remote)
		switch {
		case err != nil:
			return err
		case found && peer.inode != 0 && k.trusted(peer.uid):
			return nil // root's process accepted it
		case found && peer.inode == 0 && !pending(peer.state):
			return fmt.Errorf("tcp %s on this host closed our connection at once", remote)
		case found && peer.inode != 0 && strict:
			return notRoot("tcp", remote, peer.uid)
		case found:
			// accepted by another user (a service that dropped root), or
			// not yet (in the accept queue of a live listener): the
			// listeners tell whose port it is
			err := k.CheckListeners(ctx, remote)
			if errors.Is(err, ErrNoListener) && peer.inode != 0 && !k.trusted(peer.uid) {
				return notRoot("tcp", remote, peer.uid) // its listener is gone
			}
			return err
		}
		// not in the tables yet (a syncookie's connection), or read while
		// they changed
		if time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("tcp %s is on this host, but no socket of it answers our connection in the kernel's tables", remote)
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

// pending reports whether a server end without an inode is waiting in a
// live listener's accept queue (established, or a request socket), rather
// than closed by its owner (FIN_WAIT and the like): queued connections go
// with their listener.
func pending(state uint8) bool {
	return state == stateEstablished || state == stateSynRecv || state == stateNewSynRecv
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

// listeners returns the listening sockets that could take a connection
// to to: on its port, bound to its address or to any (an IPv6 socket on
// "::" takes IPv4 too, unless it is IPV6_V6ONLY, which /proc does not
// say: counted).
func (k Checker) listeners(ctx context.Context, to netip.AddrPort) ([]entry, error) {
	var all []entry
	var err error
	if k.Proc == "" {
		all, err = diagListeners(to.Port())
	}
	if k.Proc != "" || err != nil {
		all = nil
		for _, table := range []string{"tcp", "tcp6"} {
			if err := scanTable(ctx, k.proc(), table, to.Port(), func(e entry) bool {
				if e.state == stateListen {
					all = append(all, e)
				}
				return false
			}); err != nil {
				return nil, err
			}
		}
	}
	var out []entry
	for _, e := range all {
		if bindsTo(e.local.Addr(), to.Addr()) {
			out = append(out, e)
		}
	}
	return out, nil
}

// bindsTo reports whether a socket bound to bound takes what is sent to
// to: the same address, or any address of its family (an IPv6 one taking
// IPv4 too).
func bindsTo(bound, to netip.Addr) bool {
	b, t := bound.Unmap().WithZone(""), to.Unmap().WithZone("")
	if b == t {
		return true
	}
	return b.IsUnspecified() && (b.Is6() || t.Is4())
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
		err := scanTable(ctx, k.proc(), table, remote.Port(), func(e entry) bool {
			if receives(e, local, remote) {
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

// receives reports whether the UDP socket e could take a datagram from
// local to remote: bound to remote's port, on its address or on any (an
// IPv6 socket on "::" takes IPv4 too, unless it is IPV6_V6ONLY, which the
// table does not say: counted), and connected to nobody or to local. Our
// own socket is not a receiver.
func receives(e entry, local, remote netip.AddrPort) bool {
	if e.local.Port() != remote.Port() || same(e.local, local) && same(e.remote, remote) || !bindsTo(e.local.Addr(), remote.Addr()) {
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

// CheckHostPort checks the listeners of hostport (ADDRESS:PORT, or
// localhost:PORT) ahead of any connection, for tools that warn an admin
// (check-my-config): a *NotRootError when someone else holds it on this
// host. Nothing listening, another host, or a name (which is not looked
// up here) is no error.
func CheckHostPort(ctx context.Context, hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if strings.EqualFold(host, "localhost") {
		addrs = []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	}
	var k Checker
	for _, a := range addrs {
		if err := k.CheckListeners(ctx, netip.AddrPortFrom(a, uint16(p))); err != nil && !errors.Is(err, ErrNoListener) {
			return err
		}
	}
	return nil
}
