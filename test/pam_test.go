package test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// pamStack is a private PAM configuration directory for pam_wrapper,
// holding service files that use the built module by absolute path.
type pamStack struct {
	dir   string // the rules file, the run and log directories
	svc   string // PAM_WRAPPER_SERVICE_DIR
	rules string
}

// newPAMStack writes rules and a service "sshd" (and "login") with the
// module in auth, account and session, and in password before pam_permit.
func newPAMStack(t *testing.T, rules string, opts ...string) *pamStack {
	t.Helper()
	testenv.Root(t)
	dir := t.TempDir()
	s := &pamStack{dir: dir, svc: filepath.Join(dir, "svc"), rules: filepath.Join(dir, "rules.conf")}
	must(t, os.Mkdir(s.svc, 0o755))
	must(t, os.WriteFile(s.rules, []byte(rules), 0o644))
	line := s.moduleLine(opts...)
	stack := fmt.Sprintf("auth required %[1]s\naccount required %[1]s\nsession required %[1]s\n"+
		"password required %[1]s\npassword required pam_permit.so\n", line)
	for _, name := range []string{"sshd", "login", "sddm"} {
		s.service(t, name, stack)
	}
	s.service(t, "other", "auth required pam_deny.so\naccount required pam_deny.so\n"+
		"session required pam_deny.so\npassword required pam_deny.so\n")
	return s
}

// moduleLine is the module and its options; helper= and conf= unless opts
// give their own.
func (s *pamStack) moduleLine(opts ...string) string {
	all := []string{shim}
	joined := strings.Join(opts, " ")
	if !strings.Contains(joined, "helper=") {
		all = append(all, "helper="+helper)
	}
	if !strings.Contains(joined, "conf=") {
		all = append(all, "conf="+s.rules)
	}
	if !strings.Contains(joined, "socket=") {
		all = append(all, "socket=none") // never a daemon of the machine's
	}
	all = append(all, "rundir="+filepath.Join(s.dir, "run"), "spooldir="+filepath.Join(s.dir, "spool"), "logdir="+s.dir)
	return strings.Join(append(all, opts...), " ")
}

func (s *pamStack) service(t *testing.T, name, text string) {
	must(t, os.WriteFile(filepath.Join(s.svc, name), []byte(text), 0o644))
}

// pamtester runs one real PAM transaction through libpam and pam_wrapper.
// It returns pamtester's output (with the module's messages) and exit
// status. items are pamtester -I arguments, like rhost=10.0.0.1.
func (s *pamStack) pamtester(t *testing.T, items []string, service, user string, ops ...string) (string, int) {
	t.Helper()
	return s.pamtesterTyping(t, nil, items, service, user, ops...)
}

// pamtesterTyping is pamtester with what the user types at the prompts
// coming from stdin.
func (s *pamStack) pamtesterTyping(t *testing.T, stdin io.Reader, items []string, service, user string, ops ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath("pamtester"); err != nil {
		testenv.Missing(t, "pamtester")
	}
	var args []string
	for _, it := range items {
		args = append(args, "-I", it)
	}
	args = append(append(args, "-v", service, user), ops...)
	cmd := command("pamtester", args...)
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libPAMWrapper(t),
		"PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc, "PAM_WRAPPER_USE_SYSLOG=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &out, stdin
	done := make(chan error, 1)
	must(t, cmd.Start())
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), exitStatus(t, err)
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("pamtester %v hung:\n%s", ops, out.String())
		return "", -1
	}
}

func libPAMWrapper(t *testing.T) string { return testenv.Library(t, "libpam_wrapper.so") }

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const pamRules = `DEFAULT:CLOSE
SSHD     OPEN  USER alice,carol
SSHD-KEY OPEN  USER kate,carol
SSHD     CLOSE USER bob
SSHD     CLOSE HOST 10.66.0.0/16
TTY      OPEN  GROUP ALL
SDDM     ASK   USER alice
`

// TestPAMDecisions: the real module in a real libpam transaction decides
// as the rules say, in every phase, telling SSHD from SSHD-KEY.
func TestPAMDecisions(t *testing.T) {
	s := newPAMStack(t, pamRules)
	const denied = "Access denied by pam-accesscontrol."
	tests := []struct {
		name    string
		items   []string
		service string
		user    string
		ops     []string
		code    int
		want    []string // in pamtester's output
		notWant []string
	}{
		{"password login, all phases", nil, "sshd", "alice",
			[]string{"authenticate", "acct_mgmt", "open_session", "close_session"}, 0,
			[]string{"successfully authenticated", "account management done", "session has successfully been closed"}, []string{denied}},
		{"password login refused in auth", nil, "sshd", "bob", []string{"authenticate", "acct_mgmt"}, 1,
			[]string{denied, "Authentication failure"}, []string{"account management done"}},
		{"key login: SSHD rules do not apply", nil, "sshd", "alice", []string{"acct_mgmt", "open_session"}, 1,
			[]string{denied, "Permission denied"}, nil},
		{"key login by a SSHD-KEY user", nil, "sshd", "kate", []string{"acct_mgmt", "open_session", "close_session"}, 0,
			[]string{"account management done", "successfully opened a session"}, []string{denied}},
		{"key login decided in session when account does not run", nil, "sshd", "kate", []string{"open_session"}, 0,
			[]string{"successfully opened a session"}, nil},
		{"password login by a SSHD-KEY user", nil, "sshd", "kate", []string{"authenticate"}, 1,
			[]string{denied, "Authentication failure"}, nil},
		{"PAM_SILENT: no message", nil, "sshd", "bob", []string{"authenticate(PAM_SILENT)"}, 1,
			[]string{"Authentication failure"}, []string{denied}},
		{"HOST rule on PAM_RHOST", []string{"rhost=10.66.1.2"}, "sshd", "alice", []string{"authenticate"}, 1,
			[]string{denied}, nil},
		{"HOST rule, other host", []string{"rhost=192.0.2.1"}, "sshd", "alice", []string{"authenticate"}, 0,
			[]string{"successfully authenticated"}, nil},
		{"user names are case-sensitive", nil, "sshd", "Alice", []string{"authenticate"}, 1, []string{denied}, nil},
		{"console: TTY OPEN GROUP ALL", nil, "login", "anyone", []string{"authenticate", "acct_mgmt", "open_session"}, 0,
			[]string{"successfully opened a session"}, nil},
		{"ASK outside SSH is CLOSE", nil, "sddm", "alice", []string{"authenticate"}, 1, []string{denied}, nil},
		{"password change is not ours to decide (PAM_IGNORE)", nil, "sshd", "bob", []string{"chauthtok"}, 0,
			[]string{"authentication token altered successfully"}, []string{denied}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := s.pamtester(t, tt.items, tt.service, tt.user, tt.ops...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestPAMLogs: one syslog line per decision, with the deciding rule's
// file:line and escaped user strings, and the monthly log line.
func TestPAMLogs(t *testing.T) {
	s := newPAMStack(t, pamRules)
	mark := sink.Mark()
	s.pamtester(t, []string{"rhost=10.66.1.2"}, "sshd", "alice", "authenticate", "acct_mgmt")
	lines := grep(sink.Since(mark), "pam-accesscontrol[")
	if len(lines) != 1 {
		t.Fatalf("%d helper lines, want exactly 1 for a decision refused in auth:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	want := regexp.MustCompile(regexp.QuoteMeta(`auth: CLOSE for "alice" from "10.66.1.2" (service "sshd", auth password, login `) +
		`[0-9a-f]{16}` + regexp.QuoteMeta(fmt.Sprintf(`) by %s:5: CLOSE rule`, s.rules)))
	if !want.MatchString(lines[0]) || !strings.HasPrefix(lines[0], "<86>") {
		t.Errorf("log line %q\nwant AUTHPRIV info matching %s", lines[0], want)
	}

	mark = sink.Mark()
	s.pamtester(t, nil, "sshd", "evil\nuser", "acct_mgmt")
	lines = grep(sink.Since(mark), "pam-accesscontrol[")
	if len(lines) != 1 || !strings.Contains(lines[0], `"evil\nuser"`) || strings.Contains(lines[0], "evil\nuser") {
		t.Errorf("a user name with a newline must be escaped on one line: %q", lines)
	}

	month, err := os.ReadFile(filepath.Join(s.dir, "pam-accesscontrol-"+time.Now().Format("2006-01")+".log"))
	must(t, err)
	if !strings.Contains(string(month), "alice@10.66.1.2") || !strings.Contains(string(month), "access denied") {
		t.Errorf("monthly log:\n%s", month)
	}
}

// TestPAMReuse: the earliest phase decides and the later ones reuse it,
// with DEBUG:TRUE logging the trace and the reuse.
func TestPAMReuse(t *testing.T) {
	s := newPAMStack(t, "DEBUG:TRUE\n"+pamRules)
	mark := sink.Mark()
	out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	lines := sink.Since(mark)
	if n := len(grep(lines, "pam-accesscontrol[", ": OPEN for")); n != 1 {
		t.Errorf("%d decision lines, want 1:\n%s", n, strings.Join(lines, "\n"))
	}
	if n := len(grep(lines, "reusing the decision OPEN")); n != 2 {
		t.Errorf("%d reuse lines, want 2 (account, session):\n%s", n, strings.Join(lines, "\n"))
	}
	if n := len(grep(lines, "trace:", "SSHD OPEN USER alice,carol: applies")); n != 1 {
		t.Errorf("DEBUG:TRUE trace missing:\n%s", strings.Join(lines, "\n"))
	}
	if entries, _ := os.ReadDir(filepath.Join(s.dir, "run", "decisions")); len(grep(names(entries), fmt.Sprint(os.Getpid()))) != 0 {
		t.Errorf("records left behind under the test's pid: %v", names(entries))
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestPAMGroupsThroughNSS: GROUP rules see the groups NSS gives, primary
// group included. The helper runs with nss_wrapper through a wrapper
// script, since the module gives it a fixed environment.
func TestPAMGroupsThroughNSS(t *testing.T) {
	s := newPAMStack(t, "SSHD OPEN GROUP admins\nSSHD OPEN GROUP users\nSSHD CLOSE GROUP lp\n")
	env := testenv.NSSWrapperEnv(t, "../examples/demo/passwd", "../examples/demo/group")
	wrapped := filepath.Join(s.dir, "helper-nss")
	must(t, os.WriteFile(wrapped, []byte("#!/bin/sh\nexec env "+strings.Join(env, " ")+" "+helper+"\n"), 0o755))
	line := s.moduleLine("helper=" + wrapped)
	s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\n")
	for _, tt := range []struct {
		user string
		code int
	}{
		{"alice", 0}, // admins
		{"bob", 0},   // users, as his primary group only
		{"carol", 1}, // lp: CLOSE beats OPEN for users
		{"dave", 1},  // no group: DEFAULT
		{"nobody-at-all", 1},
	} {
		out, code := s.pamtester(t, nil, "sshd", tt.user, "authenticate", "acct_mgmt")
		if code != tt.code {
			t.Errorf("%s: exit %d, want %d\n%s", tt.user, code, tt.code, out)
		}
	}
}
