package main

import (
	"strings"
	"testing"
)

// TestCheckScriptGuardedPython2 (README, "pam_python scripts"): under
// --interpreter a Python 2 name under try: or behind a test of the Python
// version is a warning, not a problem (the script still exits 0); the same
// name unguarded is an error.
func TestCheckScriptGuardedPython2(t *testing.T) {
	py := python3(t)
	guarded := writeScript(t, "compat.py", `import sys
try:
    text = unicode
except NameError:
    text = str
if sys.version_info[0] < 3:
    ints = (int, long)
else:
    ints = (int,)
def pam_sm_authenticate(pamh, flags, argv):
    return pamh.PAM_SUCCESS
`)
	out, code := checkScript(t, "--interpreter", py, guarded)
	if code != 0 || strings.Count(out, ": warning: ") != 2 || !strings.Contains(out, guarded+":3:") || !strings.Contains(out, guarded+":7:") {
		t.Errorf("guarded: exit %d, want 0 with two warnings (lines 3 and 7):\n%s", code, out)
	}
	bare := writeScript(t, "old.py", "def pam_sm_authenticate(pamh, flags, argv):\n    text = unicode\n    return pamh.PAM_SUCCESS\n")
	out, code = checkScript(t, "--interpreter", py, bare)
	if code != 1 || strings.Contains(out, "warning") || !strings.Contains(out, bare+":2:") {
		t.Errorf("unguarded: exit %d, want 1 with an error on line 2:\n%s", code, out)
	}
}
