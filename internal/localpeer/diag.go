package localpeer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// The kernel's sock_diag interface (linux/inet_diag.h). An exact request
// names a TCP socket by its addresses and ports, and the kernel looks it
// up in its hash table; a dump of the listening state walks only the
// listeners. Both answer with each socket's uid and inode, the values
// /proc/net/tcp prints, which walks every bucket of the connection table
// (milliseconds on any host) for each read.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	diagReqLen       = 56 // struct inet_diag_req_v2
	diagMsgLen       = 72 // struct inet_diag_msg
	diagRecvTimeout  = 1  // seconds: the kernel answers at once
	diagSeq          = 1
)

// diagRequest is a netlink request for TCP sockets of family whose local
// end is src and remote end dst (an exact lookup), or, with dump, for
// every socket in states (a bit mask of TCP states) whose local port is
// src's.
func diagRequest(family byte, states uint32, src, dst netip.AddrPort, dump bool) []byte {
	msg := make([]byte, syscall.SizeofNlMsghdr+diagReqLen)
	flags := uint16(syscall.NLM_F_REQUEST)
	if dump {
		flags |= syscall.NLM_F_DUMP
	}
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], diagSeq)
	req := msg[syscall.SizeofNlMsghdr:]
	req[0], req[1] = family, syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[4:], states)
	id := req[8:]
	binary.BigEndian.PutUint16(id[0:], src.Port())
	binary.BigEndian.PutUint16(id[2:], dst.Port())
	putDiagAddr(id[4:20], src.Addr(), family)
	putDiagAddr(id[20:36], dst.Addr(), family)
	// id[36:40] interface: any; the cookie: none (INET_DIAG_NOCOOKIE)
	binary.NativeEndian.PutUint32(id[40:], 0xFFFFFFFF)
	binary.NativeEndian.PutUint32(id[44:], 0xFFFFFFFF)
	return msg
}

func putDiagAddr(b []byte, a netip.Addr, family byte) {
	if !a.IsValid() {
		return
	}
	if family == syscall.AF_INET {
		v4 := a.Unmap().As4()
		copy(b, v4[:])
		return
	}
	v6 := a.As16()
	copy(b, v6[:])
}

// parseDiagReply reads one datagram of the kernel's answer into out. done
// says the answer is complete: the one socket or error of an exact
// request, the NLMSG_DONE of a dump. ENOENT (no such socket) is no error.
func parseDiagReply(buf []byte, out []entry) ([]entry, bool, error) {
	msgs, err := syscall.ParseNetlinkMessage(buf)
	if err == nil && len(msgs) == 0 {
		err = errors.New("not a netlink message")
	}
	if err != nil {
		return out, false, fmt.Errorf("sock_diag: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Seq != diagSeq {
			continue
		}
		switch m.Header.Type {
		case syscall.NLMSG_DONE:
			return out, true, nil
		case syscall.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return out, false, errors.New("sock_diag: a short error message")
			}
			errno := -int32(binary.NativeEndian.Uint32(m.Data))
			if errno == 0 || errno == int32(syscall.ENOENT) {
				return out, true, nil
			}
			return out, false, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
		case sockDiagByFamily:
			if len(m.Data) < diagMsgLen {
				return out, false, errors.New("sock_diag: a short answer")
			}
			out = append(out, parseDiagMsg(m.Data))
			if m.Header.Flags&syscall.NLM_F_MULTI == 0 {
				return out, true, nil
			}
		}
	}
	return out, false, nil
}

// parseDiagMsg reads a struct inet_diag_msg.
func parseDiagMsg(d []byte) entry {
	id := d[4:52]
	var e entry
	e.state = d[1]
	e.local = netip.AddrPortFrom(diagAddr(id[4:20], d[0]), binary.BigEndian.Uint16(id[0:]))
	e.remote = netip.AddrPortFrom(diagAddr(id[20:36], d[0]), binary.BigEndian.Uint16(id[2:]))
	e.uid = binary.NativeEndian.Uint32(d[64:])
	e.inode = uint64(binary.NativeEndian.Uint32(d[68:]))
	return e
}

func diagAddr(b []byte, family byte) netip.Addr {
	if family == syscall.AF_INET {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16([16]byte(b[:16]))
}

// diagAsk sends one request and reads the whole answer. An error means
// sock_diag could not say (no netlink, no tcp_diag module): the caller
// reads /proc's tables instead.
func diagAsk(req []byte) ([]entry, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: diagRecvTimeout}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	buf := make([]byte, 32<<10)
	var out []entry
	for {
		n, from, err := syscall.Recvfrom(fd, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sock_diag: %w", err)
		}
		if nl, ok := from.(*syscall.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not the kernel's
		}
		var done bool
		if out, done, err = parseDiagReply(buf[:n], out); err != nil || done {
			return out, err
		}
		if len(out) > maxListeners {
			return nil, fmt.Errorf("sock_diag: more than %d sockets", maxListeners)
		}
	}
}

// maxListeners bounds the sockets one answer may list: the listeners on
// one port are a handful.
const maxListeners = 4096

// diagPeer asks the kernel for the server end of the connection
// local→remote.
func diagPeer(local, remote netip.AddrPort) (entry, bool, error) {
	family := byte(syscall.AF_INET)
	if !remote.Addr().Unmap().Is4() || !local.Addr().Unmap().Is4() {
		family = syscall.AF_INET6
	}
	found, err := diagAsk(diagRequest(family, 0xFFFFFFFF, remote, local, false))
	if err != nil {
		return entry{}, false, err
	}
	for _, e := range found {
		// without the connection, the kernel answers with a listener on
		// that port; a TIME_WAIT has no owner
		if e.state != stateListen && e.state != stateTimeWait && same(e.local, remote) && same(e.remote, local) {
			return e, true, nil
		}
	}
	return entry{}, false, nil
}

// diagListeners asks the kernel for the listening sockets on port, IPv4
// and IPv6.
func diagListeners(port uint16) ([]entry, error) {
	var all []entry
	for _, family := range []byte{syscall.AF_INET, syscall.AF_INET6} {
		src := netip.AddrPortFrom(netip.Addr{}, port)
		found, err := diagAsk(diagRequest(family, 1<<stateListen, src, netip.AddrPort{}, true))
		if err != nil {
			return nil, err
		}
		for _, e := range found {
			if e.state == stateListen && e.local.Port() == port {
				all = append(all, e)
			}
		}
	}
	return all, nil
}
