package localpeer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeConn is a connection between two addresses, for the fake tables.
type fakeConn struct {
	net.Conn
	local, remote net.Addr
}

func (c fakeConn) LocalAddr() net.Addr  { return c.local }
func (c fakeConn) RemoteAddr() net.Addr { return c.remote }

func tcpConn(local, remote string) net.Conn {
	return fakeConn{local: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(local)),
		remote: net.TCPAddrFromAddrPort(netip.MustParseAddrPort(remote))}
}

func udpConn(local, remote string) net.Conn {
	return fakeConn{local: net.UDPAddrFromAddrPort(netip.MustParseAddrPort(local)),
		remote: net.UDPAddrFromAddrPort(netip.MustParseAddrPort(remote))}
}

// fakeChecker reads the tables under proc, trusts root and uid 1000, and
// takes loopback addresses and 192.0.2.1 for this host's.
func fakeChecker(proc string) Checker {
	self := uint32(1000)
	return Checker{Proc: proc, Self: &self, IsLocal: func(a netip.Addr) bool {
		return a.Unmap().IsLoopback() || a == netip.MustParseAddr("192.0.2.1")
	}}
}

const (
	client = "127.0.0.1:40000"
	opa    = "127.0.0.1:8181"
)

// TestCheckTCP: our connection's server end, found in the tables, and the
// listeners of its address decide: accepted by root (or our own uid)
// passes; accepted by another user (a service that dropped root) or not
// accepted yet passes when every listener that could have taken it is
// root's, and is refused by the uid of the one that is not.
func TestCheckTCP(t *testing.T) {
	listener := func(uid uint32) sock { return sock{"0.0.0.0:8181", "0.0.0.0:0", stateListen, uid, 10} }
	accepted := func(uid uint32) sock { return sock{opa, client, stateEstablished, uid, 12} }
	queued := func(uid uint32) sock { return sock{opa, client, stateEstablished, uid, 0} }
	ourEnd := sock{client, opa, stateEstablished, 0, 11}
	for _, tt := range []struct {
		name      string
		conn      net.Conn
		tcp, tcp6 []sock
		noTCP6    bool
		want      string // "" passes, "uid N" a NotRootError, else part of the error
	}{
		{name: "root listens and accepts", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd, accepted(0)}},
		{name: "our own uid listens and accepts", conn: tcpConn(client, opa),
			tcp: []sock{listener(1000), ourEnd, accepted(1000)}},
		{name: "root listens, a worker of another uid accepts (postfix's smtpd)", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd, accepted(107)}},
		{name: "root listens, not accepted yet (an older kernel shows uid 0)", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd, queued(0)}},
		{name: "another user listens and accepts", conn: tcpConn(client, opa),
			tcp: []sock{listener(65534), ourEnd, accepted(65534)}, want: "uid 65534"},
		{name: "another user listens, not accepted yet (a recent kernel shows the listener's uid)", conn: tcpConn(client, opa),
			tcp: []sock{listener(65534), ourEnd, queued(65534)}, want: "uid 65534"},
		{name: "another user listens, not accepted yet (an older kernel shows uid 0)", conn: tcpConn(client, opa),
			tcp: []sock{listener(65534), ourEnd, queued(0)}, want: "uid 65534"},
		{name: "another user accepted, and its listener is gone", conn: tcpConn(client, opa),
			tcp: []sock{ourEnd, accepted(65534)}, want: "uid 65534"},
		{name: "another user's listener on the address beside root's on any", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), {opa, "0.0.0.0:0", stateListen, 4242, 9}, ourEnd, accepted(4242)}, want: "uid 4242"},
		{name: "another user's dual-stack listener beside root's IPv4 one", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd, queued(0)}, tcp6: []sock{{"[::]:8181", "[::]:0", stateListen, 4242, 9}}, want: "uid 4242"},
		{name: "listeners on other ports and addresses do not count", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), {"127.0.0.2:8181", "0.0.0.0:0", stateListen, 4242, 9}, {"0.0.0.0:8182", "0.0.0.0:0", stateListen, 4242, 8},
				ourEnd, queued(0)}},
		{name: "a dual-stack server: its end in tcp6, IPv4-mapped", conn: tcpConn(client, opa),
			tcp:  []sock{ourEnd},
			tcp6: []sock{{"[::]:8181", "[::]:0", stateListen, 0, 9}, {"[::ffff:127.0.0.1]:8181", "[::ffff:127.0.0.1]:40000", stateEstablished, 0, 12}}},
		{name: "a dual-stack server of another user", conn: tcpConn(client, opa),
			tcp:  []sock{ourEnd},
			tcp6: []sock{{"[::]:8181", "[::]:0", stateListen, 65534, 9}, {"[::ffff:127.0.0.1]:8181", "[::ffff:127.0.0.1]:40000", stateEstablished, 65534, 12}}, want: "uid 65534"},
		{name: "over ::1, another user's", conn: tcpConn("[::1]:40000", "[::1]:8181"),
			tcp6: []sock{{"[::1]:8181", "[::]:0", stateListen, 65534, 9}, {"[::1]:8181", "[::1]:40000", stateEstablished, 65534, 12}}, want: "uid 65534"},
		{name: "over ::1, an IPv4 listener of another user does not take it", conn: tcpConn("[::1]:40000", "[::1]:8181"),
			tcp:  []sock{listener(4242)},
			tcp6: []sock{{"[::1]:8181", "[::]:0", stateListen, 0, 9}, {"[::1]:8181", "[::1]:40000", stateEstablished, 0, 0}}},
		{name: "another address of 127/8", conn: tcpConn("127.0.0.1:40000", "127.0.0.53:53"),
			tcp: []sock{{"127.0.0.53:53", "0.0.0.0:0", stateListen, 101, 9}, {"127.0.0.53:53", "127.0.0.1:40000", stateEstablished, 101, 12}}, want: "uid 101"},
		{name: "an address of this host's interfaces", conn: tcpConn("192.0.2.1:40000", "192.0.2.1:25"),
			tcp: []sock{{"0.0.0.0:25", "0.0.0.0:0", stateListen, 4242, 9}, {"192.0.2.1:25", "192.0.2.1:40000", stateEstablished, 4242, 12}}, want: "uid 4242"},
		{name: "no IPv6 in this kernel", conn: tcpConn(client, opa), noTCP6: true,
			tcp: []sock{listener(0), accepted(0)}},
		{name: "another host: not looked at", conn: tcpConn("192.0.2.1:40000", "198.51.100.7:8181")},
		{name: "the server closed our connection at once", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd, {opa, client, 0x04, 0, 0}}, want: "closed our connection at once"},
		{name: "an old connection's TIME_WAIT (uid 0) is nobody's", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), {opa, client, stateTimeWait, 0, 0}}, want: "no socket of it answers"},
		{name: "a listener is not the server end", conn: tcpConn(client, opa),
			tcp: []sock{listener(0), ourEnd}, want: "no socket of it answers"},
		{name: "connected to itself", conn: tcpConn(opa, opa), tcp: []sock{{opa, opa, stateEstablished, 0, 12}},
			want: "reached itself"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			if !strings.Contains(tt.name, "another host") {
				writeTable(t, proc, "tcp", tt.tcp...)
				if !tt.noTCP6 {
					writeTable(t, proc, "tcp6", tt.tcp6...)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := fakeChecker(proc).CheckTCP(ctx, tt.conn)
			if time.Since(start) > time.Second {
				t.Errorf("took %v with a deadline of 200ms", time.Since(start))
			}
			checkErr(t, err, tt.want)
		})
	}
}

// TestCheckTCPStrict: when nothing listened before connecting, a
// connection accepted by another user is refused even though root's
// listener is there now (a user's could have taken it and gone); one
// accepted by root, or waiting in root's listener's queue, passes.
func TestCheckTCPStrict(t *testing.T) {
	rootListener := sock{"0.0.0.0:8181", "0.0.0.0:0", stateListen, 0, 10}
	for _, tt := range []struct {
		peer sock
		want string
	}{
		{sock{opa, client, stateEstablished, 0, 12}, ""},
		{sock{opa, client, stateEstablished, 0, 0}, ""},
		{sock{opa, client, stateEstablished, 65534, 12}, "uid 65534"},
	} {
		proc := t.TempDir()
		writeTable(t, proc, "tcp", rootListener, tt.peer)
		writeTable(t, proc, "tcp6")
		checkErr(t, fakeChecker(proc).checkTCP(context.Background(), tcpConn(client, opa), true), tt.want)
	}
}

// TestCheckListeners: the check before connecting: every listener that
// could take a connection to the address, and one at least.
func TestCheckListeners(t *testing.T) {
	for _, tt := range []struct {
		to        string
		tcp, tcp6 []sock
		want      string
	}{
		{opa, []sock{{"0.0.0.0:8181", "0.0.0.0:0", stateListen, 0, 9}}, nil, ""},
		{opa, []sock{{opa, "0.0.0.0:0", stateListen, 0, 9}, {"127.0.0.1:8182", "0.0.0.0:0", stateListen, 4242, 8}}, nil, ""},
		{opa, []sock{{opa, "0.0.0.0:0", stateListen, 4242, 9}}, nil, "uid 4242"},
		{opa, nil, []sock{{"[::ffff:127.0.0.1]:8181", "[::]:0", stateListen, 4242, 9}}, "uid 4242"},
		{opa, []sock{{opa, client, stateEstablished, 4242, 9}}, nil, "nothing listens there"},
		{"198.51.100.7:8181", nil, nil, ""},
	} {
		proc := t.TempDir()
		writeTable(t, proc, "tcp", tt.tcp...)
		writeTable(t, proc, "tcp6", tt.tcp6...)
		err := fakeChecker(proc).CheckListeners(context.Background(), netip.MustParseAddrPort(tt.to))
		checkErr(t, err, tt.want)
		if tt.want == "nothing listens there" && !errors.Is(err, ErrNoListener) {
			t.Errorf("%v is not ErrNoListener", err)
		}
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	var nr *NotRootError
	switch {
	case want == "":
		if err != nil {
			t.Errorf("refused: %v", err)
		}
	case strings.HasPrefix(want, "uid "):
		if !errors.As(err, &nr) || fmt.Sprintf("uid %d", nr.UID) != want || !strings.Contains(err.Error(), want) ||
			!strings.Contains(err.Error(), "not root") {
			t.Errorf("got %v, want a NotRootError naming %s", err, want)
		}
	default:
		if err == nil || errors.As(err, &nr) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error saying %q", err, want)
		}
	}
}

// TestCheckTCPWaitsForTables: a server end not in the tables yet (a
// syncookie's connection before our ACK) is waited for.
func TestCheckTCPWaitsForTables(t *testing.T) {
	for _, tt := range []struct {
		uid  uint32
		want string
	}{{0, ""}, {65534, "uid 65534"}} {
		proc := t.TempDir()
		writeTable(t, proc, "tcp", sock{"0.0.0.0:8181", "0.0.0.0:0", stateListen, tt.uid, 10})
		writeTable(t, proc, "tcp6")
		go func() {
			time.Sleep(50 * time.Millisecond)
			writeTable(t, proc, "tcp", sock{"0.0.0.0:8181", "0.0.0.0:0", stateListen, tt.uid, 10}, sock{opa, client, stateEstablished, tt.uid, 12})
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		checkErr(t, fakeChecker(proc).CheckTCP(ctx, tcpConn(client, opa)), tt.want)
		cancel()
	}
}

// TestCheckTCPBrokenTables: no /proc, or a table that is not one, is an
// error: nothing passes unchecked.
func TestCheckTCPBrokenTables(t *testing.T) {
	proc := t.TempDir()
	checkErr(t, fakeChecker(proc).CheckTCP(context.Background(), tcpConn(client, opa)), "the kernel's socket table")
	os.MkdirAll(filepath.Join(proc, "net"), 0o755)
	os.WriteFile(filepath.Join(proc, "net", "tcp"), []byte("header\ngarbage\n"), 0o644)
	checkErr(t, fakeChecker(proc).CheckTCP(context.Background(), tcpConn(client, opa)), "net/tcp:2: not a socket line")
}

// TestCheckUDP: every socket that would receive our datagrams must be
// root's or ours, and there must be one.
func TestCheckUDP(t *testing.T) {
	const (
		us     = "127.0.0.1:50000"
		syslog = "127.0.0.1:514"
	)
	ours := sock{us, syslog, stateEstablished, 0, 5}
	for _, tt := range []struct {
		name      string
		conn      net.Conn
		udp, udp6 []sock
		want      string
	}{
		{name: "rsyslog as root", conn: udpConn(us, syslog),
			udp: []sock{ours, {"0.0.0.0:514", "0.0.0.0:0", stateClose, 0, 7}}},
		{name: "rsyslog as root on the address", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 0, 7}}},
		{name: "another user bound the port", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 65534, 7}}, want: "uid 65534"},
		{name: "another user beside root (SO_REUSEADDR)", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 0, 7}, {"0.0.0.0:514", "0.0.0.0:0", stateClose, 4242, 8}}, want: "uid 4242"},
		{name: "another user's dual-stack socket", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 0, 7}}, udp6: []sock{{"[::]:514", "[::]:0", stateClose, 4242, 8}}, want: "uid 4242"},
		{name: "another user's socket connected to us", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, us, stateEstablished, 4242, 8}}, want: "uid 4242"},
		{name: "another user's socket connected elsewhere does not receive ours", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 0, 7}, {syslog, "127.0.0.1:9", stateEstablished, 4242, 8}}},
		{name: "another user's socket on another port or address", conn: udpConn(us, syslog),
			udp: []sock{ours, {syslog, "0.0.0.0:0", stateClose, 0, 7}, {"127.0.0.2:514", "0.0.0.0:0", stateClose, 4242, 8}, {"0.0.0.0:515", "0.0.0.0:0", stateClose, 4242, 9}}},
		{name: "an IPv4 socket does not receive over ::1", conn: udpConn("[::1]:50000", "[::1]:514"),
			udp: []sock{{"0.0.0.0:514", "0.0.0.0:0", stateClose, 4242, 8}}, udp6: []sock{{"[::1]:514", "[::]:0", stateClose, 0, 7}}},
		{name: "nobody receives", conn: udpConn(us, syslog), udp: []sock{ours}, want: "no socket there receives"},
		{name: "another host: not looked at", conn: udpConn("192.0.2.1:50000", "198.51.100.7:514")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			if !strings.Contains(tt.name, "another host") {
				writeTable(t, proc, "udp", tt.udp...)
				writeTable(t, proc, "udp6", tt.udp6...)
			}
			checkErr(t, fakeChecker(proc).CheckUDP(context.Background(), tt.conn), tt.want)
		})
	}
}

// TestIsLocal: loopback in every spelling, and this host's own addresses.
func TestIsLocal(t *testing.T) {
	for _, s := range []string{"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::"} {
		if !IsLocal(netip.MustParseAddr(s)) {
			t.Errorf("%s is not taken for this host's", s)
		}
	}
	for _, s := range []string{"192.0.2.7", "2001:db8::1", "8.8.8.8"} {
		if IsLocal(netip.MustParseAddr(s)) {
			t.Errorf("%s is taken for this host's", s)
		}
	}
	ifaddrs, _ := net.InterfaceAddrs()
	for _, ia := range ifaddrs {
		if n, ok := ia.(*net.IPNet); ok {
			a, _ := netip.AddrFromSlice(n.IP)
			if !IsLocal(a) {
				t.Errorf("%s, of an interface of this host, is not taken for this host's", a)
			}
		}
	}
}

// BenchmarkCheckTCP: the cost of one check on a host with many
// connections (a busy server taking logins), the server end last.
func BenchmarkCheckTCP(b *testing.B) {
	for _, n := range []int{100, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			proc := b.TempDir()
			socks := make([]sock, n)
			for i := range socks {
				socks[i] = sock{"10.0.0.1:443", fmt.Sprintf("192.0.2.%d:%d", i%250+1, 1024+i%60000), stateEstablished, 33, uint64(i + 1)}
			}
			socks[0] = sock{"0.0.0.0:8181", "0.0.0.0:0", stateListen, 0, 10}
			socks[n-1] = sock{opa, client, stateEstablished, 107, 12}
			t := &testing.T{}
			writeTable(t, proc, "tcp", socks...)
			writeTable(t, proc, "tcp6")
			k := fakeChecker(proc)
			c := tcpConn(client, opa)
			b.ResetTimer()
			for b.Loop() {
				if err := k.CheckTCP(context.Background(), c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
