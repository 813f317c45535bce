package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestCheckScript: for the Starlark engine, every line to port, with its
// line, column and fix; a script that runs as it is is OK.
func TestCheckScript(t *testing.T) {
	dir := t.TempDir()
	python := filepath.Join(dir, "legacy.py")
	must(t, os.WriteFile(python, []byte("import syslog\ndef pam_sm_authenticate(pamh, flags, argv):\n    try:\n        u = pamh.get_user()\n    except pamh.exception, e:\n        return e.pam_result\n    print \"user\", u\n    return pamh.PAM_SUCCESS\n"), 0o644))
	nologin, _ := filepath.Abs("../examples/scripts/pam_nologin.py")
	out, _, code := runCLI(t, dir, nil, "check-script", python, nologin)
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	for _, want := range []string{
		python + ":3:5: try/except: Starlark has no exceptions; fix: call the risky part through catch(",
		python + ":5:5: Python 2: `except E, e:` is Python 2 only; fix: except pamh.exception as e:",
		python + ":5:5: try/except",
		python + `:7:5: Python 2: print is a statement only in Python 2; fix: print("user", u)`,
		python + ": does not compile yet: 4 thing(s) to port",
		nologin + ": OK, runs as it is",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runCLI(t, dir, nil, "check-script", nologin); code != 0 {
		t.Errorf("pam_nologin.py alone: exit %d", code)
	}
}

// TestCheckScriptInterpreter: check-script --interpreter checks for the
// real Python that the module option interpreter= names: a module that is
// not installed there and a syntax error are both reported, with their
// lines, in one run; Starlark's restrictions are no problem there.
func TestCheckScriptInterpreter(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := exec.LookPath(py); err != nil {
		testenv.Missing(t, py+" (Debian package python3)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "http_auth.py")
	must(t, os.WriteFile(script, []byte(`import syslog
import requests_missing_xyz

def pam_sm_authenticate(pamh, flags, argv):
    try:
        user = pamh.get_user()
    except pamh.exception as e:
        return e.pam_result
    if requests_missing_xyz.get(argv[1], user) = 200:
        return pamh.PAM_SUCCESS
    return pamh.PAM_AUTH_ERR
`), 0o644))
	out, _, code := runCLI(t, dir, nil, "check-script", "--interpreter", py, script)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		script + `:2:8: import: module "requests_missing_xyz" is not installed for ` + py + "; fix: install it",
		script + ":9:", // Python's own words for the syntax error
		script + ": 2 problem(s) under " + py + " (Python 3.",
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want %q…", i+1, lines[i], w)
		}
	}
	if !strings.Contains(lines[1], "syntax") {
		t.Errorf("line 9 is no syntax error: %s", lines[1])
	}

	// fixed, it runs there as it is (try/except and all)
	fixed := strings.Replace(strings.Replace(readFile(t, script), "requests_missing_xyz", "json", -1), ") = 200", ") == 200", 1)
	must(t, os.WriteFile(script, []byte(fixed), 0o644))
	out, _, code = runCLI(t, dir, nil, "check-script", "--interpreter="+py, script)
	if code != 0 || !strings.HasPrefix(out, script+": OK under "+py+" (Python 3.") {
		t.Errorf("exit %d\n%s", code, out)
	}
	// and the same script is still one to port for Starlark
	if out, _, code = runCLI(t, dir, nil, "check-script", script); code != 1 || !strings.Contains(out, script+":5:5: try/except") {
		t.Errorf("Starlark: exit %d\n%s", code, out)
	}
	if _, errOut, code := runCLI(t, dir, nil, "check-script", "--interpreter", "python3", script); code != 64 || !strings.Contains(errOut, "not an absolute path") {
		t.Errorf("a relative interpreter: exit %d\n%s", code, errOut)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	must(t, err)
	return string(b)
}
