package test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLeanHelper: the helper the module starts (the lean build) runs an
// ordinary rules file's calls by itself, with no full helper beside it;
// a config with a rule it leaves out (here a plugin) goes to the full
// helper beside it, which decides as always; and when that hand-off
// cannot be made (no full helper, or one others may change) the login is
// denied with one line saying why.
func TestLeanHelper(t *testing.T) {
	const plain = "DEFAULT:CLOSE\nSSHD OPEN USER root\n"
	const plugin = "DEFAULT:CLOSE\nSSHD allow USER root\n"
	for _, tt := range []struct {
		name  string
		rules string
		full  os.FileMode // the full helper's mode beside the lean one; 0 for none
		in    bool
		log   []string // in one line of the helper's
	}{
		{name: "plain rules, lean alone", rules: plain, in: true},
		{name: "a plugin, handed to the full helper", rules: plugin, full: 0o755, in: true,
			log: []string{"lean helper: handing the call to ", "pam-accesscontrol-helper-full: ", "rules.conf:2: a PLUGIN rule"}},
		{name: "a plugin, no full helper", rules: plugin, in: false,
			log: []string{"lean helper: cannot hand on to the full helper: stat ", "pam-accesscontrol-helper-full: no such file or directory; denying"}},
		{name: "a plugin, a full helper others may change", rules: plugin, full: 0o775, in: false,
			log: []string{"lean helper: cannot hand on to the full helper: ", "is not a root-owned file writable only by its owner; denying"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, tt.rules)
			bin := filepath.Join(s.dir, "bin")
			must(t, os.Mkdir(bin, 0o755))
			lean := filepath.Join(bin, "pam-accesscontrol-helper")
			copyFile(t, helper, lean, 0o755)
			if tt.full != 0 {
				copyFile(t, filepath.Join(buildDir, "pam-accesscontrol-helper-full"), filepath.Join(bin, "pam-accesscontrol-helper-full"), tt.full)
			}
			plugins := filepath.Join(s.dir, "plugins")
			must(t, os.Mkdir(plugins, 0o755))
			must(t, os.WriteFile(filepath.Join(plugins, "allow.star"), []byte("def decide(ctx):\n    return \"OPEN\"\n"), 0o644))
			line := s.moduleLine("helper="+lean, "debug")
			s.service(t, "sshd", "auth required "+line+"\n")
			mark := sink.Mark()
			out, code := s.pamtester(t, nil, "sshd", "root", "authenticate")
			lines := sink.Since(mark)
			if in := code == 0; in != tt.in {
				t.Fatalf("logged in %v, want %v:\n%s\n%s", in, tt.in, out, strings.Join(lines, "\n"))
			}
			handed := grep(lines, "lean helper:")
			if tt.log == nil && len(handed) != 0 {
				t.Errorf("the lean helper handed an ordinary config's call on: %q", handed)
			}
			if tt.log != nil && len(grep(handed, tt.log...)) != 1 {
				t.Errorf("want one line with %q, got %q\nall: %s", tt.log, handed, strings.Join(lines, "\n"))
			}
			if !tt.in && len(grep(lines, "pam_accesscontrol(sshd:auth)", "helper closed the connection", "denying")) != 1 {
				t.Errorf("the module did not deny for the failed hand-off:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}

// copyFile copies a program with the given mode.
func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	must(t, err)
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	must(t, out.Close())
	must(t, os.Chmod(to, mode)) // past the umask
}
