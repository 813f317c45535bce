package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scriptStack is a PAM stack whose every line runs a pam_python script
// through the module.
func scriptStack(t *testing.T, script string, args ...string) *pamStack {
	t.Helper()
	s := newPAMStack(t, "")
	data, err := os.ReadFile(script)
	must(t, err)
	path := filepath.Join(s.dir, filepath.Base(script))
	must(t, os.WriteFile(path, data, 0o644))
	line := s.moduleLine() + " " + strings.Join(append([]string{path}, args...), " ")
	stack := ""
	for _, typ := range []string{"auth", "account", "session", "password"} {
		stack += typ + " required " + line + "\n"
	}
	s.service(t, "sshd", stack)
	return s
}

// TestScriptConformance: pam_python's test-suite assertions, through the
// real module and libpam.
func TestScriptConformance(t *testing.T) {
	s := scriptStack(t, "testdata/conformance.py", "10.9.8.7")
	mark := sink.Mark()
	out, code := s.pamtester(t, []string{"rhost=10.9.8.7"}, "sshd", "alice", "authenticate", "acct_mgmt", "chauthtok")
	lines := sink.Since(mark)
	if code != 0 || len(grep(lines, "FAIL")) != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, strings.Join(grep(lines, "pam-accesscontrol["), "\n"))
	}
	if !strings.Contains(out, "conformance info") || !strings.Contains(out, "two") {
		t.Errorf("conversation messages did not reach the application:\n%s", out)
	}
	if len(grep(lines, "chauthtok calls [16384, 8192]")) != 1 {
		t.Errorf("chauthtok was not called twice with its flags:\n%s", strings.Join(lines, "\n"))
	}
	// pam_sm_end runs once, last, when pamtester ends the handle
	if ends := grep(lines, "pam_sm_end after"); len(ends) != 1 || !strings.Contains(ends[0], `["auth", "account"]`) ||
		!strings.Contains(lines[len(lines)-1], "pam_sm_end after") {
		t.Errorf("pam_sm_end: %q\nlast line %q", ends, lines[len(lines)-1])
	}
	// a new handle starts with fresh module state
	out, code = s.pamtester(t, nil, "sshd", "alice", "acct_mgmt")
	if code == 0 {
		t.Errorf("module state leaked across handles:\n%s", out)
	}
	// a missing entry point is PAM_SYMBOL_ERR; False is not a success
	if out, _ := s.pamtester(t, nil, "sshd", "alice", "open_session"); !strings.Contains(out, "Symbol not found") {
		t.Errorf("missing pam_sm_open_session:\n%s", out)
	}
	mark = sink.Mark()
	if out, code := s.pamtester(t, nil, "sshd", "alice", "close_session"); code == 0 || !strings.Contains(out, "Error in service module") {
		t.Errorf("return False must be PAM_SERVICE_ERR:\n%s", out)
	}
	if len(grep(sink.Since(mark), "pam_sm_close_session() did not return an integer but bool")) != 1 {
		t.Errorf("no line about the bool: %q", sink.Since(mark))
	}
}

// TestScriptExamples: pam_python's example scripts, ported.
func TestScriptExamples(t *testing.T) {
	dir := t.TempDir()
	nologin := filepath.Join(dir, "nologin")
	for _, tt := range []struct {
		script string
		args   []string
		user   string
		ops    []string
		in     bool
		want   string
	}{
		{"pam_permit.py", nil, "alice", []string{"authenticate", "acct_mgmt", "open_session", "close_session", "chauthtok"}, true, ""},
		{"pam_deny.py", nil, "alice", []string{"authenticate"}, false, "Authentication failure"},
		{"pam_deny.py", nil, "alice", []string{"acct_mgmt"}, false, "Authentication failure"},
		{"pam_nologin.py", []string{nologin}, "alice", []string{"authenticate"}, true, ""},
		{"pam_nologin.py", []string{nologin + "-present"}, "nobody", []string{"authenticate"}, false, "down for maintenance"},
		{"pam_nologin.py", []string{nologin + "-present"}, "root", []string{"authenticate"}, true, "down for maintenance"},
	} {
		must(t, os.WriteFile(nologin+"-present", []byte("down for maintenance\n"), 0o644))
		s := scriptStack(t, filepath.Join("..", "examples", "scripts", tt.script), tt.args...)
		out, code := s.pamtester(t, nil, "sshd", tt.user, tt.ops...)
		if (code == 0) != tt.in || !strings.Contains(out, tt.want) {
			t.Errorf("%s %v for %s: exit %d, want in=%v and %q\n%s", tt.script, tt.ops, tt.user, code, tt.in, tt.want, out)
		}
	}
}

// TestScriptHostile: a script that loops, recurses, allocates without end
// or imports what is not there ends in PAM_SERVICE_ERR within the limits.
func TestScriptHostile(t *testing.T) {
	for name, src := range map[string]string{
		"loop":       "def pam_sm_authenticate(pamh, flags, argv):\n    while True:\n        pass\n",
		"recursion":  "def pam_sm_authenticate(pamh, flags, argv):\n    return pam_sm_authenticate(pamh, flags, argv)\n",
		"allocation": "def pam_sm_authenticate(pamh, flags, argv):\n    x = [0] * (1 << 40)\n    return 0\n",
		"import":     "import subprocess\ndef pam_sm_authenticate(pamh, flags, argv):\n    return 0\n",
		"syntax":     "def pam_sm_authenticate(pamh, flags, argv):\n    try:\n        pass\n",
		"big int":    "def pam_sm_authenticate(pamh, flags, argv):\n    return 1 << 40\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hostile.py")
			must(t, os.WriteFile(path, []byte(src), 0o644))
			s := scriptStack(t, path)
			mark := sink.Mark()
			out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
			if code == 0 || !strings.Contains(out, "Error in service module") {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			if len(grep(sink.Since(mark), "pam-accesscontrol[", "hostile.py")) == 0 {
				t.Errorf("no log line naming the script: %q", sink.Since(mark))
			}
		})
	}
}

// TestScriptRecursion: recursion is off unless the module line says
// `recursion`; then the step limit still ends a runaway.
func TestScriptRecursion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fact.py")
	must(t, os.WriteFile(path, []byte("def fact(n):\n    if n <= 1:\n        return 1\n    return n * fact(n - 1)\n"+
		"def pam_sm_authenticate(pamh, flags, argv):\n    if fact(5) == 120:\n        return pamh.PAM_SUCCESS\n    return pamh.PAM_AUTH_ERR\n"), 0o644))
	for _, tt := range []struct {
		opts []string
		in   bool
	}{{nil, false}, {[]string{"recursion"}, true}} {
		s := newPAMStack(t, "")
		data, _ := os.ReadFile(path)
		script := filepath.Join(s.dir, "fact.py")
		must(t, os.WriteFile(script, data, 0o644))
		s.service(t, "sshd", "auth required "+s.moduleLine(tt.opts...)+" "+script+"\n")
		if _, code := s.pamtester(t, nil, "sshd", "alice", "authenticate"); (code == 0) != tt.in {
			t.Errorf("options %v: exit %d, want in=%v", tt.opts, code, tt.in)
		}
	}
}
