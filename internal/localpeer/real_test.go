package localpeer

import (
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// asUser runs fn on a thread of its own whose file system uid is uid, so
// that the sockets fn makes and accepts are that user's, as if another
// process of that user made them. The thread is never given back: it ends
// with fn's goroutine. Root only.
func asUser(t *testing.T, uid int, fn func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to make sockets of another user")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // not unlocked: the thread ends with us
		if err := syscall.Setfsuid(uid); err == nil {
			fn()
		}
	}()
	<-done
}

// serveTCP listens on addr as uid and accepts on that user's thread,
// writing "hi" to every connection; accept false listens and never
// accepts. It returns the listener's address.
func serveTCP(t *testing.T, uid int, network, addr string, accept bool) string {
	t.Helper()
	lc := make(chan net.Listener, 1)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if uid >= 0 {
			if err := syscall.Setfsuid(uid); err != nil {
				errc <- err
				return
			}
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			errc <- err
			return
		}
		lc <- l
		if !accept {
			return // the listener stays open until the test closes it
		}
		for {
			c, err := l.Accept() // on this thread: accepted as uid
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			defer c.Close()
		}
	}()
	select {
	case err := <-errc:
		t.Skipf("listening on %s %s: %v", network, addr, err)
	case l := <-lc:
		t.Cleanup(func() { l.Close() })
		return l.Addr().String()
	}
	return ""
}

// TestRealTCP: the kernel's own tables, with real listeners: ours passes,
// over 127.0.0.1, ::1 and a dual-stack listener; another user's is
// refused by uid, accepted or not; root's that never accepts is an error
// in time.
func TestRealTCP(t *testing.T) {
	dial := func(addr string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		c, err := Dial(ctx, &net.Dialer{Timeout: time.Second}, "tcp", addr)
		if err == nil {
			c.Close()
		}
		return err
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
	var nr *NotRootError
	for _, accept := range []bool{true, false} {
		addr := serveTCP(t, 65534, "tcp", "127.0.0.1:0", accept)
		err := dial(addr)
		switch {
		case errors.As(err, &nr) && nr.UID == 65534:
			t.Logf("accept %v: %v", accept, err)
		case !accept && err != nil:
			// an older kernel shows 0 for a connection not accepted yet:
			// waited for, in vain
			t.Logf("accept %v: %v", accept, err)
		default:
			t.Errorf("uid 65534's listener (accepting: %v): %v", accept, err)
		}
	}
	_, port, _ = net.SplitHostPort(serveTCP(t, 65534, "tcp", ":0", true))
	if err := dial("localhost:" + port); !errors.As(err, &nr) || nr.UID != 65534 {
		t.Errorf("uid 65534's dual-stack listener through localhost: %v", err)
	}
	start := time.Now()
	if err := dial(serveTCP(t, 0, "tcp", "127.0.0.1:0", false)); err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("root's listener that never accepts: %v after %v", err, time.Since(start))
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
	var theirs net.PacketConn
	asUser(t, 65534, func() { theirs, err = net.ListenPacket("udp", "127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	defer theirs.Close()
	var nr *NotRootError
	if err := check(theirs.LocalAddr().String()); !errors.As(err, &nr) || nr.UID != 65534 {
		t.Errorf("uid 65534's socket: %v", err)
	}
}
