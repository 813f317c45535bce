package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

var realServices = []string{"sshd", "login", "gdm-password", "sddm", "lightdm"}

// scratchRoot copies Debian 12's PAM directory into root/etc/pam.d, with
// a service "other".
func scratchRoot(t *testing.T) string {
	t.Helper()
	testenv.Root(t)
	root := distroRoot(t, "debian12")
	must(t, os.WriteFile(filepath.Join(root, "etc/pam.d/other"), []byte("auth required pam_deny.so\n"), 0o644))
	return root
}

// configured is what pam-configure makes of a service of root's.
func configured(t *testing.T, root, service string, text []byte) []byte {
	t.Helper()
	out, err := pamd.Configure(service, text, pamd.Tree{Root: root}.Resolver())
	must(t, err)
	return out
}

func pamFile(t *testing.T, root, s string) []byte {
	data, err := os.ReadFile(filepath.Join(root, "etc/pam.d", s))
	must(t, err)
	return data
}

// TestPamConfigureRoundTrip: every verb on real service files; configure
// twice is once; clean gives back the files byte for byte; backups are
// kept outside the PAM directory.
func TestPamConfigureRoundTrip(t *testing.T) {
	root := scratchRoot(t)
	orig := map[string][]byte{}
	for _, s := range realServices {
		orig[s] = pamFile(t, root, s)
	}
	must(t, os.Chmod(filepath.Join(root, "etc/pam.d/sshd"), 0o640))

	out, _, code := runCLI(t, root, nil, "pam-configure", "--root", root, "--dry-run")
	if code != 0 || !strings.Contains(out, "+auth\trequired\tpam_accesscontrol.so") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	for _, s := range realServices {
		if !bytes.Equal(pamFile(t, root, s), orig[s]) {
			t.Fatalf("--dry-run changed %s", s)
		}
	}
	if out, _, code := runCLI(t, root, nil, "pam-configure", "--root", root); code != 0 {
		t.Fatalf("configure: exit %d\n%s", code, out)
	}
	for _, s := range realServices {
		if got := pamFile(t, root, s); !bytes.Equal(got, configured(t, root, s, orig[s])) {
			t.Errorf("%s:\n%s", s, got)
		}
	}
	if !bytes.Equal(pamFile(t, root, "other"), []byte("auth required pam_deny.so\n")) {
		t.Error("a service not asked for was changed")
	}
	fi, _ := os.Stat(filepath.Join(root, "etc/pam.d/sshd"))
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %o, want 640 kept", fi.Mode().Perm())
	}
	out, _, _ = runCLI(t, root, nil, "pam-configure", "--root", root)
	if strings.Count(out, "unchanged") != len(realServices) {
		t.Errorf("configuring again changed something:\n%s", out)
	}
	out, _, _ = runCLI(t, root, nil, "pam-list", "--root", root)
	if !strings.Contains(out, "* sshd\n") || !strings.Contains(out, "  other\n") {
		t.Errorf("pam-list:\n%s", out)
	}
	out, _, _ = runCLI(t, root, nil, "show-pam-config", "--root", root, "sshd")
	if strings.Count(out, "sshd:") != 3 {
		t.Errorf("show-pam-config:\n%s", out)
	}
	if out, _, code := runCLI(t, root, nil, "make-pam-clean", "--root", root); code != 0 {
		t.Fatalf("clean: exit %d\n%s", code, out)
	}
	for _, s := range realServices {
		if !bytes.Equal(pamFile(t, root, s), orig[s]) {
			t.Errorf("%s is not byte for byte the original after clean", s)
		}
	}
	backups, _ := filepath.Glob(filepath.Join(root, "var/backups/pam-accesscontrol/sshd.*"))
	if len(backups) != 2 {
		t.Errorf("%d backups of sshd, want 2 (configure, clean)", len(backups))
	}
	want, _ := os.ReadDir(filepath.Join(distroDir, "debian12"))
	if entries, _ := os.ReadDir(filepath.Join(root, "etc/pam.d")); len(entries) != len(want)+1 {
		t.Errorf("stray files in the PAM directory: %v", names(entries))
	}
}

// TestPamConfigureRefuses: a symbolic link, a file not owned by root, and
// a live stack whose module line cannot work are refused, with nothing
// changed.
func TestPamConfigureRefuses(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	must(t, os.Rename(filepath.Join(dir, "login"), filepath.Join(root, "login-real")))
	must(t, os.Symlink(filepath.Join(root, "login-real"), filepath.Join(dir, "login")))
	must(t, os.Chown(filepath.Join(dir, "sddm"), 1000, 1000))
	_, stderr, code := runCLI(t, root, nil, "pam-configure", "--root", root, "login", "sddm")
	if code != 1 || !strings.Contains(stderr, "is a symbolic link") || !strings.Contains(stderr, "not owned by root") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// the live system (no --root): the test transaction runs, and with no
	// module installed in the system's module directory it fails
	if _, err := os.Stat("/lib/x86_64-linux-gnu/security/pam_accesscontrol.so"); err == nil {
		t.Skip("the module is installed on this machine")
	}
	before := pamFile(t, root, "sshd")
	_, stderr, code = runCLI(t, root, nil, "pam-configure", "--pam-dir", dir, "sshd")
	if code != 1 || !strings.Contains(stderr, "the module cannot be loaded") || !strings.Contains(stderr, "nothing was changed") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !bytes.Equal(pamFile(t, root, "sshd"), before) {
		t.Error("sshd changed although the check failed")
	}
}

// TestPamConfigureReadOnly: on a read-only file system the write fails
// cleanly and the file is as it was.
func TestPamConfigureReadOnly(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	before := pamFile(t, root, "sshd")
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind -o ro "$0" "$0" && exec "$@"`, dir, cli, "pam-configure", "--root", root, "sshd")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "read-only file system") || !strings.Contains(string(out), "nothing was changed") {
		t.Fatalf("%v\n%s", err, out)
	}
	if !bytes.Equal(pamFile(t, root, "sshd"), before) {
		t.Error("changed")
	}
}

// TestPamConfigureConcurrent: ten runs at once leave one correct file.
func TestPamConfigureConcurrent(t *testing.T) {
	root := scratchRoot(t)
	orig := pamFile(t, root, "sshd")
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			exec.Command(cli, "pam-configure", "--root", root, "sshd").Run()
		}()
	}
	wg.Wait()
	if got := pamFile(t, root, "sshd"); !bytes.Equal(got, configured(t, root, "sshd", orig)) {
		t.Fatalf("after concurrent runs:\n%s", got)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "etc/pam.d"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestShowPamInfo: the package that ships a service file (openssh-server
// ships /etc/pam.d/sshd, which make test installs).
func TestShowPamInfo(t *testing.T) {
	if _, err := os.Stat("/etc/pam.d/sshd"); err != nil {
		testenv.Missing(t, "openssh-server's /etc/pam.d/sshd")
	}
	out, _, code := runCLI(t, "..", nil, "show-pam-info", "sshd")
	if code != 0 || !strings.Contains(out, "/etc/pam.d/sshd: package openssh-server") || !strings.Contains(out, "secure shell") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	out, _, code = runCLI(t, "..", nil, "show-pam-info", "no-such-service")
	if code != 1 || !strings.Contains(out, "no installed package ships it") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

// TestMigratePython: migrate-python makes pam_python.so script lines run
// through our module's interpreter=, leaves other lines alone, and
// make-pam-clean gives the file back byte for byte.
func TestMigratePython(t *testing.T) {
	root := scratchRoot(t)
	svc := filepath.Join(root, "etc/pam.d/otp")
	orig := "auth required pam_unix.so\nauth required pam_python.so /usr/local/lib/otp.py digits=6\naccount required pam_unix.so\n"
	must(t, os.WriteFile(svc, []byte(orig), 0o644))
	out, stderr, code := runCLI(t, root, nil, "migrate-python", "--root", root, "otp")
	if code != 1 || !strings.Contains(stderr, "no such file") {
		t.Fatalf("an interpreter the tree lacks: exit %d\n%s%s", code, out, stderr)
	}
	must(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/bin/python3"), nil, 0o755))
	if out, stderr, code := runCLI(t, root, nil, "migrate-python", "--root", root); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	want := "auth required pam_unix.so\nauth required pam_accesscontrol.so interpreter=/usr/bin/python3 /usr/local/lib/otp.py digits=6\naccount required pam_unix.so\n"
	if got := string(pamFile(t, root, "otp")); got != want {
		t.Fatalf("migrated:\n%s", got)
	}
	if got := string(pamFile(t, root, "sshd")); strings.Contains(got, "interpreter=") {
		t.Errorf("a service without pam_python changed:\n%s", got)
	}
	if out, stderr, code := runCLI(t, root, nil, "make-pam-clean", "--root", root, "otp"); code != 0 || string(pamFile(t, root, "otp")) != orig {
		t.Errorf("clean: exit %d\n%s%s\n%s", code, out, stderr, pamFile(t, root, "otp"))
	}
}

// TestSSHDUsePAMNote: show-pam-config and pam-configure say whether sshd
// runs its PAM lines at all; with UsePAM no (or OpenSSH's default) no rule
// applies to sshd logins, which show-pam-config reports as a warning.
func TestSSHDUsePAMNote(t *testing.T) {
	root := scratchRoot(t)
	config := filepath.Join(root, "etc/ssh/sshd_config")
	must(t, os.MkdirAll(filepath.Dir(config), 0o755))
	for _, tt := range []struct {
		config, say string
		warn        bool
	}{
		{"Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n", "sshd: UsePAM yes (/etc/ssh/sshd_config:2)", false},
		{"UsePAM no\n", "sshd: warning: UsePAM no (/etc/ssh/sshd_config:1)", true},
		{"PasswordAuthentication yes\n", "sshd's default is no", true},
	} {
		must(t, os.WriteFile(config, []byte(tt.config), 0o644))
		out, _, code := runCLI(t, root, nil, "show-pam-config", "--root", root, "sshd")
		if !strings.Contains(out, tt.say) || (code != 0) != tt.warn {
			t.Errorf("%q: show-pam-config exit %d, want a warning: %v\n%s", tt.config, code, tt.warn, out)
		}
		out, _, _ = runCLI(t, root, nil, "pam-configure", "--root", root, "--dry-run", "sshd")
		if !strings.Contains(out, tt.say) {
			t.Errorf("%q: pam-configure does not say %q:\n%s", tt.config, tt.say, out)
		}
	}
}
