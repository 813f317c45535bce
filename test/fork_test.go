package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// forkDriver builds forkdriver/forkdriver.c once.
func forkDriver(t *testing.T) string {
	return buildOnce(t, "forkdriver", "cc", "-Wall", "-Werror", "-o", "OUT", "forkdriver/forkdriver.c", "-lpam")
}

// buildOnce runs a build command (OUT in it stands for the output path)
// the first time a test needs the program, and returns the program's path.
func buildOnce(t *testing.T, name string, command ...string) string {
	t.Helper()
	path := filepath.Join(buildDir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	for i, a := range command {
		if a == "OUT" {
			command[i] = path
		}
	}
	out, err := exec.Command(command[0], command[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("building %s: %v\n%s", name, err, out)
	}
	return path
}

// TestForkPatterns: hosts that fork between PAM calls (sshd keyboard-
// interactive, sshd's session child, xrdp) finish, never hang, and the
// session in the parent reuses the decision the child made: without the
// reuse, the parent would see a login without PAM authentication (an
// SSHD-KEY login) and refuse it. The one decision is made once: a plugin
// that asks for a second factor asks once per login, not again for the
// session in the other process. (Siblings that share a parent must never
// reuse each other's decisions: siblings_test.go.)
func TestForkPatterns(t *testing.T) {
	s := newPAMStack(t, "DEBUG:TRUE\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\nSSHD otp USER carol\n")
	writeOTPPlugin(t, s)
	tests := []struct {
		pattern, user string
		want          []string // step lines, in order
		reused        int      // "reusing the decision" log lines
	}{
		{"sshd-kbdint", "alice", []string{"child-authenticate 0", "child-account 0", "open_session 0",
			"child-setcred 0", "close_session 0", "done"}, 2}, // account in the child, the session in the parent
		{"sshd-kbdint", "bob", []string{"conv 3 Access denied by pam-accesscontrol.", "child-authenticate 7", "child-account 7", "done"}, 0},
		{"xrdp", "alice", []string{"authenticate 0", "child-open_session 0", "done"}, 1},
		{"end-in-child", "alice", []string{"child-end 0", "done"}, 0},
		// the plugin asks in the child's auth; the child's account and the
		// parent's session reuse its answer without asking again
		{"sshd-kbdint", "carol", []string{otpPrompt, "child-authenticate 0", "child-account 0", "open_session 0",
			"child-setcred 0", "close_session 0", "done"}, 2},
		// the plugin asks in the parent's auth; the child's session reuses it
		{"xrdp", "carol", []string{otpPrompt, "authenticate 0", "child-open_session 0", "done"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"/"+tt.user, func(t *testing.T) {
			mark := sink.Mark()
			out, got := runForkDriver(t, s, nil, tt.user, tt.pattern)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("steps:\n%s\nwant:\n%s\nsyslog %q", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), sink.Since(mark))
			}
			if n := strings.Count(out, otpPrompt); n > 1 {
				t.Errorf("the plugin asked %d times in one login:\n%s", n, out)
			}
			if n := len(grep(sink.Since(mark), "reusing the decision")); n != tt.reused {
				t.Errorf("%d reuses logged, want %d", n, tt.reused)
			}
		})
	}
}

// runForkDriver runs forkdriver on the stack's sshd service for user with
// args (the pattern and its answers), stdin, if not nil, being what the
// user types. It returns the output and its lines with pam_strerror's
// words dropped ("STEP CODE"), the pids of "-start" lines dropped, and
// conversation lines ("conv STYLE TEXT") whole but for trailing blanks.
// The run must finish within 30 s, with exit status 0.
func runForkDriver(t *testing.T, s *pamStack, stdin *os.File, user string, args ...string) (string, []string) {
	t.Helper()
	driver := forkDriver(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	all := append(append(sink.Wrap(), driver, s.svc, "sshd", user), args...)
	cmd := exec.CommandContext(ctx, all[0], all[1:]...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	outb, err := cmd.CombinedOutput()
	out := string(outb)
	if ctx.Err() != nil {
		t.Fatalf("hung:\n%s", out)
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(l)
		switch {
		case len(f) >= 1 && strings.HasSuffix(f[0], "-start"):
			l = f[0]
		case len(f) >= 2 && f[0] != "conv":
			l = f[0] + " " + f[1]
		default:
			l = strings.TrimRight(l, " \t")
		}
		got = append(got, l)
	}
	return out, got
}
