package test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// protocolV1Module is the last commit whose module speaks protocol version
// 1 (the login id asked for and kept with a get data and a set data
// request). A process that loaded it before an upgrade, gdm or a
// long-running sshd, keeps it until it restarts.
const protocolV1Module = "bedbf7ef7d2a17824394113adb84b739728f76fa"

// buildModuleAt compiles the PAM module of commit, as its Makefile did.
func buildModuleAt(t *testing.T, commit string) string {
	t.Helper()
	requireCommit(t, commit, "the module of an older build")
	tree := t.TempDir()
	if out, err := exec.Command("sh", "-c", `git -C .. archive "$0" pammod | tar -x -C "$1"`, commit, tree).CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, out)
	}
	so := filepath.Join(tree, "pam_accesscontrol.so")
	pammod := filepath.Join(tree, "pammod")
	cc := exec.Command("cc", "-O2", "-std=gnu11", "-fPIC", "-fvisibility=hidden", "-shared",
		"-Wl,--version-script="+filepath.Join(pammod, "pam_accesscontrol.map"), "-o", so,
		filepath.Join(pammod, "pam_accesscontrol.c"), filepath.Join(pammod, "wire.c"), filepath.Join(pammod, "serve.c"), "-lpam")
	if out, err := cc.CombinedOutput(); err != nil {
		t.Fatalf("building the module of %s: %v\n%s", commit[:12], err, out)
	}
	return so
}

// TestOldModuleServed (issue 16): a module of the previous protocol version
// is served by this build's daemon and by this build's helper run per
// call: the login's decision, and its reuse by the later phases through
// the login id kept on the handle (which needs version 1's get data and
// set data to work), exactly as with the module of this build.
func TestOldModuleServed(t *testing.T) {
	old := buildModuleAt(t, protocolV1Module)
	for _, mode := range []string{"daemon", "helper per call"} {
		t.Run(mode, func(t *testing.T) {
			s := newPAMStack(t, "DEBUG:TRUE\n"+pamRules)
			var opts []string
			if mode == "daemon" {
				socket, _ := startDaemon(t, s.dir)
				// a daemon that declined would leave the module no helper
				opts = []string{"socket=" + socket, "helper=/nonexistent/helper"}
			}
			line := strings.Replace(s.moduleLine(opts...), shim, old, 1)
			s.service(t, "sshd", "auth required "+line+"\naccount required "+line+"\nsession required "+line+"\n")

			mark := sink.Mark()
			if out, code := s.pamtester(t, nil, "sshd", "alice", "authenticate", "acct_mgmt", "open_session", "close_session"); code != 0 {
				t.Fatalf("alice through the old module: exit %d\n%s", code, out)
			}
			lines := sink.Since(mark)
			if n := len(grep(lines, "pam-accesscontrol[", ": OPEN for \"alice\"")); n != 1 {
				t.Errorf("%d decisions for alice, want 1 (the later phases reuse it):\n%s", n, strings.Join(lines, "\n"))
			}
			if n := len(grep(lines, "reusing the decision OPEN")); n != 2 {
				t.Errorf("%d reuse lines, want 2 (account, session):\n%s", n, strings.Join(lines, "\n"))
			}
			if l := grep(lines, "protocol version"); len(l) != 0 {
				t.Errorf("the old module was not served: %q", l)
			}
			if l := grep(lines, "denying"); len(l) != 0 {
				t.Errorf("failures logged: %q", l)
			}
			if out, code := s.pamtester(t, nil, "sshd", "bob", "authenticate"); code == 0 || !strings.Contains(out, "Access denied by pam-accesscontrol.") {
				t.Fatalf("bob got in through the old module: exit %d\n%s", code, out)
			}
		})
	}
}
