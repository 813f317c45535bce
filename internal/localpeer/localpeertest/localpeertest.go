// Package localpeertest makes sockets of another user for tests that play
// a local attacker: a listener on 127.0.0.1 held by uid 65534, as if that
// user's process had bound it while the real service was down.
//
// The sockets are made, and connections accepted, on a thread of their
// own whose file system uid is the user's: that is whose the kernel
// records them as (an accepted socket is the accepting thread's). No
// process is started, so any Go server (net/http, a fake SMTP relay) can
// serve on the listener. Root only.
package localpeertest

import (
	"net"
	"runtime"
	"syscall"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// onThread runs jobs on one locked thread with fsuid uid until stop is
// closed; the thread then ends (it is never unlocked, so never reused).
type onThread struct {
	jobs chan func()
	stop chan struct{}
}

func newThread(t testing.TB, uid int) *onThread {
	t.Helper()
	testenv.Root(t)
	th := &onThread{jobs: make(chan func()), stop: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := syscall.Setfsuid(uid); err != nil {
			errc <- err
			return
		}
		// setfsuid never fails; it reports the uid it kept
		if prev, _ := setfsuid(-1); prev != uid {
			errc <- syscall.EPERM
			return
		}
		errc <- nil
		for {
			select {
			case job := <-th.jobs:
				job()
			case <-th.stop:
				return
			}
		}
	}()
	if err := <-errc; err != nil {
		t.Fatalf("a thread of uid %d: %v", uid, err)
	}
	return th
}

func setfsuid(uid int) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_SETFSUID, uintptr(uid), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func (th *onThread) do(fn func()) {
	done := make(chan struct{})
	select {
	case th.jobs <- func() { fn(); close(done) }:
		<-done
	case <-th.stop:
		fn() // stopped: only Close and Accept's error are left to do
	}
}

// listener accepts on the user's thread.
type listener struct {
	net.Listener
	th *onThread
}

func (l *listener) Accept() (c net.Conn, err error) {
	// Accept blocks the thread: one at a time, and Close ends it
	l.th.do(func() { c, err = l.Listener.Accept() })
	return c, err
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	select {
	case <-l.th.stop:
	default:
		close(l.th.stop)
	}
	return err
}

// Listen listens on network and addr ("tcp", "127.0.0.1:0") as uid: the
// listening socket and every accepted one are uid's. Closed when the test
// ends. Skips, or fails under PAMAC_REQUIRE_TOOLS=1, unless root.
func Listen(t testing.TB, uid int, network, addr string) net.Listener {
	t.Helper()
	th := newThread(t, uid)
	var l net.Listener
	var err error
	th.do(func() { l, err = net.Listen(network, addr) })
	if err != nil {
		close(th.stop)
		t.Fatalf("listening on %s %s as uid %d: %v", network, addr, uid, err)
	}
	wl := &listener{Listener: l, th: th}
	t.Cleanup(func() { wl.Close() })
	return wl
}

// AcceptAs makes l accept as uid, as a service that drops root after
// binding does (postfix's master listens as root, its smtpd processes
// accept as postfix). Closing the result closes l.
func AcceptAs(t testing.TB, l net.Listener, uid int) net.Listener {
	t.Helper()
	if w, ok := l.(*listener); ok {
		l = w.Listener // accept here, not on Listen's thread
	}
	wl := &listener{Listener: l, th: newThread(t, uid)}
	t.Cleanup(func() { wl.Close() })
	return wl
}

// ListenPacket binds a datagram socket (network "udp") on addr as uid.
// Closed when the test ends.
func ListenPacket(t testing.TB, uid int, network, addr string) net.PacketConn {
	t.Helper()
	th := newThread(t, uid)
	defer close(th.stop)
	var pc net.PacketConn
	var err error
	th.do(func() { pc, err = net.ListenPacket(network, addr) })
	if err != nil {
		t.Fatalf("binding %s %s as uid %d: %v", network, addr, uid, err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}
