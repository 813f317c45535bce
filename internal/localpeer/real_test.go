package localpeer

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer/localpeertest"
)

// serveTCP listens on addr, as uid (-1: as this process), and accepts,
// writing "hi" to every connection; accept false listens and never
// accepts. It returns the listener's address.
func serveTCP(t *testing.T, uid int, network, addr string, accept bool) string {
	t.Helper()
	var l net.Listener
	if uid >= 0 {
		l = localpeertest.Listen(t, uid, network, addr)
	} else {
		var err error
		if l, err = net.Listen(network, addr); err != nil {
			t.Skipf("listening on %s %s: %v", network, addr, err)
		}
		t.Cleanup(func() { l.Close() })
	}
	if accept {
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("hi"))
				t.Cleanup(func() { c.Close() })
			}
		}()
	}
	return l.Addr().String()
}

// TestRealTCP: the kernel's own tables and sock_diag, with real
// listeners: ours passes, over 127.0.0.1, ::1 and a dual-stack listener;
// root's passes, whoever accepts on it (a worker that dropped root) and
// before it is accepted; another user's is refused by uid, accepted or
// not, through localhost too, and Dial refuses it before connecting.
func TestRealTCP(t *testing.T) {
	t.Run("sock_diag", func(t *testing.T) { testRealTCP(t, Checker{}) })
	t.Run("/proc", func(t *testing.T) { testRealTCP(t, Checker{Proc: "/proc"}) })
}

func testRealTCP(t *testing.T, k Checker) {
	dial := func(addr string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		return k.CheckTCP(ctx, c)
	}
	// our own uid's, accepted by this process
	if err := dial(serveTCP(t, -1, "tcp", "127.0.0.1:0", true)); err != nil {
		t.Errorf("our own listener on 127.0.0.1: %v", err)
	}
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		l.Close()
		if err := dial(serveTCP(t, -1, "tcp6", "[::1]:0", true)); err != nil {
			t.Errorf("our own listener on ::1: %v", err)
		}
	}
	_, port, _ := net.SplitHostPort(serveTCP(t, -1, "tcp", ":0", true)) // dual-stack where IPv6 is
	if err := dial("127.0.0.1:" + port); err != nil {
		t.Errorf("our own listener on any address: %v", err)
	}

	if os.Geteuid() != 0 {
		t.Skip("needs root to listen as another user")
	}
	for _, accept := range []bool{true, false} {
		if err := dial(serveTCP(t, 0, "tcp", "127.0.0.1:0", accept)); err != nil {
			t.Errorf("root's listener (accepting: %v): %v", accept, err)
		}
	}
	worker := localpeertest.AcceptAs(t, localpeertest.Listen(t, 0, "tcp", "127.0.0.1:0"), 65534)
	workerConns := make(chan net.Conn, 1)
	go func() {
		if c, err := worker.Accept(); err == nil {
			workerConns <- c
		}
	}()
	wc, err := net.Dial("tcp", worker.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	defer (<-workerConns).Close()
	local, remote, _ := addrs(wc)
	if peer, found, _ := k.peer(context.Background(), local, remote); !found || peer.uid != 65534 || peer.inode == 0 {
		t.Errorf("the worker's accepted socket: %+v %v (want uid 65534's)", peer, found)
	}
	if err := k.CheckTCP(context.Background(), wc); err != nil {
		t.Errorf("root's listener, uid 65534 accepting: %v", err)
	}

	var nr *NotRootError
	for _, accept := range []bool{true, false} {
		if err := dial(serveTCP(t, 65534, "tcp", "127.0.0.1:0", accept)); !errors.As(err, &nr) || nr.UID != 65534 {
			t.Errorf("uid 65534's listener (accepting: %v): %v", accept, err)
		}
	}
	_, port, _ = net.SplitHostPort(serveTCP(t, 65534, "tcp", ":0", true))
	if err := dial("localhost:" + port); !errors.As(err, &nr) || nr.UID != 65534 {
		t.Errorf("uid 65534's dual-stack listener through localhost: %v", err)
	}

	// Dial checks the listeners before connecting: no connection is made
	l := localpeertest.Listen(t, 65534, "tcp", "127.0.0.1:0")
	conns := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			conns <- c
		}
	}()
	c, err := k.Dial(context.Background(), &net.Dialer{Timeout: time.Second}, "tcp", l.Addr().String())
	if !errors.As(err, &nr) || nr.UID != 65534 || c != nil {
		t.Errorf("Dial to uid 65534's listener: %v", err)
	}
	select {
	case c := <-conns:
		c.Close()
		t.Error("Dial connected to uid 65534's listener before refusing it")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestRealUDP: a datagram to a port bound by us passes, by another user
// is refused, by nobody is an error.
func TestRealUDP(t *testing.T) {
	check := func(addr string) error {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return CheckUDP(context.Background(), c)
	}
	ours, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	if err := check(ours.LocalAddr().String()); err != nil {
		t.Errorf("our own socket: %v", err)
	}
	free := ours.LocalAddr().String()
	ours.Close()
	if err := check(free); err == nil {
		t.Error("a port nobody has bound passes")
	}
	theirs := localpeertest.ListenPacket(t, 65534, "udp", "127.0.0.1:0")
	var nr *NotRootError
	if err := check(theirs.LocalAddr().String()); !errors.As(err, &nr) || nr.UID != 65534 {
		t.Errorf("uid 65534's socket: %v", err)
	}
}

// BenchmarkRealDial: a connection to a listener of ours on 127.0.0.1,
// dialled and checked against this host's own tables, and plainly.
func BenchmarkRealDial(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { c.Read(make([]byte, 1)); c.Close() }() // until the client closes
		}
	}()
	d := &net.Dialer{Timeout: time.Second}
	for _, checked := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "checked"}[checked], func(b *testing.B) {
			for b.Loop() {
				var c net.Conn
				var err error
				if checked {
					c, err = Dial(context.Background(), d, "tcp", l.Addr().String())
				} else {
					c, err = d.Dial("tcp", l.Addr().String())
				}
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
