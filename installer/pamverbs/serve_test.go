package pamverbs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
)

// TestServeStacks: pam-configure web kubernetes writes serve's services
// whole (dry run first), configuring again changes nothing,
// show-pam-config shows them, and make-pam-clean removes them while they
// are as written; one an admin changed only loses our lines.
func TestServeStacks(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	c := Commands{CheckStack: noRehearsal(t)}
	services := []string{"web", "kubernetes"}

	out, errOut, code := call(c.Configure, append([]string{"--root", root, "--dry-run"}, services...)...)
	if code != 0 || errOut != "" || strings.Count(out, "+auth\trequired\tpam_accesscontrol.so") != 2 || !strings.Contains(out, "+auth\trequisite\tpam_unix.so") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range services {
		if _, err := os.Stat(filepath.Join(dir, s)); err == nil {
			t.Fatalf("--dry-run wrote %s", s)
		}
	}
	out, errOut, code = call(c.Configure, append([]string{"--root", root}, append(services, "sshd")...)...)
	if code != 0 || errOut != "" || strings.Count(out, ": written (") != 2 || !strings.Contains(out, "sshd: changed") {
		t.Fatalf("configure: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range services {
		want, _ := pamd.ServeStack(s)
		if got := pamFile(t, root, s); got != string(want) {
			t.Errorf("%s:\n%s", s, got)
		}
		fi, err := os.Stat(filepath.Join(dir, s))
		must(t, err)
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o644 || st.Uid != 0 || st.Gid != 0 {
			t.Errorf("%s: mode %v, owner %d:%d", s, fi.Mode(), st.Uid, st.Gid)
		}
		if have := pamd.Configured(want); !have["auth"] || !have["account"] || have["session"] {
			t.Errorf("%s: our lines %v, want auth and account", s, have)
		}
		if !strings.Contains(string(want), strings.ToUpper(s)+" ...") {
			t.Errorf("%s does not name its rules", s)
		}
	}
	if out, _, code := call(c.Configure, append([]string{"--root", root}, services...)...); code != 0 || strings.Count(out, ": unchanged") != 2 {
		t.Errorf("configuring again: exit %d\n%s", code, out)
	}
	if out, _, code := call(c.ShowConfig, append([]string{"--root", root}, services...)...); code != 0 ||
		!strings.Contains(out, "web:6: auth\trequired\tpam_accesscontrol.so\n") || !strings.Contains(out, "kubernetes:8: account\trequired\tpam_accesscontrol.so\n") {
		t.Errorf("show-pam-config: exit %d\n%s", code, out)
	}

	// kubernetes changed by the admin (a line of theirs): clean takes our
	// lines out and leaves theirs; web, as written, goes
	kube, _ := pamd.ServeStack("kubernetes")
	edited := string(kube) + "auth\toptional\tpam_faildelay.so delay=1000000\n"
	must(t, os.WriteFile(filepath.Join(dir, "kubernetes"), []byte(edited), 0o644))
	out, errOut, code = call(c.Clean, "--root", root)
	if code != 0 || errOut != "" || !strings.Contains(out, filepath.Join(dir, "web")+": removed, as pam-configure web wrote it") ||
		!strings.Contains(out, filepath.Join(dir, "kubernetes")+": changed") {
		t.Fatalf("clean: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "web")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("web is still there: %v", err)
	}
	if got := pamFile(t, root, "kubernetes"); got != string(pamd.Clean([]byte(edited))) || strings.Contains(got, "pam_accesscontrol") || !strings.Contains(got, "pam_faildelay") {
		t.Errorf("kubernetes after clean:\n%s", got)
	}
	if backups, _ := filepath.Glob(filepath.Join(root, "var/backups/pam-accesscontrol/web.*")); len(backups) != 1 {
		t.Errorf("%d backups of web, want 1", len(backups))
	}
	if out, _, code := call(c.Clean, "--root", root); code != 0 || out != "make-pam-clean: no service to change\n" {
		t.Errorf("nothing to clean: exit %d\n%s", code, out)
	}
	// the admin's kubernetes stack without our lines: show-pam-config warns
	out, _, code = call(c.ShowConfig, "--root", root, "kubernetes")
	if code != 1 || !strings.Contains(out, "kubernetes: warning: no auth line of pam-accesscontrol") || !strings.Contains(out, "kubernetes: warning: no account line") {
		t.Errorf("show-pam-config without our lines: exit %d\n%s", code, out)
	}
	// ...and pam-configure gives it our lines, as to any service
	if out, errOut, code := call(c.Configure, "--root", root, "kubernetes"); code != 0 || !strings.Contains(out, "kubernetes: changed") {
		t.Errorf("configure the admin's stack: exit %d\n%s%s", code, out, errOut)
	}
	if have := pamd.Configured([]byte(pamFile(t, root, "kubernetes"))); !have["auth"] || !have["account"] {
		t.Errorf("the admin's stack configured: %v", have)
	}
}

// TestServeStacksLive: on the live system a new service of serve's is
// rehearsed before it is written, and one that fails is not written.
func TestServeStacksLive(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	var rehearsed []string
	fail := true
	c := Commands{CheckStack: func(_ pamd.Tree, service string, text []byte) error {
		rehearsed = append(rehearsed, service)
		if want, _ := pamd.ServeStack(service); string(text) != string(want) {
			t.Errorf("rehearsed %s:\n%s", service, text)
		}
		if fail {
			return errors.New("a test auth transaction failed: the module cannot be loaded (PAM code 28); nothing was changed")
		}
		return nil
	}}
	_, errOut, code := call(c.Configure, "--pam-dir", dir, "web")
	if code != 1 || !strings.Contains(errOut, "pam-configure: "+filepath.Join(dir, "web")+": a test auth transaction failed") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "web")); err == nil {
		t.Error("web written although its rehearsal failed")
	}
	fail = false
	if out, errOut, code := call(c.Configure, "--pam-dir", dir, "web"); code != 0 || !strings.Contains(out, ": written") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	if strings.Join(rehearsed, ",") != "web,web" {
		t.Errorf("rehearsed %v", rehearsed)
	}
	// a file in the way is never overwritten by Create
	if _, err := (pamd.Tree{PamDir: dir}).Create("web", []byte("x\n")); err == nil {
		t.Error("Create replaced a file that was there")
	}
}
