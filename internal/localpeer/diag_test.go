package localpeer

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestDiagRequest: the request names the socket by its local (src) and
// remote (dst) ends, IPv4 as AF_INET (an IPv4-mapped address too: the
// kernel finds a dual-stack server's end by its IPv4 addresses), without a
// cookie.
func TestDiagRequest(t *testing.T) {
	msg := diagRequest(syscall.AF_INET, 0xFFFFFFFF, netip.MustParseAddrPort("[::ffff:127.0.0.1]:8181"), netip.MustParseAddrPort("127.0.0.1:40000"), false)
	if len(msg) != 16+56 || binary.NativeEndian.Uint32(msg) != 72 || binary.NativeEndian.Uint16(msg[4:]) != 20 ||
		binary.NativeEndian.Uint16(msg[6:]) != syscall.NLM_F_REQUEST || binary.NativeEndian.Uint32(msg[8:]) != diagSeq {
		t.Fatalf("header % x", msg[:16])
	}
	req := msg[16:]
	if req[0] != syscall.AF_INET || req[1] != syscall.IPPROTO_TCP {
		t.Errorf("family %d protocol %d", req[0], req[1])
	}
	id := req[8:]
	if binary.BigEndian.Uint16(id) != 8181 || binary.BigEndian.Uint16(id[2:]) != 40000 ||
		netip.AddrFrom4([4]byte(id[4:8])) != netip.MustParseAddr("127.0.0.1") ||
		netip.AddrFrom4([4]byte(id[20:24])) != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("id % x", id)
	}
	if binary.NativeEndian.Uint32(id[40:]) != 0xFFFFFFFF || binary.NativeEndian.Uint32(id[44:]) != 0xFFFFFFFF {
		t.Errorf("cookie % x", id[40:48])
	}
	msg6 := diagRequest(syscall.AF_INET6, 0xFFFFFFFF, netip.MustParseAddrPort("[::1]:25"), netip.MustParseAddrPort("[::1]:40000"), false)
	if msg6[16] != syscall.AF_INET6 || netip.AddrFrom16([16]byte(msg6[16+8+4:16+8+20])) != netip.IPv6Loopback() {
		t.Errorf("IPv6: % x", msg6[16:])
	}
	// a dump of the listeners on a port: no addresses
	dump := diagRequest(syscall.AF_INET, 1<<stateListen, netip.AddrPortFrom(netip.Addr{}, 25), netip.AddrPort{}, true)
	if binary.NativeEndian.Uint16(dump[6:]) != syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP ||
		binary.NativeEndian.Uint32(dump[16+4:]) != 1<<10 || binary.BigEndian.Uint16(dump[16+8:]) != 25 {
		t.Errorf("dump: % x", dump)
	}
	for _, b := range dump[16+8+4 : 16+8+36] {
		if b != 0 {
			t.Errorf("dump names addresses: % x", dump[16+8:])
			break
		}
	}
}

// TestParseDiagReply: an answer, a dump in parts, no such socket, an
// error, garbage.
func TestParseDiagReply(t *testing.T) {
	nl := func(typ, flags uint16, seq uint32, data []byte) []byte {
		m := make([]byte, 16+len(data))
		binary.NativeEndian.PutUint32(m, uint32(len(m)))
		binary.NativeEndian.PutUint16(m[4:], typ)
		binary.NativeEndian.PutUint16(m[6:], flags)
		binary.NativeEndian.PutUint32(m[8:], seq)
		copy(m[16:], data)
		return m
	}
	errno := func(e syscall.Errno) []byte {
		b := make([]byte, 20)
		binary.NativeEndian.PutUint32(b, uint32(-int32(e)))
		return b
	}
	answer := make([]byte, 72)
	answer[0], answer[1] = syscall.AF_INET, stateEstablished
	binary.BigEndian.PutUint16(answer[4:], 8181)
	binary.BigEndian.PutUint16(answer[6:], 40000)
	copy(answer[8:], []byte{127, 0, 0, 1})
	copy(answer[24:], []byte{127, 0, 0, 1})
	binary.NativeEndian.PutUint32(answer[64:], 65534)
	binary.NativeEndian.PutUint32(answer[68:], 4242)

	got, done, err := parseDiagReply(nl(sockDiagByFamily, 0, diagSeq, answer), nil)
	if err != nil || !done || len(got) != 1 {
		t.Fatalf("answer: %+v %v %v", got, done, err)
	}
	if e := got[0]; e.local.String() != "127.0.0.1:8181" || e.remote.String() != "127.0.0.1:40000" ||
		e.uid != 65534 || e.inode != 4242 || e.state != stateEstablished {
		t.Errorf("answer: %+v", e)
	}
	// a dump: parts flagged NLM_F_MULTI, over datagrams, until NLMSG_DONE
	part := nl(sockDiagByFamily, syscall.NLM_F_MULTI, diagSeq, answer)
	got, done, err = parseDiagReply(append(append([]byte{}, part...), part...), nil)
	if err != nil || done || len(got) != 2 {
		t.Fatalf("a dump's first datagram: %d %v %v", len(got), done, err)
	}
	got, done, err = parseDiagReply(append(append([]byte{}, part...), nl(syscall.NLMSG_DONE, syscall.NLM_F_MULTI, diagSeq, make([]byte, 4))...), got)
	if err != nil || !done || len(got) != 3 {
		t.Fatalf("a dump's last datagram: %d %v %v", len(got), done, err)
	}
	if got, done, err := parseDiagReply(nl(syscall.NLMSG_ERROR, 0, diagSeq, errno(syscall.ENOENT)), nil); !done || len(got) != 0 || err != nil {
		t.Errorf("ENOENT: %v %v %v", got, done, err)
	}
	if _, _, err := parseDiagReply(nl(syscall.NLMSG_ERROR, 0, diagSeq, errno(syscall.EPERM)), nil); err == nil {
		t.Error("EPERM is no error")
	}
	if got, done, err := parseDiagReply(nl(sockDiagByFamily, 0, 9, answer), nil); done || len(got) != 0 || err != nil {
		t.Errorf("another request's answer is taken: %v %v %v", got, done, err)
	}
	for name, buf := range map[string][]byte{
		"short":       nl(sockDiagByFamily, 0, diagSeq, answer[:40]),
		"short error": nl(syscall.NLMSG_ERROR, 0, diagSeq, nil),
		"not netlink": []byte("garbage"),
	} {
		if _, _, err := parseDiagReply(buf, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestRealDiag: sock_diag finds the server end of a real connection, over
// IPv4, to a dual-stack listener, and over IPv6, with the uid and, once
// accepted, the inode; a connection that is not there is not found.
func TestRealDiag(t *testing.T) {
	for _, tt := range []struct{ network, listen, dial string }{
		{"tcp4", "127.0.0.1:0", ""},
		{"tcp", ":0", "127.0.0.1"},
		{"tcp6", "[::1]:0", ""},
	} {
		l, err := net.Listen(tt.network, tt.listen)
		if err != nil {
			t.Logf("%s %s: %v", tt.network, tt.listen, err)
			continue
		}
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, err := l.Accept()
			if err == nil {
				accepted <- c
			}
		}()
		addr := l.Addr().String()
		if tt.dial != "" {
			_, port, _ := net.SplitHostPort(addr)
			addr = net.JoinHostPort(tt.dial, port)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		select {
		case s := <-accepted:
			defer s.Close()
		case <-time.After(5 * time.Second):
			t.Fatal("not accepted")
		}
		local, remote, _ := addrs(c)
		e, found, err := diagPeer(local, remote)
		if err != nil {
			t.Fatalf("sock_diag on this host: %v", err)
		}
		if !found || e.uid != uint32(os.Geteuid()) || e.inode == 0 || !same(e.local, remote) || !same(e.remote, local) {
			t.Errorf("%s %s: %+v %v", tt.network, addr, e, found)
		}
		ls, err := diagListeners(remote.Port())
		if err != nil || len(ls) != 1 || ls[0].uid != uint32(os.Geteuid()) || ls[0].inode == 0 || ls[0].local.Port() != remote.Port() {
			t.Errorf("%s: listeners on %d: %+v %v", tt.network, remote.Port(), ls, err)
		}
		// the same ports reversed name no connection (the listener on the
		// port is not taken for one)
		gone := netip.AddrPortFrom(local.Addr(), local.Port()^1)
		if e, found, err := diagPeer(gone, remote); found || err != nil {
			t.Errorf("%s: a connection that is not there: %+v %v %v", tt.network, e, found, err)
		}
	}
}
