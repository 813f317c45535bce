package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestDeb builds the Debian package, installs it on this machine, runs
// the installed command, configures the live sshd stack, removes the
// package (its PAM lines go first, so sshd logins keep working; only the
// conffile and the backups stay) and purges it (nothing stays). The
// package itself never touches /etc/pam.d but to take its lines out.
func TestDeb(t *testing.T) {
	testenv.Root(t)
	for _, tool := range []string{"dpkg", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool)
		}
	}
	if exec.Command("dpkg-query", "-W", "pam-accesscontrol").Run() == nil {
		t.Skip("pam-accesscontrol is installed on this machine; not touching it")
	}
	out, err := exec.Command("make", "--no-print-directory", "-C", "..", "deb", "BUILD="+buildDir).CombinedOutput()
	if err != nil {
		t.Fatalf("make deb: %v\n%s", err, out)
	}
	debs, _ := filepath.Glob(filepath.Join(buildDir, "pam-accesscontrol_*.deb"))
	if len(debs) != 1 {
		t.Fatalf("debs: %v", debs)
	}
	pamBefore, _ := exec.Command("sh", "-c", "cat /etc/pam.d/* | md5sum").Output()
	dpkg := func(args ...string) string {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	dpkg("-i", debs[0])
	t.Cleanup(func() { exec.Command("dpkg", "-P", "pam-accesscontrol").Run() })

	files := strings.Fields(dpkg("-L", "pam-accesscontrol"))
	if out, err := exec.Command("/usr/sbin/pam-accesscontrol", "pam-list").CombinedOutput(); err != nil || !strings.Contains(string(out), "sshd") {
		t.Fatalf("the installed command: %v\n%s", err, out)
	}
	if out, err := exec.Command("/usr/sbin/pam-accesscontrol", "check-my-config").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "OK:") {
		t.Errorf("the installed default config: %v\n%s", err, out)
	}
	// with the module installed, pam-configure's test transaction passes
	// (on a copy of the PAM directory: the live one stays as it is)
	pamCopy := filepath.Join(distroRoot(t, "debian12"), "etc/pam.d")
	if out, err := exec.Command("/usr/sbin/pam-accesscontrol", "pam-configure", "--pam-dir", pamCopy, "sshd").CombinedOutput(); err != nil ||
		!strings.Contains(string(mustRead(t, filepath.Join(pamCopy, "sshd"))), "pam_accesscontrol.so") {
		t.Errorf("pam-configure with the module installed: %v\n%s", err, out)
	}
	conf := "/etc/pam-accesscontrol.d/pam-accesscontrol.conf"
	must(t, os.WriteFile(conf, append(mustRead(t, conf), []byte("SSHD OPEN USER admin\n")...), 0o644))

	// the admin configures the live sshd stack, then removes the package
	sshdBefore := mustRead(t, "/etc/pam.d/sshd")
	t.Cleanup(func() { os.WriteFile("/etc/pam.d/sshd", sshdBefore, 0o644) })
	if out, err := exec.Command("/usr/sbin/pam-accesscontrol", "pam-configure", "sshd").CombinedOutput(); err != nil {
		t.Fatalf("pam-configure sshd: %v\n%s", err, out)
	}
	configured := mustRead(t, "/etc/pam.d/sshd")
	if !strings.Contains(string(configured), "pam_accesscontrol.so") {
		t.Fatalf("pam-configure left sshd as it was:\n%s", configured)
	}

	removal := dpkg("-r", "pam-accesscontrol")
	// the removal took our lines out first, said so, and kept the old file
	if got := mustRead(t, "/etc/pam.d/sshd"); string(got) != string(sshdBefore) {
		t.Errorf("after removal /etc/pam.d/sshd is\n%s\nwant it as before pam-configure:\n%s", got, sshdBefore)
	}
	if !strings.Contains(removal, "/etc/pam.d/sshd: changed") {
		t.Errorf("the removal did not say which files it changed:\n%s", removal)
	}
	if backups, _ := filepath.Glob("/var/backups/pam-accesscontrol/*"); len(backups) == 0 {
		t.Error("no backup of /etc/pam.d/sshd kept after removal")
	}
	// a real sshd with the machine's sshd stack lets a key login in; with
	// the stack as it was before the removal (our line, module gone) it
	// does not: that is the lockout the removal must prevent
	for _, tt := range []struct {
		stack []byte
		in    bool
	}{{mustRead(t, "/etc/pam.d/sshd"), true}, {configured, false}} {
		srv := startSSHDWith(t, sshdSetup{stack: func(*sshServer, string) string { return string(tt.stack) }})
		if in, out := srv.login(t, "publickey"); in != tt.in {
			t.Errorf("a key login after removal, stack with our line %v: in=%v, want %v\n%s",
				strings.Contains(string(tt.stack), "pam_accesscontrol"), in, tt.in, out)
		}
	}
	for _, f := range files {
		fi, err := os.Stat(f) // follows /lib -> usr/lib on merged-/usr systems
		if err != nil || fi.IsDir() || f == conf {
			continue
		}
		if strings.HasPrefix(f, "/etc/pam.d") || !strings.HasPrefix(f, "/etc/") {
			t.Errorf("left behind after remove: %s", f)
		}
	}
	if !strings.Contains(string(mustRead(t, conf)), "SSHD OPEN USER admin") {
		t.Error("remove did not keep the admin's config")
	}
	dpkg("-P", "pam-accesscontrol")
	if _, err := os.Stat(conf); err == nil {
		t.Error("purge left the config")
	}
	if _, err := os.Stat("/var/backups/pam-accesscontrol"); err == nil {
		t.Error("purge left the backups")
	}
	pamAfter, _ := exec.Command("sh", "-c", "cat /etc/pam.d/* | md5sum").Output()
	if string(pamBefore) != string(pamAfter) {
		t.Error("the package changed /etc/pam.d")
	}
}

func mustRead(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	must(t, err)
	return data
}

// TestMakeInstall: make install into a DESTDIR puts every file in place and
// never overwrites the admin's config; make uninstall takes back all but
// the config.
func TestMakeInstall(t *testing.T) {
	testenv.Root(t)
	dest := t.TempDir()
	conf := filepath.Join(dest, "etc/pam-accesscontrol.d/pam-accesscontrol.conf")
	must(t, os.MkdirAll(filepath.Dir(conf), 0o755))
	must(t, os.WriteFile(conf, []byte("DEFAULT:CLOSE\nSSHD OPEN GROUP admins\n"), 0o644))
	make := func(target string) {
		out, err := exec.Command("make", "--no-print-directory", "-C", "..", target, "DESTDIR="+dest, "BUILD="+buildDir).CombinedOutput()
		if err != nil {
			t.Fatalf("make %s: %v\n%s", target, err, out)
		}
	}
	make("install")
	for _, f := range []string{"usr/sbin/pam-accesscontrol", "usr/libexec/pam-accesscontrol/pam-accesscontrol-helper",
		"usr/bin/pam-accesscontrol-notifier", "usr/share/dbus-1/system.d/org.pamaccesscontrol.Notifier.conf",
		"etc/xdg/autostart/pam-accesscontrol-notifier.desktop", "usr/share/man/man8/pam-accesscontrol.8",
		"usr/share/man/man8/pam_accesscontrol.8", "usr/share/man/man5/pam-accesscontrol.conf.5",
		"usr/share/bash-completion/completions/pam-accesscontrol",
		"usr/lib/systemd/system/pam-accesscontrol-deliver.timer", "usr/lib/systemd/system/pam-accesscontrol-deliver.service",
		"usr/share/doc/pam-accesscontrol/examples/mail/login-mail-mapping.conf"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(dest, "*lib*", "*", "security", "pam_accesscontrol.so")); len(m) != 1 {
		if m2, _ := filepath.Glob(filepath.Join(dest, "*lib*", "security", "pam_accesscontrol.so")); len(m2) != 1 {
			t.Errorf("the module is not in a PAM module directory")
		}
	}
	if got := string(mustRead(t, conf)); !strings.Contains(got, "SSHD OPEN GROUP admins") {
		t.Errorf("install overwrote the config: %q", got)
	}
	make("uninstall")
	var left []string
	filepath.Walk(dest, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			left = append(left, strings.TrimPrefix(p, dest))
		}
		return nil
	})
	if len(left) != 1 || left[0] != "/etc/pam-accesscontrol.d/pam-accesscontrol.conf" {
		t.Errorf("left after uninstall: %v", left)
	}
}

// TestManPages: every man page formats without a warning.
func TestManPages(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		testenv.Missing(t, "groff")
	}
	pages, _ := filepath.Glob("../installer/dist/*.[1-8]")
	if len(pages) < 3 {
		t.Fatalf("man pages: %v", pages)
	}
	for _, page := range pages {
		out, err := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", page).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Errorf("%s: %v\n%s", page, err, out)
		}
	}
}
