package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// authLayouts are the auth stacks pam-configure writes the module into:
// after a "required" password module (openSUSE), after a substack
// (Fedora, RHEL: password-auth), and after Debian's common-auth, where a
// wrong password ends the stack before the module.
var authLayouts = map[string]func(t *testing.T, s *sshServer, matrix, line string) string{
	"openSUSE": func(t *testing.T, s *sshServer, matrix, line string) string {
		return fmt.Sprintf("auth required %s passdb=%s\nauth required %s\n", matrix, filepath.Join(s.dir, "passdb"), line)
	},
	"Fedora": func(t *testing.T, s *sshServer, matrix, line string) string {
		sub := filepath.Join(s.dir, "svc", "password-auth")
		must(t, os.WriteFile(sub, []byte(fmt.Sprintf("auth required %s passdb=%s\n", matrix, filepath.Join(s.dir, "passdb"))), 0o644))
		return fmt.Sprintf("auth substack %s\nauth required %s\n", sub, line)
	},
	"Debian": func(t *testing.T, s *sshServer, matrix, line string) string {
		return fmt.Sprintf("auth [success=1 default=ignore] %s passdb=%s\nauth requisite pam_deny.so\nauth required pam_permit.so\nauth required %s\n",
			matrix, filepath.Join(s.dir, "passdb"), line)
	},
}

// TestSSHDWrongPasswordThenKey plays the client that sends a wrong
// password (or keyboard-interactive answer) and then its key on one
// connection, through a real sshd and ssh client, on each auth layout,
// with the helper run per call and with the daemon. The key login is
// decided as a key login (SSHD-KEY rules), whatever our auth line decided
// while the wrong password was checked; the plain logins are unchanged.
func TestSSHDWrongPasswordThenKey(t *testing.T) {
	const (
		passwordRules = "DEFAULT:CLOSE\nSSHD OPEN USER root\nSSHD-KEY CLOSE USER root\n"
		keyRules      = "DEFAULT:CLOSE\nSSHD CLOSE USER root\nSSHD-KEY OPEN USER root\n"
	)
	matrix := testenv.Library(t, "pam_wrapper/pam_matrix.so")
	for _, layout := range []string{"openSUSE", "Fedora", "Debian"} {
		for _, daemon := range []bool{false, true} {
			name := layout + "/helper"
			if daemon {
				name = layout + "/daemon"
			}
			t.Run(name, func(t *testing.T) {
				var opts []string
				if daemon {
					dir := t.TempDir()
					socket, _ := startDaemon(t, dir)
					opts = []string{"socket=" + socket, "helper=/nonexistent/helper"}
				}
				s := startSSHDWith(t, sshdSetup{stack: func(s *sshServer, line string) string {
					return authLayouts[layout](t, s, matrix, line) +
						fmt.Sprintf("account required %s\nsession required %s\n", line, line)
				}}, opts...)
				for _, tt := range []struct {
					rules, how string
					in         bool
				}{
					{passwordRules, "wrong password, then key", false},
					{keyRules, "wrong password, then key", true},
					{passwordRules, "wrong keyboard-interactive, then key", false},
					{keyRules, "wrong keyboard-interactive, then key", true},
					{passwordRules, "password", true},
					{keyRules, "password", false},
					{passwordRules, "keyboard-interactive", true},
					{keyRules, "keyboard-interactive", false},
					{passwordRules, "publickey", false},
					{keyRules, "publickey", true},
				} {
					s.setRules(t, tt.rules)
					mark := sink.Mark()
					var in bool
					var out string
					switch tt.how {
					case "wrong password, then key":
						in, out = s.loginWrongThenKey(t, "password")
					case "wrong keyboard-interactive, then key":
						in, out = s.loginWrongThenKey(t, "keyboard-interactive")
					default:
						in, out = s.login(t, tt.how)
					}
					if in != tt.in {
						open := "SSHD-KEY OPEN"
						if tt.rules == passwordRules {
							open = "SSHD OPEN"
						}
						t.Errorf("%s with %s: logged in %v, want %v\nclient:\n%s\nsyslog:\n%s", tt.how, open, in, tt.in, out,
							strings.Join(grep(sink.Since(mark), "pam-accesscontrol"), "\n"))
					}
				}
			})
		}
	}
}

// loginWrongThenKey sends a wrong password by method ("password" or
// "keyboard-interactive"), then offers the client's key, on one
// connection. It reports whether the session ran.
func (s *sshServer) loginWrongThenKey(t *testing.T, method string) (bool, string) {
	t.Helper()
	args := []string{"-p", "wrong", "ssh", "-p", fmt.Sprint(s.port), "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
		"-o", "NumberOfPasswordPrompts=1", "-o", "PreferredAuthentications=" + method + ",publickey",
		"-i", s.key, "-o", "IdentitiesOnly=yes", "root@127.0.0.1"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sshpass", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("wrong %s, then key: no answer in 30 s: sshd hung\n%s", method, out.String())
	}
	return err == nil && strings.Contains(out.String(), "SESSION-OK"), out.String()
}
