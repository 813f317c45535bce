package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScriptStringsAsWritten: the Starlark engine's pre-pass rewrites
// code, never a string. A script whose usage text mentions a module it
// does not import runs (the pre-pass refused it: "module subprocess is
// not available"), and a message that says "is None" reaches the user as
// written (the pre-pass made it "== None"), through the real libpam.
func TestScriptStringsAsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "strings.py")
	must(t, os.WriteFile(path, []byte(`"""Asks nothing, says why.

The old version did:
    import subprocess
    subprocess.call(["logger", "x"])
"""
MSG = "the key is None, the lock is not True"

def pam_sm_authenticate(pamh, flags, argv):
    if pamh.user is None:
        return pamh.PAM_USER_UNKNOWN
    pamh.conversation(pamh.Message(pamh.PAM_TEXT_INFO, MSG + " # import os"))
    return pamh.PAM_SUCCESS
`), 0o644))
	s := scriptStack(t, path)
	mark := sink.Mark()
	out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate")
	if code != 0 || !strings.Contains(out, "the key is None, the lock is not True # import os") {
		t.Fatalf("exit %d:\n%s\n%s", code, out, strings.Join(grep(sink.Since(mark), "pam-accesscontrol"), "\n"))
	}
}
