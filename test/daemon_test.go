package test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// startDaemon runs the helper as a daemon on a socket in dir, with env
// added to its environment.
func startDaemon(t testing.TB, dir string, env ...string) (socket string, stop func()) {
	t.Helper()
	socket = filepath.Join(dir, "helper.sock")
	cmd := command(helper, "--daemon", "--socket", socket)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	stop = func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		// the file is there from bind(), connections are taken from
		// listen(): wait for the second, without a connection of ours
		if fi, err := os.Stat(socket); err == nil && fi.Mode()&os.ModeSocket != 0 && listening(t, socket) {
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("socket mode %o, want 600", fi.Mode().Perm())
			}
			return socket, stop
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not listen")
		}
	}
}

// listening reports whether a unix socket bound at path listens, from the
// kernel's table: its flags have __SO_ACCEPTCON (1<<16).
func listening(t testing.TB, path string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/net/unix")
	must(t, err)
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) >= 8 && f[len(f)-1] == path {
			flags, err := strconv.ParseUint(f[3], 16, 32)
			if err == nil && flags&(1<<16) != 0 {
				return true
			}
		}
	}
	return false
}

// TestDaemon: the module asks the daemon first. With a missing helper
// binary, only the daemon can have answered; with the daemon gone, the
// module runs the helper itself.
func TestDaemon(t *testing.T) {
	s := newPAMStack(t, pamRules)
	socket, stop := startDaemon(t, s.dir)
	viaDaemon := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+viaDaemon+"\naccount required "+viaDaemon+"\nsession required "+viaDaemon+"\n")

	mark := sink.Mark()
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
		t.Fatalf("alice through the daemon: exit %d\n%s", code, out)
	}
	if out, code := s.pamtester(t, nil, "sshd", "bob", "authenticate"); code != 1 || !strings.Contains(out, "Access denied by pam-accesscontrol.") {
		t.Fatalf("bob through the daemon: exit %d\n%s", code, out)
	}
	if out, code := s.pamtester(t, nil, "sshd", "kate", "acct_mgmt"); code != 0 {
		t.Fatalf("kate's key login through the daemon: exit %d\n%s", code, out)
	}
	lines := sink.Since(mark)
	if n := len(grep(lines, "pam-accesscontrol[", "OPEN for \"alice\"")); n != 1 {
		t.Errorf("%d decision lines for alice, want 1:\n%s", n, strings.Join(lines, "\n"))
	}

	stop()
	mark = sink.Mark()
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code == 0 {
		t.Fatalf("no daemon and no helper, yet the login got in:\n%s", out)
	}
	if len(grep(sink.Since(mark), "/nonexistent/helper: No such file or directory")) != 1 {
		t.Errorf("no line about the missing helper: %q", sink.Since(mark))
	}
	fallback := s.moduleLine("socket=" + socket)
	s.service(t, "sshd", "auth required "+fallback+"\n")
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Fatalf("no daemon: the helper should run, exit %d\n%s", code, out)
	}
}

// TestDaemonRefusesNonRoot: only root's PAM calls are served; a caller of
// another uid is refused with a log line, and the module denies.
func TestDaemonRefusesNonRoot(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		testenv.Missing(t, "setpriv (util-linux)")
	}
	s := newPAMStack(t, pamRules)
	for dir := s.dir; dir != "/" && dir != "/tmp"; dir = filepath.Dir(dir) {
		os.Chmod(dir, 0o755) // let nobody read the service files
	}
	socket, _ := startDaemon(t, s.dir)
	must(t, os.Chmod(socket, 0o666)) // as if misconfigured
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")

	mark := sink.Mark()
	cmd := command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "pamtester", "sshd", "alice", "authenticate")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t), "PAM_WRAPPER=1",
		"PAM_WRAPPER_SERVICE_DIR="+s.svc, "PAM_WRAPPER_USE_SYSLOG=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("a non-root caller got in:\n%s", out)
	}
	if len(grep(sink.Since(mark), "daemon: refused a connection from uid 65534")) != 1 {
		t.Errorf("no refusal logged: %q", sink.Since(mark))
	}
}

// activatedDaemon starts the helper as systemd's socket activation does:
// the listeners as fds 3, 4, … with LISTEN_PID, LISTEN_FDS and names.
func activatedDaemon(t *testing.T, names string, ls ...*os.File) *exec.Cmd {
	t.Helper()
	cmd := command("sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=$1 LISTEN_FDNAMES=$2 exec "$0" --daemon --socket /nonexistent/ignored.sock`,
		helper, strconv.Itoa(len(ls)), names)
	cmd.ExtraFiles = ls // fd 3 on, as systemd passes them
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	for _, f := range ls {
		f.Close()
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd
}

// systemdSocket makes a unix socket as systemd's socket unit does: it
// stays when its listener closes.
func systemdSocket(t *testing.T, path string) *os.File {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	must(t, err)
	f, err := l.File()
	must(t, err)
	l.SetUnlinkOnClose(false)
	l.Close()
	return f
}

// TestDaemonSocketActivation: started by systemd's socket unit, the daemon
// serves every socket it is handed (LISTEN_FDS, named or not) rather than
// making one, and leaves them in place when it ends.
func TestDaemonSocketActivation(t *testing.T) {
	s := newPAMStack(t, pamRules)
	sockets := []string{filepath.Join(s.dir, "activated.sock"), filepath.Join(s.dir, "second.sock")}
	cmd := activatedDaemon(t, "pam-accesscontrol-helper.socket:second", systemdSocket(t, sockets[0]), systemdSocket(t, sockets[1]))
	for _, socket := range sockets {
		line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
		s.service(t, "sshd", "auth required "+line+"\n")
		for i := 0; ; i++ {
			out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
			if code == 0 {
				break
			}
			if i == 50 {
				t.Fatalf("the activated daemon did not answer on %s:\n%s", socket, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
	cmd.Wait()
	for _, socket := range sockets {
		if fi, err := os.Stat(socket); err != nil || fi.Mode()&os.ModeSocket == 0 {
			t.Errorf("systemd's socket %s is gone after the daemon: %v", socket, err)
		}
	}
}

// TestDaemonActivationRefusesTCP: a socket that is not a unix stream
// socket (a misconfigured unit's ListenStream=127.0.0.1:…) is refused: the
// daemon says why and ends, and serves nothing.
func TestDaemonActivationRefusesTCP(t *testing.T) {
	l, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	must(t, err)
	f, err := l.File()
	must(t, err)
	l.Close()
	mark := sink.Mark()
	cmd := activatedDaemon(t, "", f)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the daemon exited 0")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon serves a TCP socket")
	}
	if len(grep(sink.Since(mark), "not a unix stream socket")) == 0 {
		t.Errorf("no line saying why: %q", sink.Since(mark))
	}
}

// TestDaemonDeliverer: a daemon's calls hand their audit events to a
// deliverer too, and the daemon reaps every deliverer it starts.
func TestDaemonDeliverer(t *testing.T) {
	s := newPAMStack(t, "")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	defer pc.Close()
	must(t, os.WriteFile(s.rules, []byte("SYSLOG_SERVER:udp://"+pc.LocalAddr().String()+"\nSSHD OPEN USER alice\n"), 0o644))
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")
	for i := 0; i < 3; i++ {
		if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
			t.Fatalf("through the daemon: exit %d\n%s", code, out)
		}
	}
	buf := make([]byte, 4096)
	for i := 0; i < 3; i++ {
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil || !strings.Contains(string(buf[:n]), `[pamac@32473 login="`) {
			t.Fatalf("event %d: %q, %v", i, buf[:n], err)
		}
	}
	daemon := processWith(t, "--daemon", socket)
	for i := 0; ; i++ {
		zombies := 0
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, p := range stats {
			data, _ := os.ReadFile(p)
			f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
			if len(f) > 1 && f[0] == "Z" && f[1] == daemon {
				zombies++
			}
		}
		if zombies == 0 {
			break
		}
		if i == 50 {
			t.Fatalf("%d deliverers of the daemon were never reaped", zombies)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// processWith returns the pid of the process whose command line holds
// every one of args.
func processWith(t *testing.T, args ...string) string {
	t.Helper()
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range cmdlines {
		data, _ := os.ReadFile(p)
		all := true
		for _, a := range args {
			all = all && strings.Contains(string(data), a)
		}
		if all {
			return filepath.Base(filepath.Dir(p))
		}
	}
	t.Fatalf("no process with %q", args)
	return ""
}

// TestDeliverMode: the deliverer that systemd's timer runs has nothing to
// do when nothing was ever put, and says so by exiting 0; a wrong command
// line is a usage error.
func TestDeliverMode(t *testing.T) {
	for _, tc := range []struct {
		args []string
		exit int
	}{
		{[]string{"--deliver", filepath.Join(t.TempDir(), "never-made")}, 0},
		{[]string{"--deliver", t.TempDir()}, 0},
		{[]string{"--deliver"}, 64},
	} {
		if code := exitStatus(t, command(helper, tc.args...).Run()); code != tc.exit {
			t.Errorf("%v: exit %d, want %d", tc.args, code, tc.exit)
		}
	}
}

// TestDaemonIdleConnection: connections that send no call are dropped
// after a few seconds, each with a log line, and do not keep the daemon
// from serving a login meanwhile.
func TestDaemonIdleConnection(t *testing.T) {
	s := newPAMStack(t, pamRules)
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")
	mark := sink.Mark()
	const idle = 20
	start := time.Now()
	closed := make(chan time.Duration, idle)
	for i := 0; i < idle; i++ {
		c, err := net.Dial("unix", socket)
		must(t, err)
		defer c.Close()
		go func() {
			c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := c.Read(make([]byte, 1))
			if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				closed <- -1
				return
			}
			closed <- time.Since(start)
		}()
	}
	// meanwhile a login is served
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Fatalf("alice while idle connections are open: exit %d\n%s", code, out)
	}
	for i := 0; i < idle; i++ {
		if d := <-closed; d < 0 || d > 15*time.Second {
			t.Fatalf("an idle connection was not dropped within 15 s (%v)", d)
		}
	}
	if n := len(grep(sink.Since(mark), "sent no call within 5s; dropped")); n != idle {
		t.Errorf("%d drop lines, want %d", n, idle)
	}
}

// fakeDaemon serves socket with answer: what a daemon of another build
// does with each call it reads.
func fakeDaemon(t *testing.T, socket string, answer func(c net.Conn)) {
	t.Helper()
	l, err := net.Listen("unix", socket)
	must(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := protocol.Read(c); err == nil {
					answer(c)
				}
			}()
		}
	}()
}

// TestDaemonVersionSkew: during an upgrade the module and the daemon may
// be of different builds. A daemon that declines the call (this build's
// answer to another version, or an older build's closing without a word)
// makes the module run its own helper: the rules decide as always, in
// both directions. A daemon that goes away in the middle of a call is no
// such thing: that call is denied.
func TestDaemonVersionSkew(t *testing.T) {
	s := newPAMStack(t, pamRules)
	for _, tt := range []struct {
		name   string
		answer func(c net.Conn)
		alice  int // pamtester's exit
	}{
		{"answers with its version", func(c net.Conn) {
			protocol.Write(c, protocol.Message{Type: protocol.MsgVersion, Fields: []protocol.Value{protocol.Int(protocol.Version + 1)}})
		}, 0},
		{"closes at once", func(c net.Conn) {}, 0},
		{"closes in the middle of the call", func(c net.Conn) {
			protocol.Write(c, protocol.Message{Type: protocol.MsgGetItem, Fields: []protocol.Value{protocol.Int(protocol.ItemTTY)}})
			protocol.Read(c)
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			socket := filepath.Join(s.dir, strings.ReplaceAll(tt.name, " ", "-")+".sock")
			fakeDaemon(t, socket, tt.answer)
			line := s.moduleLine("socket=" + socket)
			s.service(t, "sshd", "auth required "+line+"\n")
			if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != tt.alice {
				t.Errorf("alice: exit %d, want %d\n%s", code, tt.alice, out)
			}
			if out, code := s.pamtester(t, nil, "sshd", "bob", "authenticate"); code != 1 {
				t.Errorf("bob got in through a declining daemon: exit %d\n%s", code, out)
			}
		})
	}

	// this build's daemon, called by a module of another version: it
	// answers with its own version, and says so once
	socket, _ := startDaemon(t, s.dir)
	mark := sink.Mark()
	for i := 0; i < 3; i++ {
		c, err := net.Dial("unix", socket)
		must(t, err)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		call := protocol.Call{Version: protocol.Version + 1, Fn: protocol.FnAuthenticate, PID: int32(os.Getpid()), Handle: "0x1"}
		must(t, protocol.Write(c, call.Message()))
		m, err := protocol.Read(c)
		c.Close()
		if err != nil || m.Type != protocol.MsgVersion || len(m.Fields) != 1 || m.Fields[0].Int != protocol.Version {
			t.Fatalf("the daemon answered %+v, %v; want its version", m, err)
		}
	}
	if n := len(grep(sink.Since(mark), fmt.Sprintf("a module of protocol version %d called", protocol.Version+1))); n != 1 {
		t.Errorf("%d skew lines for 3 calls, want 1: %q", n, sink.Since(mark))
	}
}

// TestDaemonConfigChange: the daemon parses a config once, and sees every
// change at the very next call: a rule rewritten, a drop-in added, a file
// made unsafe and safe again.
func TestDaemonConfigChange(t *testing.T) {
	s := newPAMStack(t, "SSHD OPEN USER alice\n")
	socket, _ := startDaemon(t, s.dir)
	line := s.moduleLine("socket="+socket, "helper=/nonexistent/helper")
	s.service(t, "sshd", "auth required "+line+"\n")
	dropIns := filepath.Join(s.dir, "rules.d")
	must(t, os.Mkdir(dropIns, 0o755))
	steps := []struct {
		name   string
		change func()
		alice  int
	}{
		{"as written", func() {}, 0},
		{"the rule rewritten", func() { must(t, os.WriteFile(s.rules, []byte("SSHD CLOSE USER alice\n"), 0o644)) }, 1},
		{"and back", func() { must(t, os.WriteFile(s.rules, []byte("SSHD OPEN USER alice\n"), 0o644)) }, 0},
		{"a drop-in closes", func() {
			must(t, os.WriteFile(filepath.Join(dropIns, "10-close.conf"), []byte("SSHD CLOSE USER alice\n"), 0o644))
		}, 1},
		{"the drop-in removed", func() { must(t, os.Remove(filepath.Join(dropIns, "10-close.conf"))) }, 0},
		{"the rules file writable by others", func() { must(t, os.Chmod(s.rules, 0o666)) }, 1},
		{"safe again", func() { must(t, os.Chmod(s.rules, 0o644)) }, 0},
	}
	for _, st := range steps {
		st.change()
		for i := 0; i < 2; i++ { // the first call after the change, and one more
			if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code != st.alice {
				t.Errorf("%s, call %d: exit %d, want %d\n%s", st.name, i+1, code, st.alice, out)
			}
		}
	}
}

// TestDaemonDrain: a daemon told to stop (SIGTERM, as systemd's restart
// after an upgrade does) finishes the call it is in, here one waiting for
// the user to type a code, and the login gets in; a login after that runs
// the module's own helper.
func TestDaemonDrain(t *testing.T) {
	s := newPAMStack(t, "SSHD otp USER alice\n")
	writeOTPPlugin(t, s)
	socket := filepath.Join(s.dir, "helper.sock")
	cmd := command(helper, "--daemon", "--socket", socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if listening(t, socket) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not listen")
		}
	}
	line := s.moduleLine("socket=" + socket)
	s.service(t, "sshd", "auth required "+line+"\n")

	stdin, typing := io.Pipe()
	login := command("pamtester", "-v", "sshd", "alice", "authenticate")
	login.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t), "PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc)
	login.Stdin = stdin
	out, err := login.StdoutPipe()
	must(t, err)
	login.Stderr = login.Stdout
	must(t, login.Start())
	said := make(chan string, 1)
	go func() {
		var all strings.Builder
		buf := make([]byte, 256)
		for {
			n, err := out.Read(buf)
			all.Write(buf[:n])
			if strings.Contains(all.String(), "One-time code") {
				said <- all.String()
				io.Copy(io.Discard, out)
				return
			}
			if err != nil {
				said <- all.String()
				return
			}
		}
	}()
	select {
	case got := <-said:
		if !strings.Contains(got, "One-time code") {
			t.Fatalf("no prompt: %s", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no prompt in 20 s")
	}
	must(t, syscall.Kill(cmd.Process.Pid, syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("the daemon exited with a call in progress: %v", err)
	case <-time.After(300 * time.Millisecond): // draining, the login in its call
	}
	fmt.Fprintln(typing, otpCode)
	typing.Close()
	if err := login.Wait(); err != nil {
		t.Errorf("the login in progress when the daemon was told to stop: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the daemon stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not stop after its last call")
	}
	// no daemon now: the module runs its helper, and the rules still decide
	if out, code := s.pamtesterTyping(t, strings.NewReader(otpCode+"\n"), nil, "sshd", "alice", "authenticate"); code != 0 {
		t.Errorf("after the daemon: exit %d\n%s", code, out)
	}
}

// TestModuleIgnoresNonRootDaemon: a local user who listens where the
// module looks for the daemon, and lets every login in, is not asked: the
// module checks that root serves the socket, says so, and runs its own
// helper, whose rules refuse.
func TestModuleIgnoresNonRootDaemon(t *testing.T) {
	rogue := buildOnce(t, "roguedaemon", "go", "build", "-o", "OUT", "./roguedaemon")
	s := newPAMStack(t, pamRules)
	dir := filepath.Join(s.dir, "rogue")
	must(t, os.Mkdir(dir, 0o777))
	must(t, os.Chmod(dir, 0o777))
	for d := s.dir; d != "/" && d != "/tmp"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755) // let nobody reach its directory
	}
	socket := filepath.Join(dir, "helper.sock")
	cmd := exec.Command(rogue, socket)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if listening(t, socket) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rogue daemon did not listen")
		}
	}
	line := s.moduleLine("socket=" + socket)
	s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
	mark := sink.Mark()
	if out, code := s.pamtester(t, nil, "sshd", "bob", "authenticate"); code == 0 {
		t.Fatalf("uid 65534's daemon let bob in:\n%s", out)
	}
	if len(grep(sink.Since(mark), "is served by uid 65534, not root: ignoring it")) != 1 {
		t.Errorf("no line says the socket was ignored:\n%s", strings.Join(sink.Since(mark), "\n"))
	}
	if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt"); code != 0 {
		t.Errorf("alice, whom the rules let in, through the module's own helper: exit %d\n%s", code, out)
	}
}
