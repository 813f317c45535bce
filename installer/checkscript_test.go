package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost/pycheck"
)

func checkScript(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCheckScript(args, &out, &errOut)
	return out.String() + errOut.String(), code
}

func writeScript(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func python3(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3")
	}
	return p
}

// broken has a Python 2 line, a module nobody installs, a syntax error,
// an import after the syntax error, and Starlark-only constructs.
const broken = `import syslog
import requests_missing_xyz
def pam_sm_authenticate(pamh, flags, argv):
    try:
        user = pamh.get_user()
    except pamh.exception, e:
        return e.pam_result
    print "user", user
    return pamh.PAM_SUCCESS
def pam_sm_setcred(pamh, flags, argv:
    return pamh.PAM_SUCCESS
def pam_sm_acct_mgmt(pamh, flags, argv):
    import another_missing_xyz
    if x = 1:
        pass
    return pamh.PAM_SUCCESS
`

func TestCheckScriptInterpreter(t *testing.T) {
	py := python3(t)
	p := writeScript(t, "broken.py", broken)
	out, code := checkScript(t, "--interpreter", py, p)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := []string{
		p + `:2:8: import: module "requests_missing_xyz" is not installed for ` + py,
		p + ":6:5: Python 2: `except E, e:` is Python 2 only; fix: except pamh.exception as e:",
		p + `:8:5: Python 2: print is a statement only in Python 2; fix: print("user", user)`,
		p + ":10:", // the syntax error: Python's words and column
		p + `:13:12: import: module "another_missing_xyz" is not installed`,
		p + ":14:", // and the one after it
		p + ": 6 problem(s) under " + py + " (Python 3.",
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], w)
		}
	}
	for _, l := range lines[:len(lines)-1] {
		if strings.Contains(l, "try/except") {
			t.Errorf("a Starlark-only finding under real Python: %s", l)
		}
	}

	ok := writeScript(t, "ok.py", "import os, syslog, json\nfrom os import path\n\ndef pam_sm_authenticate(pamh, flags, argv):\n    try:\n        return pamh.PAM_SUCCESS if os.path.exists(argv[1]) else pamh.PAM_AUTH_ERR\n    except Exception as e:\n        return pamh.PAM_SERVICE_ERR\n")
	out, code = checkScript(t, "--interpreter", py, ok)
	if code != 0 || !strings.HasPrefix(out, ok+": OK under "+py+" (Python 3.") {
		t.Errorf("a good script: exit %d\n%s", code, out)
	}
	// the same under Starlark is a try/except to port
	if out, code = checkScript(t, ok); code != 1 || !strings.Contains(out, ok+":5:5: try/except") {
		t.Errorf("Starlark: exit %d\n%s", code, out)
	}
}

// TestCheckScriptUntrustedInterpreter: an interpreter the module refuses
// (anyone may change it) is a problem, however well the script compiles.
func TestCheckScriptUntrustedInterpreter(t *testing.T) {
	py := python3(t)
	wrapper := writeScript(t, "python3", "#!/bin/sh\nexec "+py+" \"$@\"\n")
	os.Chmod(wrapper, 0o777)
	p := writeScript(t, "ok.py", "def pam_sm_authenticate(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n")
	out, code := checkScript(t, "--interpreter", wrapper, p)
	if code != 1 || !strings.Contains(out, p+": the module refuses interpreter="+wrapper+", and denies: ") ||
		!strings.Contains(out, ": 1 problem(s) under "+wrapper) {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestCheckScriptPython2Fixed: the Python 3 forms check-script proposes
// compile under Python 3.
func TestCheckScriptPython2Fixed(t *testing.T) {
	py := python3(t)
	src := "import sys\ndef f(d, k, e, ns):\n    print \"x\", k,\n    print >>sys.stderr, `k`\n    exec \"y = 1\" in ns\n    if k <> 0777 + 10L:\n        raise ValueError, \"bad\"\n    try:\n        print\n    except (KeyError, IndexError), e:\n        s = ur\"\\d\"\n    raise E, (1, 2), None\n"
	p := writeScript(t, "old.py", src)
	out, code := checkScript(t, "--interpreter", py, p)
	if code != 1 || strings.Count(out, ": Python 2: ") != 12 || strings.Contains(out, "syntax") {
		t.Errorf("exit %d\n%s", code, out)
	}
	fixed := pycheck.PlanPython([]byte(src)).Fixed
	cmd := exec.Command(py, "-c", "import sys; compile(sys.stdin.read(), 'fixed.py', 'exec')")
	cmd.Stdin = strings.NewReader(fixed)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the fixed source does not compile: %v\n%s\n%s", err, msg, fixed)
	}
	for _, want := range []string{`print("x", k, end=" ")`, `print(repr(k), file=sys.stderr)`, `exec("y = 1", ns)`,
		`if k != 0o777 + 10:`, `raise ValueError("bad")`, `print()`, `except (KeyError, IndexError) as e:`, `s =  r"\d"`,
		`raise E(1, 2).with_traceback(None)`} {
		if !strings.Contains(fixed, want) {
			t.Errorf("fixed source lacks %s:\n%s", want, fixed)
		}
	}
}

func TestCheckScriptBadInterpreter(t *testing.T) {
	p := writeScript(t, "ok.py", "def pam_sm_authenticate(pamh, flags, argv):\n    return pamh.PAM_SUCCESS\n")
	out, code := checkScript(t, "--interpreter", "/nonexistent/python3", p)
	if code != 1 || !strings.Contains(out, p+": cannot check under /nonexistent/python3: ") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// not a Python: an answer that is not the check's
	out, code = checkScript(t, "--interpreter", "/bin/true", p)
	if code != 1 || !strings.Contains(out, "cannot check under /bin/true") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// Python 2 has no -I
	py2 := writeScript(t, "python2", "#!/bin/sh\necho 'Unknown option: -I' >&2\nexit 2\n")
	os.Chmod(py2, 0o755)
	out, code = checkScript(t, "--interpreter", py2, p)
	if code != 1 || !strings.Contains(out, "no Python 3 (the engine runs it with -I, which Python 2 lacks)") {
		t.Errorf("exit %d\n%s", code, out)
	}
	if out, code = checkScript(t, "--interpreter", "python3", p); code != exitUsage || !strings.Contains(out, "not an absolute path") {
		t.Errorf("relative: exit %d\n%s", code, out)
	}
	if _, code = checkScript(t, "--interpreter"); code != exitUsage {
		t.Errorf("no path: exit %d", code)
	}
	if _, code = checkScript(t); code != exitUsage {
		t.Errorf("no script: exit %d", code)
	}
}
