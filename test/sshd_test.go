package test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind/logindtest"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testbus"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
)

// sshServer is a real sshd on 127.0.0.1 whose PAM service "sshd" comes from
// a private directory through pam_wrapper: pam_matrix checks passwords
// (root's is "secret"), and the module under test runs in auth, account
// and session.
type sshServer struct {
	dir, rules, key string
	port            int
}

func startSSHD(t *testing.T, moduleOpts ...string) *sshServer {
	t.Helper()
	return startSSHDWith(t, sshdSetup{}, moduleOpts...)
}

// sshdSetup changes what startSSHDWith's sshd runs.
type sshdSetup struct {
	// stack is the PAM service "sshd" for the module line (its options
	// included); nil: pam_matrix, then the module in auth, account and
	// session.
	stack func(s *sshServer, line string) string
	// command is the ForceCommand; "" is "echo SESSION-OK".
	command string
	// prefix runs sshd inside it (a private mount namespace, say).
	prefix []string
}

func startSSHDWith(t *testing.T, setup sshdSetup, moduleOpts ...string) *sshServer {
	t.Helper()
	testenv.Root(t)
	for _, prog := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "sshpass"} {
		if _, err := exec.LookPath(prog); err != nil {
			testenv.Missing(t, prog)
		}
	}
	matrix := testenv.Library(t, "pam_wrapper/pam_matrix.so")
	s := &sshServer{dir: t.TempDir()}
	s.rules = filepath.Join(s.dir, "rules.conf")
	s.key = filepath.Join(s.dir, "clientkey")
	must(t, os.WriteFile(s.rules, []byte("DEFAULT:CLOSE\n"), 0o644))
	for _, k := range []string{"hostkey", "clientkey"} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(s.dir, k)).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(s.key + ".pub")
	must(t, err)
	must(t, os.WriteFile(filepath.Join(s.dir, "authorized_keys"), pub, 0o600))
	must(t, os.WriteFile(filepath.Join(s.dir, "passdb"), []byte("root:secret:sshd\nops:secret:sshd\n"), 0o600))

	svc := filepath.Join(s.dir, "svc")
	must(t, os.Mkdir(svc, 0o755))
	stack := &pamStack{dir: s.dir, rules: s.rules}
	line := stack.moduleLine(moduleOpts...)
	if setup.stack == nil {
		setup.stack = func(s *sshServer, line string) string {
			return fmt.Sprintf("auth required %s passdb=%s\nauth required %s\naccount required %s\nsession required %s\n",
				matrix, filepath.Join(s.dir, "passdb"), line, line, line)
		}
	}
	must(t, os.WriteFile(filepath.Join(svc, "sshd"), []byte(setup.stack(s, line)), 0o644))
	if setup.command == "" {
		setup.command = "echo SESSION-OK"
	}

	s.port = freePort(t)
	config := filepath.Join(s.dir, "sshd_config")
	must(t, os.WriteFile(config, []byte(fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/hostkey
PidFile %[2]s/sshd.pid
AuthorizedKeysFile %[2]s/authorized_keys
UsePAM yes
PermitRootLogin yes
KbdInteractiveAuthentication yes
PasswordAuthentication yes
PubkeyAuthentication yes
StrictModes no
ForceCommand %[3]s
LoginGraceTime 30
MaxAuthTries 3
UseDNS no
LogLevel DEBUG1
`, s.port, s.dir, setup.command)), 0o644))
	must(t, os.MkdirAll("/run/sshd", 0o755)) // sshd's privilege separation directory

	logf, err := os.Create(filepath.Join(s.dir, "sshd.log"))
	must(t, err)
	argv := append(append([]string(nil), setup.prefix...), "/usr/sbin/sshd", "-D", "-e", "-f", config)
	cmd := command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+testenv.Library(t, "libpam_wrapper.so"),
		"PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+svc, "PAM_WRAPPER_USE_SYSLOG=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	t.Cleanup(func() {
		killTree(cmd.Process.Pid)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("sshd log:\n%s", log)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.port))
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd did not listen on port %d", s.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *sshServer) setRules(t *testing.T, rules string) {
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))
}

// login runs a real ssh client with one authentication method:
// "keyboard-interactive" or "password" (answered by sshpass) or
// "publickey". It reports whether the session ran, and the client's
// output. A client that does not finish in 30 s fails the test: sshd hung.
func (s *sshServer) login(t *testing.T, method string) (bool, string) {
	t.Helper()
	args := []string{"-p", fmt.Sprint(s.port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
		"-o", "PreferredAuthentications=" + method}
	name := "sshpass"
	if method == "publickey" {
		name = "ssh"
		args = append(args, "-i", s.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes")
	} else {
		args = append([]string{"-p", "secret", "ssh", "-o", "PubkeyAuthentication=no"}, args...)
	}
	args = append(args, "root@127.0.0.1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("ssh %s: no answer in 30 s: sshd hung\n%s", method, out.String())
	}
	return err == nil && strings.Contains(out.String(), "SESSION-OK"), out.String()
}

// TestSSHD: a real sshd and a real ssh client, with password,
// keyboard-interactive and public key logins let in or refused as the
// rules say, SSHD rules for PAM-authenticated logins and SSHD-KEY rules
// for key logins.
func TestSSHD(t *testing.T) {
	s := startSSHD(t)
	tests := []struct {
		rules  string
		method string
		in     bool
	}{
		{"SSHD OPEN USER root\n", "keyboard-interactive", true},
		{"SSHD OPEN USER root\n", "password", true},
		{"SSHD OPEN USER root\n", "publickey", false}, // SSHD rules are not for key logins
		{"SSHD-KEY OPEN USER root\n", "publickey", true},
		{"SSHD-KEY OPEN USER root\n", "keyboard-interactive", false},
		{"SSHD-KEY OPEN USER root\n", "password", false},
		{"SSH OPEN GROUP ALL\nSSHD CLOSE USER root\n", "keyboard-interactive", false},
		{"SSH OPEN GROUP ALL\nSSHD CLOSE USER root\n", "publickey", true},
		{"SSH OPEN GROUP ALL\nSSHD CLOSE HOST 127.0.0.0/8\n", "password", false},
		{"SSH OPEN GROUP ALL\nSSHD-KEY CLOSE HOST LOCAL,127.0.0.1\n", "publickey", false},
		{"DEFAULT:OPEN\n", "keyboard-interactive", true},
	}
	for _, tt := range tests {
		name := strings.ReplaceAll(strings.TrimSpace(tt.rules), "\n", "; ") + " / " + tt.method
		t.Run(name, func(t *testing.T) {
			s.setRules(t, tt.rules)
			mark := sink.Mark()
			in, out := s.login(t, tt.method)
			if in != tt.in {
				t.Fatalf("logged in: %v, want %v\nclient:\n%s\nsyslog:\n%s", in, tt.in, out, strings.Join(sink.Since(mark), "\n"))
			}
			decisions := grep(sink.Since(mark), "pam-accesscontrol[", `for "root" from "127.0.0.1"`)
			if len(decisions) != 1 {
				t.Errorf("want one decision line per login, got %d:\n%s", len(decisions), strings.Join(decisions, "\n"))
			}
		})
	}
}

// TestSSHDHelperFailure: a helper that hangs costs the login, within the
// module's timeout, and sshd goes on serving the next login.
func TestSSHDHelperFailure(t *testing.T) {
	dir := t.TempDir()
	hang := fakeHelper(t, dir, "exec sleep 600")
	s := startSSHD(t, "helper="+hang, "timeout=3")
	start := time.Now()
	if in, out := s.login(t, "keyboard-interactive"); in {
		t.Fatalf("a hanging helper let the login in:\n%s", out)
	}
	if d := time.Since(start); d > 25*time.Second {
		t.Errorf("refusal took %v", d)
	}
	if in, out := s.login(t, "publickey"); in {
		t.Fatalf("a hanging helper let the key login in:\n%s", out)
	}
}

// TestSSHDAsk: a real sshd login under an ASK rule waits for the desktop
// owner (a notifier serving a stand-in prompter), and the owner is told
// when the approved session ends.
func TestSSHDAsk(t *testing.T) {
	testenv.Root(t)
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		testenv.Missing(t, "dbus-daemon")
	}
	bus, err := testbus.StartBus()
	must(t, err)
	t.Cleanup(bus.Stop)
	fake, err := logindtest.New(bus.Address)
	must(t, err)
	t.Cleanup(fake.Close)
	must(t, fake.Add(logindtest.Session{ID: "2", UID: 0, User: "root", Type: "x11", Class: "user", State: "active", Seat: "seat0"}))
	fake.Activate("2")
	fake.SetPIDSession(uint32(os.Getpid()), "2") // the notifier below runs in this process
	p := &prompter{answer: dbusapi.Allow}
	conn, err := dbus.Connect(bus.Address)
	must(t, err)
	t.Cleanup(func() { conn.Close() })
	must(t, dbusapi.Serve(conn, 0, p))

	dir := t.TempDir()
	s := startSSHD(t, "helper="+wrappedHelper(t, dir, []string{"DBUS_SYSTEM_BUS_ADDRESS=" + bus.Address}))
	s.setRules(t, "SSH ASK USER root\nASK_TIMEOUT:5\n")
	for _, method := range []string{"publickey", "keyboard-interactive"} {
		if in, out := s.login(t, method); !in {
			t.Fatalf("%s: allowed by the owner, yet refused:\n%s", method, out)
		}
	}
	asked, told := p.counts()
	if asked != 2 {
		t.Errorf("asked %d times, want 2 (each login's session had ended before the next)", asked)
	}
	for i := 0; told != 2 && i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		_, told = p.counts()
	}
	if told != 2 {
		t.Errorf("told of %d logouts, want 2", told)
	}
	p.set(dbusapi.Deny)
	if in, out := s.login(t, "publickey"); in {
		t.Fatalf("denied by the owner, yet let in:\n%s", out)
	}
}

// loginKbdint logs in by keyboard-interactive on a pty
// (testdata/ssh_kbdint.py), answering each PROMPT with its ANSWER, within
// 60 s; it reports whether the session ran, and the client's output.
func (s *sshServer) loginKbdint(t *testing.T, promptAnswers ...string) (bool, string) {
	t.Helper()
	return s.loginKbdintAs(t, "root", promptAnswers...)
}

// loginKbdintAs is loginKbdint as another user.
func (s *sshServer) loginKbdintAs(t *testing.T, user string, promptAnswers ...string) (bool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", append([]string{"testdata/ssh_kbdint.py", fmt.Sprint(s.port)}, promptAnswers...)...)
	cmd.Env = append(os.Environ(), "KBDINT_USER="+user)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("keyboard-interactive login: no end in 60 s: sshd hung\n%s", out)
	}
	return err == nil && strings.Contains(string(out), "SESSION-OK"), string(out)
}

// TestSSHDPython: a real sshd runs a pam_python script in the real Python
// (interpreter=) that asks two questions in pam_sm_authenticate, in sshd's
// forked keyboard-interactive child, and lets pam_sm_open_session, in
// sshd's parent, open the session only for the user who answered both:
// one module instance serves both processes, as pam_python's does. The
// session's PAM environment reaches the forced command. A wrong second
// answer is refused. Each login's Python ends with it (at pam_end, or once
// sshd's processes of the login are gone).
func TestSSHDPython(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3")
	}
	python, err = filepath.EvalSymlinks(python)
	must(t, err)
	var script string
	s := startSSHDWith(t, sshdSetup{
		stack: func(s *sshServer, line string) string {
			data, err := os.ReadFile("testdata/python/sshd_two_prompts.py")
			must(t, err)
			script = filepath.Join(s.dir, "sshd_two_prompts.py")
			must(t, os.WriteFile(script, data, 0o644))
			line += " " + script + " alpha omega"
			return "auth required " + line + "\naccount required " + line + "\nsession required " + line + "\n"
		},
		command: `echo SESSION-OK "state=$TWO_PROMPTS"`,
	}, "interpreter="+python, "timeout=20")

	// noPython waits for every Python of this sshd's logins to end.
	noPython := func(t *testing.T) {
		t.Helper()
		for i := 0; ; i++ {
			out, err := exec.Command("pgrep", "-f", filepath.Join(s.dir, "run")).Output()
			if err != nil || len(out) == 0 {
				return
			}
			if i == 150 {
				t.Errorf("a login's Python is left running: %s", out)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	t.Run("right answers", func(t *testing.T) {
		mark := sink.Mark()
		in, out := s.loginKbdint(t, "First word:", "alpha", "Second word:", "omega")
		lines := sink.Since(mark)
		if !in {
			t.Fatalf("the right answers were refused:\n%s\nsyslog:\n%s", out, strings.Join(lines, "\n"))
		}
		if !strings.Contains(out, "First word: ") || !strings.Contains(out, "Second word: ") {
			t.Errorf("the client was not asked both questions:\n%s", out)
		}
		// setcred and open_session ran in sshd's parent with the child's
		// state, and the session's PAM environment reached the command
		if !strings.Contains(out, "SESSION-OK state=root:auth+account+setcred+open_session") {
			t.Errorf("the session did not see the authentication's state:\n%s", out)
		}
		if len(grep(lines, "sshd-two-prompts: session opened, passed=root calls=auth,account,setcred,open_session")) != 1 {
			t.Errorf("syslog:\n%s", strings.Join(lines, "\n"))
		}
		noPython(t)
	})

	t.Run("wrong second answer", func(t *testing.T) {
		mark := sink.Mark()
		in, out := s.loginKbdint(t, "First word:", "alpha", "Second word:", "delta")
		lines := sink.Since(mark)
		if in {
			t.Fatalf("a wrong second answer got in:\n%s", out)
		}
		if !strings.Contains(out, "Second word: ") || !strings.Contains(out, "Permission denied") {
			t.Errorf("client:\n%s", out)
		}
		if len(grep(lines, "sshd-two-prompts: wrong answers for root")) != 1 {
			t.Errorf("syslog:\n%s", strings.Join(lines, "\n"))
		}
		if l := grep(lines, "session opened"); len(l) != 0 {
			t.Errorf("a session was opened: %q", l)
		}
		noPython(t)
	})
}
