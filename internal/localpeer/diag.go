package localpeer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// The kernel's sock_diag interface (linux/inet_diag.h): one request names
// a TCP socket by its addresses and ports, and the kernel looks it up in
// its hash table and answers with its uid and inode, the same values
// /proc/net/tcp prints. /proc/net/tcp walks every bucket of that table
// (milliseconds, on any host) for each check; this costs a lookup.
const (
	sockDiagByFamily = 20 // SOCK_DIAG_BY_FAMILY
	diagReqLen       = 56 // struct inet_diag_req_v2
	diagMsgLen       = 72 // struct inet_diag_msg
	diagRecvTimeout  = 1  // seconds: the kernel answers at once
)

// diagRequest is the netlink message asking for the TCP socket whose local
// address is src and remote address is dst.
func diagRequest(src, dst netip.AddrPort, seq uint32) []byte {
	family := byte(syscall.AF_INET)
	if !src.Addr().Unmap().Is4() || !dst.Addr().Unmap().Is4() {
		family = syscall.AF_INET6
	}
	msg := make([]byte, syscall.SizeofNlMsghdr+diagReqLen)
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], sockDiagByFamily)
	binary.NativeEndian.PutUint16(msg[6:], syscall.NLM_F_REQUEST)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	req := msg[syscall.SizeofNlMsghdr:]
	req[0], req[1] = family, syscall.IPPROTO_TCP
	binary.NativeEndian.PutUint32(req[4:], 0xFFFFFFFF) // every state
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
	if family == syscall.AF_INET {
		v4 := a.Unmap().As4()
		copy(b, v4[:])
		return
	}
	v6 := a.As16()
	copy(b, v6[:])
}

// parseDiagReply reads the kernel's answer: the socket, found false when
// there is none (ENOENT), or an error.
func parseDiagReply(buf []byte, seq uint32) (entry, bool, error) {
	msgs, err := syscall.ParseNetlinkMessage(buf)
	if err != nil {
		return entry{}, false, fmt.Errorf("sock_diag: %w", err)
	}
	for _, m := range msgs {
		if m.Header.Seq != seq {
			continue
		}
		switch m.Header.Type {
		case syscall.NLMSG_ERROR:
			if len(m.Data) < 4 {
				return entry{}, false, errors.New("sock_diag: a short error message")
			}
			errno := -int32(binary.NativeEndian.Uint32(m.Data))
			if errno == int32(syscall.ENOENT) {
				return entry{}, false, nil
			}
			return entry{}, false, fmt.Errorf("sock_diag: %w", syscall.Errno(errno))
		case sockDiagByFamily:
			if len(m.Data) < diagMsgLen {
				return entry{}, false, errors.New("sock_diag: a short answer")
			}
			return parseDiagMsg(m.Data), true, nil
		}
	}
	return entry{}, false, errors.New("sock_diag: no answer to our request")
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

// diagPeer asks the kernel for the server end of the connection
// local→remote. An error means sock_diag could not say (no netlink, no
// tcp_diag module): the caller reads /proc/net/tcp instead.
func diagPeer(local, remote netip.AddrPort) (entry, bool, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return entry{}, false, fmt.Errorf("sock_diag: %w", err)
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: diagRecvTimeout}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return entry{}, false, fmt.Errorf("sock_diag: %w", err)
	}
	const seq = 1
	if err := syscall.Sendto(fd, diagRequest(remote, local, seq), 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return entry{}, false, fmt.Errorf("sock_diag: %w", err)
	}
	buf := make([]byte, 8192)
	for {
		n, from, err := syscall.Recvfrom(fd, buf, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return entry{}, false, fmt.Errorf("sock_diag: %w", err)
		}
		if nl, ok := from.(*syscall.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not the kernel's
		}
		e, found, err := parseDiagReply(buf[:n], seq)
		if err != nil || !found {
			return e, found, err
		}
		// without the connection, the kernel answers with a listener on
		// that port; a TIME_WAIT has no owner
		if e.state == stateListen || e.state == stateTimeWait || !same(e.local, remote) || !same(e.remote, local) {
			return entry{}, false, nil
		}
		return e, true, nil
	}
}
