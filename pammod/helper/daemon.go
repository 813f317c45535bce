package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// DefaultSocket is where the daemon listens and the module looks first.
const DefaultSocket = "/run/pam-accesscontrol/helper.sock"

// A module sends its call as soon as it connects; a connection that sends
// nothing for callArrival is dropped, so that nobody can hold the daemon's
// goroutines and descriptors by connecting. Once the call is in, the
// module's own timeout= bounds it (it gives up then), and callMargin
// more: a module that stopped answering cannot hold a connection longer.
const (
	callArrival = 5 * time.Second
	callMargin  = 5 * time.Second
)

// daemon serves PAM calls over a unix socket, the same protocol as over the
// socketpair: a Go program costs a process start of several milliseconds,
// which the daemon pays once. Only root may connect (the socket is 0600 and
// every peer's uid is checked); a module that cannot connect runs the
// helper itself, so the daemon is an optimisation, never a requirement.
func daemon(socket string, log *logging.Logger) error {
	l, err := listener(socket)
	if err != nil {
		return err
	}
	defer l.Close()
	log.Info("daemon: serving PAM calls on %s", socket)
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		go serveConn(c, log.Fork())
	}
}

// listener takes the socket systemd passed (socket activation), or makes
// one at path.
func listener(path string) (*net.UnixListener, error) {
	if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid == os.Getpid() && os.Getenv("LISTEN_FDS") == "1" {
		f := os.NewFile(3, "systemd socket")
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("socket from systemd: %w", err)
		}
		ul, ok := l.(*net.UnixListener)
		if !ok {
			return nil, errors.New("socket from systemd is not a unix socket")
		}
		return ul, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path) // a stale socket of an earlier daemon
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// serveConn runs one PAM call. A panic ends this call (the module then
// denies), never the daemon.
func serveConn(c *net.UnixConn, log *logging.Logger) {
	defer c.Close()
	defer func() {
		if p := recover(); p != nil {
			log.Error("internal error, denying: %v\n%s", p, debug.Stack())
		}
	}()
	c.SetDeadline(time.Now().Add(callArrival))
	peer, err := peerCred(c)
	if err != nil || peer.Uid != uint32(os.Geteuid()) {
		log.Error("daemon: refused a connection from uid %d (%v): only root's PAM calls are served", peer.Uid, err)
		return
	}
	conn := protocol.NewConn(c)
	call, err := conn.ReadCall()
	if errors.Is(err, os.ErrDeadlineExceeded) {
		log.Error("daemon: pid %d connected and sent no call within %v; dropped", peer.Pid, callArrival)
		return
	}
	if err != nil {
		log.Error("%v; denying", err)
		return
	}
	if args, err := parseArgs(call.Args); err == nil {
		c.SetDeadline(time.Now().Add(args.Timeout + callMargin))
	} // else handle denies at once
	code, outbox := handle(conn, call, peer.Pid, log)
	if err := conn.Result(code); err != nil {
		log.Error("sending the result to the module: %v", err)
	}
	startDeliverer(outbox, log)
}

// peerCred is who connected, as the kernel says: the uid to check, and
// the pid that names the login (never the pid the call claims).
func peerCred(c *net.UnixConn) (syscall.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return syscall.Ucred{}, err
	}
	var cred *syscall.Ucred
	var credErr error
	err = raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	})
	if err == nil {
		err = credErr
	}
	if err != nil {
		return syscall.Ucred{}, err
	}
	return *cred, nil
}
