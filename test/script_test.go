package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
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

// pyNamesScript uses what real pam_python modules use beyond pamh (issue
// 14): whole pwd entries (GECOS with its commas, the shell) indexable as
// tuples, grp entries, json.dumps/loads with CPython's output, os.environ,
// sys.argv, syslog's openlog and its option and facility constants.
// argv: SCRIPT USER.
const pyNamesScript = `import json
import os
import pwd
import grp
import sys
import syslog

syslog.openlog("pynames", syslog.LOG_PID | syslog.LOG_CONS | syslog.LOG_NDELAY, syslog.LOG_AUTHPRIV)
fails = []

def check(ok, what):
    if not ok:
        fails.append(what)
        syslog.syslog(syslog.LOG_ERR, "FAIL: " + what)

def pam_sm_authenticate(pamh, flags, argv):
    e = pwd.getpwnam(argv[1])
    check(e.pw_gecos == "Gina Gecos,Room 7,555-0101,555-0102,x", "pw_gecos %s" % e.pw_gecos)
    check(e.pw_shell == "/bin/zsh" and e[6] == "/bin/zsh" and e[-1] == "/bin/zsh", "pw_shell %s" % e.pw_shell)
    check(len(e) == 7 and e[0] == argv[1] and e[4] == e.pw_gecos and tuple(e)[2] == 1100 and e.pw_uid == 1100, "struct_passwd %s" % e)
    name, passwd, uid, gid, gecos, home, shell = pwd.getpwuid(1100)
    check(name == argv[1] and home == "/home/gina", "unpacking")
    g = grp.getgrgid(e.pw_gid)
    check(len(g) == 4 and g[0] == "staff" and g.gr_name == "staff" and argv[1] in g[3], "struct_group %s" % g)
    d = json.loads(json.dumps({"user": argv[1], "uid": e.pw_uid, "ok": True, "none": None}))
    check(d == {"user": argv[1], "uid": 1100, "ok": True, "none": None}, "json %s" % d)
    check(json.dumps({"a": [1, 2.5, "\u00e9"]}) == '{"a": [1, 2.5, "\\u00e9"]}', "json.dumps %s" % json.dumps({"a": [1, 2.5, "\u00e9"]}))
    check(len(os.environ) == 0 and os.getenv("PATH") == None, "os.environ %s" % os.environ)
    check(sys.argv == [""], "sys.argv %s" % sys.argv)
    syslog.syslog(syslog.LOG_AUTH | syslog.LOG_NOTICE, "pynames: %d failures" % len(fails))
    if fails:
        return pamh.PAM_AUTH_ERR
    return pamh.PAM_SUCCESS
`

// TestScriptPythonNames runs pyNamesScript through the real module, its
// helper under nss_wrapper (through a wrapper script, since the module
// gives the helper a fixed environment).
func TestScriptPythonNames(t *testing.T) {
	s := newPAMStack(t, "")
	passwd, group := filepath.Join(s.dir, "passwd"), filepath.Join(s.dir, "group")
	must(t, os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\n"+
		"gina:x:1100:1100:Gina Gecos,Room 7,555-0101,555-0102,x:/home/gina:/bin/zsh\n"), 0o644))
	must(t, os.WriteFile(group, []byte("root:x:0:\nstaff:x:1100:gina\n"), 0o644))
	wrapped := filepath.Join(s.dir, "helper-nss")
	env := testenv.NSSWrapperEnv(t, passwd, group)
	must(t, os.WriteFile(wrapped, []byte("#!/bin/sh\nexec env "+strings.Join(env, " ")+" "+helper+"\n"), 0o755))
	script := filepath.Join(s.dir, "pynames.py")
	must(t, os.WriteFile(script, []byte(pyNamesScript), 0o644))
	s.service(t, "sshd", "auth required "+s.moduleLine("helper="+wrapped)+" "+script+" gina\n")
	mark := sink.Mark()
	out, code := s.pamtester(t, nil, "sshd", "gina", "authenticate")
	lines := sink.Since(mark)
	if code != 0 || len(grep(lines, "FAIL")) != 0 || len(grep(lines, "pynames: 0 failures")) != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, out, strings.Join(grep(lines, "pam-accesscontrol"), "\n"))
	}
}

// TestScriptLongMessage: a conversation message longer than
// PAM_MAX_MSG_SIZE (512) reaches the application, as under pam_python
// (Linux-PAM's limit is advisory, the applications cope), and the login
// goes on; a prompt that long is answered.
func TestScriptLongMessage(t *testing.T) {
	banner := strings.Repeat("#", 599) // and a newline: 600 bytes
	path := filepath.Join(t.TempDir(), "long.py")
	must(t, os.WriteFile(path, []byte(`def pam_sm_authenticate(pamh, flags, argv):
    pamh.conversation(pamh.Message(pamh.PAM_TEXT_INFO, "`+banner+`\n"))
    pamh.conversation([pamh.Message(pamh.PAM_ERROR_MSG, "E" * 2000), pamh.Message(pamh.PAM_TEXT_INFO, "short")])
    r = pamh.conversation(pamh.Message(pamh.PAM_PROMPT_ECHO_ON, "P" * 1000 + ": "))
    if r.resp != "typed":
        return pamh.PAM_AUTH_ERR
    return pamh.PAM_SUCCESS
`), 0o644))
	s := scriptStack(t, path)
	mark := sink.Mark()
	out, code := s.pamtesterTyping(t, strings.NewReader("typed\n"), nil, "sshd", "alice", "authenticate")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, out, strings.Join(grep(sink.Since(mark), "pam-accesscontrol"), "\n"))
	}
	for _, want := range []string{banner, strings.Repeat("E", 2000), "short", strings.Repeat("P", 1000) + ": "} {
		if !strings.Contains(out, want) {
			t.Errorf("the application did not get a message of %d bytes:\n%s", len(want), out)
		}
	}
}
