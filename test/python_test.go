package test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// pythonStack is a PAM stack whose every line runs a script in the real
// Python (interpreter=), with the given module options.
func pythonStack(t *testing.T, script string, opts []string, args ...string) *pamStack {
	t.Helper()
	// Debian's, not whatever python3 comes first in PATH (a pyenv shim
	// is a shell script that changes the environment)
	python, err := filepath.EvalSymlinks(debianPython)
	if err != nil {
		testenv.Missing(t, debianPython+" (Debian package python3)")
	}
	s := newPAMStack(t, "")
	data, err := os.ReadFile(script)
	must(t, err)
	path := filepath.Join(s.dir, filepath.Base(script))
	must(t, os.WriteFile(path, data, 0o644))
	line := s.moduleLine(append([]string{"interpreter=" + python}, opts...)...) + " " + strings.Join(append([]string{path}, args...), " ")
	stack := ""
	for _, typ := range []string{"auth", "account", "session", "password"} {
		stack += typ + " required " + line + "\n"
	}
	s.service(t, "sshd", stack)
	return s
}

// TestPythonScript: a script only a real Python runs, through the module
// and libpam: a two-prompt conversation, module state across the login's
// calls (and none across logins), the PAM environment, print to syslog,
// pam_sm_end at pam_end, a traceback and a fork.
func TestPythonScript(t *testing.T) {
	s := pythonStack(t, "testdata/python/state.py", nil, "1234", "x y")
	mark := sink.Mark()
	out, code := s.pamtesterTyping(t, strings.NewReader("Alice A.\n1234\n"), []string{"rhost=192.0.2.5"}, "sshd", "alice",
		"authenticate", "acct_mgmt", "open_session", "setcred")
	lines := sink.Since(mark)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, strings.Join(lines, "\n"))
	}
	if !strings.Contains(out, "Name: ") || !strings.Contains(out, "Code: ") {
		t.Errorf("the prompts did not reach the application:\n%s", out)
	}
	want := `state ["auth", "account", "open_session"] user=alice rhost=192.0.2.5 name=Alice A. host=True argv=['1234', 'x', 'y']`
	if len(grep(lines, want)) != 1 {
		t.Errorf("no line %q:\n%s", want, strings.Join(lines, "\n"))
	}
	if len(grep(lines, `pam_sm_end after ["auth", "account", "open_session", "setcred"]`)) != 1 {
		t.Errorf("pam_sm_end did not run once, last:\n%s", strings.Join(lines, "\n"))
	}
	// print goes to syslog as AUTHPRIV info, standard error as AUTHPRIV
	// err, both under the tag pam-accesscontrol-python
	for _, w := range []struct{ pri, text string }{{"<86>", "setcred state"}, {"<83>", "setcred on stderr"}} {
		if l := grep(lines, w.text); len(l) != 1 || !strings.HasPrefix(l[0], w.pri) || !strings.Contains(l[0], " pam-accesscontrol-python[") {
			t.Errorf("%q: %q, want one line %s with the tag pam-accesscontrol-python", w.text, l, w.pri)
		}
	}

	// a wrong code: refused, and told
	out, code = s.pamtesterTyping(t, strings.NewReader("bob\n0000\n"), nil, "sshd", "alice", "authenticate")
	if code == 0 || !strings.Contains(out, "wrong code for alice") {
		t.Errorf("a wrong code: exit %d\n%s", code, out)
	}
	// a new handle starts with fresh module state
	if out, code := s.pamtester(t, nil, "sshd", "alice", "acct_mgmt"); code == 0 {
		t.Errorf("module state leaked into another login:\n%s", out)
	}
	// a traceback: refused with one line naming the script, the line and the exception
	mark = sink.Mark()
	out, code = s.pamtesterTyping(t, strings.NewReader("a\n1234\n"), nil, "sshd", "alice", "authenticate", "close_session")
	if code == 0 {
		t.Errorf("an exception let the call succeed:\n%s", out)
	}
	if l := grep(sink.Since(mark), "state.py", "line 47", "ValueError: boom in close_session", "returning 3"); len(l) != 1 {
		t.Errorf("want one line with the script, line and exception: %q", sink.Since(mark))
	}
}

// TestPythonHangs: the module's timeout ends a script that hangs; the
// login is refused and its Python is gone.
func TestPythonHangs(t *testing.T) {
	s := pythonStack(t, "testdata/python/state.py", []string{"timeout=3"}, "1234")
	mark := sink.Mark()
	out, code := s.pamtesterTyping(t, strings.NewReader("a\n1234\n"), nil, "sshd", "alice", "authenticate", "chauthtok")
	if code == 0 {
		t.Fatalf("a hanging script let the call succeed:\n%s", out)
	}
	if len(grep(sink.Since(mark), "state.py", "no answer within the module's timeout")) != 1 {
		t.Errorf("log: %q", sink.Since(mark))
	}
	// its Python was killed: none is left with this stack's run directory
	if out, err := exec.Command("pgrep", "-f", filepath.Join(s.dir, "run")).Output(); err == nil && len(out) > 0 {
		t.Errorf("a Python is left running: %s", out)
	}
}

// TestPythonAcrossSSHDFork: sshd's keyboard-interactive child
// authenticates, its parent opens the session: one module instance for
// both, as under pam_python.
func TestPythonAcrossSSHDFork(t *testing.T) {
	s := pythonStack(t, "testdata/python/state.py", nil, "secret")
	driver := forkDriver(t)
	mark := sink.Mark()
	out, err := command(driver, s.svc, "sshd", "alice", "sshd-kbdint").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, step := range []string{"child-authenticate 0", "child-account 0", "open_session 0"} {
		if !strings.Contains(string(out), step) {
			t.Errorf("no step %q:\n%s", step, out)
		}
	}
	lines := sink.Since(mark)
	if len(grep(lines, `state ["auth", "account", "open_session"]`)) != 1 {
		t.Errorf("the session did not see the child's state: %q", lines)
	}
	// setcred runs in a child the parent forks after the session (the
	// shell, as sshd does for root): the same interpreter serves it, and
	// the parent's pam_end ends that one, with every call in it
	if len(grep(lines, `setcred state ["auth", "account", "open_session", "setcred"]`)) != 1 {
		t.Errorf("setcred in the session's child got another interpreter: %q", lines)
	}
	if len(grep(lines, `pam_sm_end after ["auth", "account", "open_session", "setcred", "close_session"]`)) != 1 {
		t.Errorf("pam_sm_end did not run in the login's interpreter: %q", lines)
	}
}

// TestPythonRefusals: an interpreter that is not there, not root's, or
// relative, and interpreter= without a script, deny with one line.
func TestPythonRefusals(t *testing.T) {
	for _, tt := range []struct{ interpreter, want string }{
		{"/nonexistent/python3", "interpreter \"/nonexistent/python3\" refused"},
		{"python3", "is not an absolute path"},
	} {
		s := newPAMStack(t, "")
		script := filepath.Join(s.dir, "s.py")
		must(t, os.WriteFile(script, []byte("def pam_sm_authenticate(pamh, flags, argv):\n    return 0\n"), 0o644))
		line := s.moduleLine("interpreter="+tt.interpreter) + " " + script
		s.service(t, "sshd", "auth required "+line+"\n")
		mark := sink.Mark()
		if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); code == 0 {
			t.Errorf("%s: let in:\n%s", tt.interpreter, out)
		}
		if len(grep(sink.Since(mark), tt.want)) != 1 {
			t.Errorf("%s: log %q", tt.interpreter, sink.Since(mark))
		}
	}
}

// TestPythonEnvironment: a script sees the application's environment, as
// under pam_python, when root started the application; when a user did
// (su, sudo: the hostdriver with the user's real uid), only the locale and
// the terminal, so a user's HTTPS_PROXY cannot steer a root script. Never
// the variables that change how Python or the loader start.
func TestPythonEnvironment(t *testing.T) {
	s := pythonStack(t, "testdata/python/environ.py", nil)
	env := []string{"APP_SEEN=yes", "HTTPS_PROXY=http://127.0.0.1:9", "PYTHONPATH=/nonexistent", "LANG=C.UTF-8"}
	seen := func(lines []string) map[string]string {
		m := map[string]string{}
		for _, l := range grep(lines, "environ ") {
			kv := l[strings.Index(l, "environ ")+8:]
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			m[k] = v
		}
		return m
	}

	// root's application: pamtester
	mark := sink.Mark()
	cmd := command("pamtester", "-v", "sshd", "alice", "authenticate")
	cmd.Env = append(append(os.Environ(), env...), "LD_PRELOAD="+libPAMWrapper(t),
		"PAM_WRAPPER=1", "PAM_WRAPPER_SERVICE_DIR="+s.svc, "PAM_WRAPPER_USE_SYSLOG=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pamtester: %v\n%s", err, out)
	}
	got := seen(sink.Since(mark))
	// either way the script's Python runs as root, in /, isolated, in a
	// session of its own
	how := map[string]string{"uid": "0,0", "cwd": "/", "isolated": "1", "own-session": "True"}
	want := map[string]string{"APP_SEEN": "yes", "HTTPS_PROXY": "http://127.0.0.1:9", "PYTHONPATH": "<unset>",
		"LD_PRELOAD": "<unset>", "LANG": "C.UTF-8", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
	maps.Copy(want, how)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("started by root, the script saw %v, want %v", got, want)
	}

	// a user's application: su's and sudo's real uid
	mark = sink.Mark()
	all := append(sink.Wrap(), hostDriver(t), s.svc, "sshd", "alice", "user-ruid=65534", "1")
	cmd = exec.Command(all[0], all[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hostdriver: %v\n%s", err, out)
	}
	got = seen(sink.Since(mark))
	want = map[string]string{"APP_SEEN": "<unset>", "HTTPS_PROXY": "<unset>", "PYTHONPATH": "<unset>",
		"LD_PRELOAD": "<unset>", "LANG": "C.UTF-8", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
	maps.Copy(want, how)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("started by a user, the script saw %v, want %v", got, want)
	}
}

// TestPythonSiblings: a fork server without re-exec (vsftpd, xrdp-sesman)
// gives each connection's child the same parent and the same handle
// address. Each child is a login of its own: it gets a Python of its own,
// with none of its brothers' module state.
func TestPythonSiblings(t *testing.T) {
	s := pythonStack(t, "testdata/python/siblings.py", nil)
	mark := sink.Mark()
	out, got := runForkDriver(t, s, nil, "alice", "siblings", "a", "b", "c")
	checkSiblings(t, out, 3)
	for n := 1; n <= 3; n++ {
		for _, step := range []string{"authenticate 0", "account 0"} {
			if !contains(got, fmt.Sprintf("sibling%d-%s", n, step)) {
				t.Errorf("no sibling%d-%s:\n%s", n, step, out)
			}
		}
	}
	lines := grep(sink.Since(mark), "sibling-auth python=")
	pythons := map[string]bool{}
	for _, l := range lines {
		if !strings.HasSuffix(strings.TrimSpace(l), "seen=[]") {
			t.Errorf("a sibling saw a brother's module state: %s", l)
		}
		f := strings.Fields(l[strings.Index(l, "python="):])
		pythons[f[0]] = true
	}
	if len(lines) != 3 || len(pythons) != 3 {
		t.Errorf("want 3 authentications in 3 Pythons, got %d in %d: %q", len(lines), len(pythons), lines)
	}
}

// TestPythonCrashes: a Python that dies in the middle of a call (a
// segmentation fault, os._exit(0), SIGKILL) denies that call with one line
// naming the script, and the login's later calls too: its module state is
// gone, and a fresh Python would not know what the first one checked.
func TestPythonCrashes(t *testing.T) {
	for _, how := range []string{"segv", "exit0", "kill"} {
		t.Run(how, func(t *testing.T) {
			s := pythonStack(t, "testdata/python/crash.py", nil, how)
			mark := sink.Mark()
			out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt")
			if code == 0 {
				t.Fatalf("a Python that died let the login in:\n%s", out)
			}
			lines := sink.Since(mark)
			if l := grep(lines, "crash.py", "its Python ended without an answer", "denying"); len(l) != 1 {
				t.Errorf("want one line naming the script: %q", lines)
			}
			// the same login's account, called whatever auth returned,
			// is denied too; the next login (a new handle) starts afresh
			mark = sink.Mark()
			got := runHostDriver(t, s, "alice", "plain", 2)
			if lineWith(got, "authenticate") != "authenticate 3" || lineWith(got, "account") != "account 3" {
				t.Errorf("auth and account of a login whose Python died: %q", got)
			}
			// (its Python gone, or, killed a moment ago, not answering)
			if l := grep(sink.Since(mark), "account: script", "crash.py", "denying"); len(l) != 2 {
				t.Errorf("want a line for each round's account: %q", sink.Since(mark))
			}
			if l := grep(sink.Since(mark), "auth: script", "crash.py", "ended without an answer"); len(l) != 2 {
				t.Errorf("each round's auth starts a new Python, which dies: %q", sink.Since(mark))
			}
		})
	}
}
