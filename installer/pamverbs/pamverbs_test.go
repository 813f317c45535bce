package pamverbs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// debian12 are the services of installer/pamd's Debian 12 tree that
// pam-configure offers with none named.
var debian12 = []string{"gdm-password", "lightdm", "login", "sddm", "sshd"}

// scratchRoot copies Debian 12's PAM directory into root/etc/pam.d, with
// a service "other".
func scratchRoot(t *testing.T) string {
	t.Helper()
	testenv.Root(t) // service files are changed only when root's
	root := t.TempDir()
	dir := filepath.Join(root, "etc/pam.d")
	must(t, os.MkdirAll(dir, 0o755))
	src := "../pamd/testdata/distros/debian12"
	entries, err := os.ReadDir(src)
	must(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644))
	}
	must(t, os.WriteFile(filepath.Join(dir, "other"), []byte("auth required pam_deny.so\n"), 0o644))
	return root
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pamFile(t *testing.T, root, s string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "etc/pam.d", s))
	must(t, err)
	return string(data)
}

type verb func(args []string, stdout, stderr io.Writer) int

func call(v verb, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = v(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// noRehearsal fails a test in which a tree under --root was rehearsed:
// only the live system's new stacks are.
func noRehearsal(t *testing.T) func(pamd.Tree, string, []byte) error {
	return func(pamd.Tree, string, []byte) error {
		t.Error("a stack under --root was rehearsed")
		return nil
	}
}

// TestRoundTrip: configure (dry, then for real, then again), list, show,
// clean; the files come back byte for byte, with a backup of each change.
func TestRoundTrip(t *testing.T) {
	root := scratchRoot(t)
	c := Commands{CheckStack: noRehearsal(t)}
	orig := map[string]string{}
	for _, s := range append(debian12, "other") {
		orig[s] = pamFile(t, root, s)
	}

	out, errOut, code := call(c.Configure, "--root", root, "--dry-run")
	if code != 0 || errOut != "" || !strings.Contains(out, "+auth\trequired\tpam_accesscontrol.so") ||
		!strings.Contains(out, "--- "+filepath.Join(root, "etc/pam.d/sshd")) {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for s, text := range orig {
		if pamFile(t, root, s) != text {
			t.Fatalf("--dry-run changed %s", s)
		}
	}

	out, errOut, code = call(c.Configure, "--root", root)
	if code != 0 || errOut != "" || strings.Count(out, ": changed (the old file is ") != len(debian12) {
		t.Fatalf("configure: exit %d\n%s%s", code, out, errOut)
	}
	for _, s := range debian12 {
		want, err := pamd.Configure(s, []byte(orig[s]), pamd.Tree{Root: root}.Resolver())
		must(t, err)
		if pamFile(t, root, s) != string(want) {
			t.Errorf("%s is not what pamd.Configure makes of it", s)
		}
	}
	if pamFile(t, root, "other") != orig["other"] {
		t.Error("a service not offered was changed")
	}
	out, _, code = call(c.Configure, "--root", root)
	if code != 0 || strings.Count(out, ": unchanged") != len(debian12) {
		t.Errorf("configuring again: exit %d\n%s", code, out)
	}

	out, _, code = call(c.List, "--root", root)
	if code != 0 || !strings.Contains(out, "* sshd\n") || !strings.Contains(out, "  other\n") ||
		!strings.HasSuffix(out, "(* has pam-accesscontrol)\n") {
		t.Errorf("pam-list: exit %d\n%s", code, out)
	}
	out, _, code = call(c.ShowConfig, "--root", root, "sshd")
	if code != 0 || strings.Count(out, "sshd:") != 3 || !strings.Contains(out, "pam_accesscontrol.so") {
		t.Errorf("show-pam-config: exit %d\n%s", code, out)
	}

	out, errOut, code = call(c.Clean, "--root", root)
	if code != 0 || errOut != "" || strings.Count(out, ": changed") != len(debian12) {
		t.Fatalf("clean: exit %d\n%s%s", code, out, errOut)
	}
	for s, text := range orig {
		if pamFile(t, root, s) != text {
			t.Errorf("%s is not byte for byte the original after clean", s)
		}
	}
	if backups, _ := filepath.Glob(filepath.Join(root, "var/backups/pam-accesscontrol/sshd.*")); len(backups) != 2 {
		t.Errorf("%d backups of sshd, want 2 (configure, clean)", len(backups))
	}
	if out, _, code := call(c.Clean, "--root", root); code != 0 || out != "make-pam-clean: no service to change\n" {
		t.Errorf("nothing to clean: exit %d\n%s", code, out)
	}
}

// TestShowConfigWarns: a line of ours the stack can jump over, and sshd
// without UsePAM, are warnings (exit 1).
func TestShowConfigWarns(t *testing.T) {
	root := scratchRoot(t)
	c := Commands{}
	must(t, os.WriteFile(filepath.Join(root, "etc/pam.d/skip"),
		[]byte("auth [success=1 default=ignore] pam_unix.so\nauth required pam_accesscontrol.so\nauth required pam_permit.so\n"), 0o644))
	out, _, code := call(c.ShowConfig, "--root", root, "skip")
	if code != 1 || !strings.Contains(out, "skip:2: auth required pam_accesscontrol.so\n") ||
		!strings.Contains(out, `skip:2: warning: line 2 "auth required pam_accesscontrol.so" can be skipped`) {
		t.Errorf("a skippable line: exit %d\n%s", code, out)
	}
	config := filepath.Join(root, "etc/ssh/sshd_config")
	must(t, os.MkdirAll(filepath.Dir(config), 0o755))
	for _, tt := range []struct {
		config, say string
		code        int
	}{
		{"UsePAM yes\n", "sshd: UsePAM yes (/etc/ssh/sshd_config:1)", 0},
		{"UsePAM no\n", "sshd: warning: UsePAM no (/etc/ssh/sshd_config:1)", 1},
	} {
		must(t, os.WriteFile(config, []byte(tt.config), 0o644))
		if out, _, code := call(c.ShowConfig, "--root", root, "sshd"); code != tt.code || !strings.Contains(out, tt.say) {
			t.Errorf("%q: exit %d\n%s", tt.config, code, out)
		}
	}
	if out, _, code := call(c.ShowConfig, "--root", root, "gone"); code != 0 || !strings.HasPrefix(out, "gone: open ") {
		t.Errorf("a service that is not there: exit %d\n%s", code, out)
	}
}

// TestConfigureLive: on the live system (no --root) a new stack is
// rehearsed before it is written, and one that fails its rehearsal is
// not written.
func TestConfigureLive(t *testing.T) {
	root := scratchRoot(t)
	dir := filepath.Join(root, "etc/pam.d")
	before := pamFile(t, root, "sshd")
	var rehearsed []string
	c := Commands{CheckStack: func(_ pamd.Tree, service string, text []byte) error {
		rehearsed = append(rehearsed, service)
		if !strings.Contains(string(text), "pam_accesscontrol.so") {
			t.Errorf("rehearsed %s without our lines", service)
		}
		return errors.New("a test auth transaction failed: the module cannot be loaded (PAM code 28); nothing was changed")
	}}
	_, errOut, code := call(c.Configure, "--pam-dir", dir, "sshd")
	if code != 1 || errOut != "pam-configure: "+filepath.Join(dir, "sshd")+": a test auth transaction failed: the module cannot be loaded (PAM code 28); nothing was changed\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if len(rehearsed) != 1 || rehearsed[0] != "sshd" {
		t.Errorf("rehearsed %v", rehearsed)
	}
	if pamFile(t, root, "sshd") != before {
		t.Error("sshd changed although its rehearsal failed")
	}
}

func TestMigratePython(t *testing.T) {
	root := scratchRoot(t)
	c := Commands{CheckStack: noRehearsal(t)}
	orig := "auth required pam_unix.so\nauth required pam_python.so /usr/local/lib/otp.py digits=6\naccount required pam_unix.so\n"
	must(t, os.WriteFile(filepath.Join(root, "etc/pam.d/otp"), []byte(orig), 0o644))
	if _, errOut, code := call(c.MigratePython, "--root", root, "otp"); code != 1 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("an interpreter the tree lacks: exit %d\n%s", code, errOut)
	}
	for _, bad := range []string{"python3", "/usr/bin/python 3"} {
		if _, errOut, code := call(c.MigratePython, "--root", root, "--interpreter", bad); code != cli.ExitUsage ||
			!strings.Contains(errOut, "must be an absolute path without blanks") {
			t.Errorf("--interpreter %q: exit %d\n%s", bad, code, errOut)
		}
	}
	must(t, os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "usr/bin/python3"), nil, 0o755))
	out, errOut, code := call(c.MigratePython, "--root", root, "--dry-run")
	if code != 0 || !strings.Contains(out, "+auth required pam_accesscontrol.so interpreter=/usr/bin/python3 /usr/local/lib/otp.py digits=6") ||
		strings.Contains(out, "etc/pam.d/sshd") || pamFile(t, root, "otp") != orig {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := call(c.MigratePython, "--root", root); code != 0 {
		t.Fatalf("exit %d", code)
	}
	want := "auth required pam_unix.so\nauth required pam_accesscontrol.so interpreter=/usr/bin/python3 /usr/local/lib/otp.py digits=6\naccount required pam_unix.so\n"
	if got := pamFile(t, root, "otp"); got != want {
		t.Fatalf("migrated:\n%s", got)
	}
	if _, _, code := call(c.Clean, "--root", root, "otp"); code != 0 || pamFile(t, root, "otp") != orig {
		t.Errorf("clean: exit %d\n%s", code, pamFile(t, root, "otp"))
	}
}

func TestShowInfo(t *testing.T) {
	c := Commands{Owner: func(path string) (string, string, error) {
		if strings.HasSuffix(path, "/sshd") {
			return "openssh-server", "secure shell (SSH) server", nil
		}
		return "", "", errors.New("no installed package ships it")
	}}
	out, _, code := call(c.ShowInfo, "sshd", "gone")
	if code != 1 || out != "/etc/pam.d/sshd: package openssh-server\nsecure shell (SSH) server\n/etc/pam.d/gone: no installed package ships it\n" {
		t.Errorf("exit %d\n%s", code, out)
	}
	if out, _, code := call(c.ShowInfo, "--pam-dir", "/usr/lib/pam.d", "sshd"); code != 0 || !strings.HasPrefix(out, "/usr/lib/pam.d/sshd: package") {
		t.Errorf("--pam-dir: exit %d\n%s", code, out)
	}
}

// TestUsage: a command line that cannot be run is exit 64; a tree that
// cannot be read is 1.
func TestUsage(t *testing.T) {
	c := Commands{Owner: func(string) (string, string, error) { return "", "", errors.New("asked") }}
	for _, tt := range []struct {
		name string
		v    verb
		args []string
		code int
		err  string
	}{
		{"pam-list takes no service", c.List, []string{"sshd"}, cli.ExitUsage, ""},
		{"pam-list, an unknown flag", c.List, []string{"--dry-run"}, cli.ExitUsage, "flag provided but not defined: -dry-run"},
		{"show-pam-info names services", c.ShowInfo, nil, cli.ExitUsage, "show-pam-info: name the services"},
		{"show-pam-config has no --dry-run", c.ShowConfig, []string{"--dry-run"}, cli.ExitUsage, "flag provided but not defined"},
		{"pam-configure, an unknown flag", c.Configure, []string{"--force"}, cli.ExitUsage, "flag provided but not defined: -force"},
		{"make-pam-clean, an unknown flag", c.Clean, []string{"--force"}, cli.ExitUsage, "flag provided but not defined: -force"},
		{"pam-list without a PAM directory", c.List, []string{"--root", t.TempDir()}, 1, "pam-list: open "},
		{"show-pam-config without a PAM directory", c.ShowConfig, []string{"--root", t.TempDir()}, 1, "show-pam-config: open "},
		{"pam-configure without a PAM directory", c.Configure, []string{"--root", t.TempDir()}, 1, "pam-configure: open "},
	} {
		if _, errOut, code := call(tt.v, tt.args...); code != tt.code || !strings.Contains(errOut, tt.err) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tt.name, code, errOut, tt.code, tt.err)
		}
	}
}

// pam-configure sshd --tokens MODE (the option after the service too),
// show-pam-config says which mode is in force, make-pam-clean undoes it.
func TestConfigureTokens(t *testing.T) {
	root := scratchRoot(t)
	c := Commands{}
	orig := pamFile(t, root, "sshd")
	for _, mode := range []string{"only", "or-password"} {
		if out, errOut, code := call(c.Configure, "--root", root, "sshd", "--tokens", mode); code != 0 {
			t.Fatalf("%s: %d %s %s", mode, code, out, errOut)
		}
		s := pamFile(t, root, "sshd")
		if strings.Count(s, "tokenline="+mode) != 1 {
			t.Errorf("%s:\n%s", mode, s)
		}
		out, _, _ := call(c.ShowConfig, "--root", root, "sshd")
		if !strings.Contains(out, "single sign-on tokens: "+mode) {
			t.Errorf("show-pam-config:\n%s", out)
		}
	}
	if _, errOut, code := call(c.Configure, "--root", root, "--tokens", "maybe", "sshd"); code != cli.ExitUsage || !strings.Contains(errOut, "want only") {
		t.Errorf("bad mode: %d %s", code, errOut)
	}
	if _, _, code := call(c.Clean, "--root", root, "sshd"); code != 0 {
		t.Fatal("clean")
	}
	if got := pamFile(t, root, "sshd"); got != orig {
		t.Errorf("make-pam-clean did not undo --tokens:\n%s", got)
	}
}
