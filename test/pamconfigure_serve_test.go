package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestPamConfigureServe: the real command writes serve's PAM services
// (web, kubernetes) whole, shows them, refuses on the live system when
// the module cannot load, and make-pam-clean gives back the PAM directory
// as it was.
func TestPamConfigureServe(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	before, _ := os.ReadDir(dir)
	out, _, code := runCLI(t, root, nil, "pam-configure", "--root", root, "--dry-run", "web", "kubernetes")
	if code != 0 || strings.Count(out, "+auth\trequisite\tpam_unix.so") != 2 {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	out, stderr, code := runCLI(t, root, nil, "pam-configure", "--root", root, "web", "kubernetes")
	if code != 0 || strings.Count(out, ": written (") != 2 {
		t.Fatalf("configure: exit %d\n%s%s", code, out, stderr)
	}
	for _, s := range []string{"web", "kubernetes"} {
		text := string(pamFile(t, root, s))
		if !strings.Contains(text, "auth\trequired\tpam_accesscontrol.so\n") || !strings.Contains(text, "account\trequired\tpam_accesscontrol.so\n") ||
			strings.Contains(text, "nullok") || strings.Contains(text, "session") {
			t.Errorf("%s:\n%s", s, text)
		}
	}
	if out, _, code := runCLI(t, root, nil, "pam-configure", "--root", root, "web", "kubernetes"); code != 0 || strings.Count(out, "unchanged") != 2 {
		t.Errorf("configuring again: exit %d\n%s", code, out)
	}
	if out, _, code := runCLI(t, root, nil, "show-pam-config", "--root", root, "web", "kubernetes"); code != 0 || strings.Count(out, "pam_accesscontrol.so") != 4 {
		t.Errorf("show-pam-config: exit %d\n%s", code, out)
	}
	if out, _, code := runCLI(t, root, nil, "pam-list", "--root", root); code != 0 || !strings.Contains(out, "* web\n") || !strings.Contains(out, "* kubernetes\n") {
		t.Errorf("pam-list: exit %d\n%s", code, out)
	}
	if out, stderr, code := runCLI(t, root, nil, "make-pam-clean", "--root", root); code != 0 || strings.Count(out, ": removed, as pam-configure") != 2 {
		t.Errorf("clean: exit %d\n%s%s", code, out, stderr)
	}
	if after, _ := os.ReadDir(dir); strings.Join(names(after), ",") != strings.Join(names(before), ",") {
		t.Errorf("the PAM directory after clean: %v, was %v", names(after), names(before))
	}
	// the live system: the new stack is rehearsed through libpam first;
	// with no module installed it cannot load, and nothing is written
	if _, err := os.Stat("/lib/x86_64-linux-gnu/security/pam_accesscontrol.so"); err == nil {
		t.Skip("the module is installed on this machine")
	}
	_, stderr, code = runCLI(t, root, nil, "pam-configure", "--pam-dir", dir, "web")
	if code != 1 || !strings.Contains(stderr, "the module cannot be loaded") {
		t.Errorf("live, no module: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "web")); err == nil {
		t.Error("web was written although its rehearsal failed")
	}
}

// shadowHash is "secret" in SHA-512 crypt (openssl passwd -6 -salt abcdefgh secret).
const shadowHash = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."

// TestServeWithWrittenStack runs serve with the web service exactly as
// pam-configure writes it (only the module's name made its path and
// test options) and real pam_unix over a private /etc/passwd, /etc/shadow
// and /etc/group (a mount namespace): the right password and the rules
// let alice in; bob's right password does not beat the rules; a wrong
// password, an empty password (no nullok), a locked and an expired
// account (pam_unix's account phase) are refused.
func TestServeWithWrittenStack(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		testenv.Missing(t, "unshare (util-linux)")
	}
	s := newPAMStack(t, "DEFAULT:CLOSE\nWEB OPEN USER alice,carol,dave,erin\n")
	root := scratchRoot(t)
	if out, stderr, code := runCLI(t, root, nil, "pam-configure", "--root", root, "web"); code != 0 {
		t.Fatalf("pam-configure web: %d\n%s%s", code, out, stderr)
	}
	written := string(pamFile(t, root, "web"))
	s.service(t, "web", strings.ReplaceAll(written, "pam_accesscontrol.so", s.moduleLine()))

	etc := t.TempDir()
	passwd := string(mustRead(t, "../examples/demo/passwd")) + "erin:x:1005:100:Erin Expired:/home/erin:/bin/sh\n"
	must(t, os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644))
	must(t, os.WriteFile(filepath.Join(etc, "group"), mustRead(t, "../examples/demo/group"), 0o644))
	shadow := "root:*:19000:0:99999:7:::\n" +
		"alice:" + shadowHash + ":19000:0:99999:7:::\n" +
		"bob:" + shadowHash + ":19000:0:99999:7:::\n" +
		"carol::19000:0:99999:7:::\n" +
		"dave:!" + shadowHash + ":19000:0:99999:7:::\n" +
		"erin:" + shadowHash + ":19000:0:99999:7::1:\n" // expired on 2 January 1970
	must(t, os.WriteFile(filepath.Join(etc, "shadow"), []byte(shadow), 0o640))

	// serve in a mount namespace where /etc/{passwd,group,shadow} are the
	// test's; the network is the test's, so curl reaches it
	bind := `for f in passwd group shadow; do mount --bind "$0/$f" "/etc/$f" || exit 1; done; exec "$@"`
	base := startServeWrapped(t, s, []string{"unshare", "--mount", "--propagation", "private", "sh", "-c", bind, etc}, false)

	for _, tt := range []struct {
		user, password string
		code           int
		why            string
	}{
		{"alice", "secret", 200, "the right password, the rules open"},
		{"alice", "wrong", 401, "a wrong password"},
		{"bob", "secret", 401, "the right password, the rules close"},
		{"carol", "", 400, "no password at all: beesly's 400"},
		{"carol", "x", 401, "an empty password in shadow, and no nullok"},
		{"dave", "secret", 401, "a locked account"},
		{"erin", "secret", 401, "an expired account: pam_unix's account phase"},
	} {
		code, raw, _ := curlDo(t, "POST", base+"/auth", `{"username":"`+tt.user+`","password":"`+tt.password+`"}`, "--max-time", "60")
		if code != tt.code {
			t.Errorf("%s (%s): %d %s", tt.user, tt.why, code, raw)
		}
		if tt.code == 200 && !bytes.Contains(raw, []byte(`"groups":["users","admins"]`)) && !bytes.Contains(raw, []byte(`"groups":["admins","users"]`)) {
			t.Errorf("%s's groups, from the private /etc/group: %s", tt.user, raw)
		}
	}
}

// startServeWrapped is startServe with serve run through wrapper (a
// command that execs its arguments), and nss_wrapper's demo users only
// when nssWrapper is set.
func startServeWrapped(t *testing.T, s *pamStack, wrapper []string, nssWrapper bool, args ...string) string {
	t.Helper()
	return launchServe(t, s, freePort(t), "http", wrapper, nssWrapper, []string{"--max-time", "5"}, args...).base
}
