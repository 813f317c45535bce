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
	must(t, os.WriteFile(filepath.Join(s.dir, "passdb"), []byte("root:secret:sshd\n"), 0o600))

	svc := filepath.Join(s.dir, "svc")
	must(t, os.Mkdir(svc, 0o755))
	stack := &pamStack{dir: s.dir, rules: s.rules}
	line := stack.moduleLine(moduleOpts...)
	must(t, os.WriteFile(filepath.Join(svc, "sshd"), []byte(fmt.Sprintf(
		"auth required %s passdb=%s\nauth required %s\naccount required %s\nsession required %s\n",
		matrix, filepath.Join(s.dir, "passdb"), line, line, line)), 0o644))

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
ForceCommand echo SESSION-OK
LoginGraceTime 30
MaxAuthTries 3
UseDNS no
LogLevel DEBUG1
`, s.port, s.dir)), 0o644))
	must(t, os.MkdirAll("/run/sshd", 0o755)) // sshd's privilege separation directory

	logf, err := os.Create(filepath.Join(s.dir, "sshd.log"))
	must(t, err)
	cmd := command("/usr/sbin/sshd", "-D", "-e", "-f", config)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+testenv.Library(t, "libpam_wrapper.so"),
		"PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+svc, "PAM_WRAPPER_USE_SYSLOG=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
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
