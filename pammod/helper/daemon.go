//go:build !lean

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
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
func daemon(socket string, phases *phaseLog, log *logging.Logger) error {
	ls, err := listeners(socket)
	if err != nil {
		return err
	}
	errs := make(chan error, len(ls))
	d := &server{phases: phases}
	if boot, err := (loginstate.Identifier{}).BootID(); err == nil {
		d.ids.Boot = boot // no process outlives its boot: read once
	}
	go d.reportOnSignal(log)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	for _, l := range ls {
		defer l.Close()
		log.Info("daemon: serving PAM calls on %s", l.Addr())
		go func() { errs <- d.accept(l, log) }()
	}
	select {
	case err := <-errs:
		return err
	case sig := <-stop:
		return d.drain(sig, ls, log)
	}
}

// maxDrain bounds how long a stopping daemon waits for its calls: the
// longest a module waits for one (timeout= is at most this, with a margin).
const maxDrain = 10 * time.Minute

// drain stops a daemon the way an upgrade's restart needs: no new calls
// (a module then finds systemd's socket queueing for the next daemon, or
// no socket and runs its own helper), and the calls in progress finished,
// not cut off: a login mid-call when the daemon dies is denied.
func (d *server) drain(sig os.Signal, ls []*net.UnixListener, log *logging.Logger) error {
	d.stopping.Store(true)
	for _, l := range ls {
		l.Close() // unlinks only a socket of our own; systemd's stays
	}
	log.Info("daemon: %v: finishing %d calls in progress, then stopping", sig, d.serving.Load())
	deadline := time.Now().Add(maxDrain)
	for d.serving.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := d.serving.Load(); n > 0 {
		log.Error("daemon: stopping with %d calls still in progress after %v", n, maxDrain)
	}
	return nil
}

// server is what the daemon keeps between the calls it serves.
type server struct {
	serving  atomic.Int64 // connections being served now
	stopping atomic.Bool  // a signal asked it to stop
	skew     versionSkew
	configs  rules.Cache           // a config is parsed again only when a file of it changed
	ids      loginstate.Identifier // the boot id read once
	phases   *phaseLog             // nil unless --phase-log
	tokens   call.TokenCheckers    // TOKEN's providers, discovered once in a while
}

// phaseLog writes each call's phases as one JSON line: the service and
// the function, then microseconds per phase (connect: from the accept to
// the call read; then pammod/call's).
type phaseLog struct {
	mu sync.Mutex
	w  io.Writer
}

// call collects one call's phases; done writes them.
func (p *phaseLog) call(accepted time.Time) (add call.Phases, done func(req protocol.Call)) {
	if p == nil {
		return nil, func(protocol.Call) {}
	}
	line := map[string]any{"connect": time.Since(accepted).Microseconds()}
	add = func(phase string, took time.Duration) { line[phase] = took.Microseconds() }
	return add, func(req protocol.Call) {
		line["service"], line["fn"] = req.Service.S, req.Fn.String()
		data, _ := json.Marshal(line)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.w.Write(append(data, '\n'))
	}
}

// versionSkew remembers the protocol versions of modules already logged:
// during an upgrade every login would otherwise log the same line.
type versionSkew struct {
	mu   sync.Mutex
	seen map[int32]bool
}

// first reports whether version v is seen for the first time.
func (s *versionSkew) first(v int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[int32]bool{}
	}
	if s.seen[v] {
		return false
	}
	s.seen[v] = true
	return true
}

func (d *server) accept(l *net.UnixListener, log *logging.Logger) error {
	for {
		c, err := l.AcceptUnix()
		if err != nil && d.stopping.Load() {
			return nil // drain closed it
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept on %s: %w", l.Addr(), err)
		}
		d.serving.Add(1) // before the goroutine runs: drain must not miss it
		go d.serveConn(c, time.Now(), log.Fork())
	}
}

// listeners takes the sockets systemd passed (socket activation: any
// number, named or not), or makes one at path. The LISTEN_* variables are
// unset and the passed descriptors closed on exec, so that no process the
// daemon starts takes them for its own. A socket that is not a unix stream
// socket is refused: the peer checks need one.
func listeners(path string) ([]*net.UnixListener, error) {
	files := activation.Files(true)
	if len(files) == 0 {
		l, err := listenAt(path)
		if err != nil {
			return nil, err
		}
		return []*net.UnixListener{l}, nil
	}
	var out []*net.UnixListener
	fail := func(err error) ([]*net.UnixListener, error) {
		for _, l := range out {
			l.Close()
		}
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	for i, f := range files {
		l, err := net.FileListener(f)
		if err != nil {
			return fail(fmt.Errorf("socket %s from systemd: %w", f.Name(), err))
		}
		f.Close()
		files[i] = nil
		ul, ok := l.(*net.UnixListener)
		if !ok {
			l.Close()
			return fail(fmt.Errorf("socket %s from systemd is a %s socket, not a unix stream socket", f.Name(), l.Addr().Network()))
		}
		ul.SetUnlinkOnClose(false) // systemd's: it outlives this daemon
		out = append(out, ul)
	}
	return out, nil
}

// listenAt makes the daemon's own socket at path, root's only.
func listenAt(path string) (*net.UnixListener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path) // a stale socket of an earlier daemon
	// born root's only: no moment in which the mode is the umask's (the
	// daemon is starting, no other goroutine makes files yet)
	old := syscall.Umask(0o177)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
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
func (d *server) serveConn(c *net.UnixConn, accepted time.Time, log *logging.Logger) {
	defer d.serving.Add(-1)
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
	var ve *protocol.VersionError
	if errors.As(err, &ve) {
		// the module runs its own build's helper instead
		if d.skew.first(ve.Got) {
			log.Info("daemon: a module of protocol version %d called (this daemon speaks %d): it runs its own helper until both are one build (logged once)", ve.Got, protocol.Version)
		}
		protocol.Write(c, protocol.Message{Type: protocol.MsgVersion, Fields: []protocol.Value{protocol.Int(protocol.Version)}})
		return
	}
	if err != nil {
		log.Error("%v; denying", err)
		return
	}
	if args, err := parseArgs(call.Args); err == nil {
		c.SetDeadline(time.Now().Add(args.Timeout + callMargin))
	} // else handle denies at once
	phases, logPhases := d.phases.call(accepted)
	code, outbox := handle(conn, call, peer.Pid, served{configs: &d.configs, phases: phases, ids: d.ids, tokens: d.tokens.Checker}, log)
	logPhases(call)
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

// reportOnSignal logs, at each SIGUSR1, what the daemon holds: calls in
// progress, goroutines, descriptors, memory. It first collects garbage and
// returns what is free to the system, so that the live heap and the
// resident set (/proc/PID/status) then say what the daemon keeps, not
// where the collector happened to be: an admin (or a load test) sees
// whether anything leaks.
func (d *server) reportOnSignal(log *logging.Logger) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	for range ch {
		debug.FreeOSMemory()
		fds, _ := os.ReadDir("/proc/self/fd")
		var mem runtime.MemStats
		runtime.ReadMemStats(&mem)
		log.Info("daemon: %d calls in progress, %d goroutines, %d descriptors, %d KiB live heap, %d KiB from the system",
			d.serving.Load(), runtime.NumGoroutine(), len(fds), mem.HeapAlloc>>10, mem.Sys>>10)
	}
}

func runDaemon(args []string) int {
	fs := flag.NewFlagSet("pam-accesscontrol-helper", flag.ContinueOnError)
	serve := fs.Bool("daemon", false, "serve PAM calls on a unix socket")
	socket := fs.String("socket", DefaultSocket, "the socket, unless systemd passes one")
	phaseLogPath := fs.String("phase-log", "", "append how long each phase of each call took to this file, a JSON line a call (for make bench)")
	if fs.Parse(args) != nil || !*serve || fs.NArg() > 0 {
		fs.Usage()
		return 64
	}
	log := logging.Open()
	defer log.Close()
	var phases *phaseLog
	if *phaseLogPath != "" {
		f, err := os.OpenFile(*phaseLogPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			log.Error("daemon: --phase-log: %v", err)
			return 1
		}
		defer f.Close()
		phases = &phaseLog{w: f}
	}
	if err := daemon(*socket, phases, log); err != nil {
		log.Error("daemon: %v", err)
		os.Stderr.WriteString("pam-accesscontrol-helper: " + err.Error() + "\n")
		return 1
	}
	return 0
}
