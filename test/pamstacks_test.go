package test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/pamd"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// stackServices are the services pam-configure is tried on, in each
// distribution's files that ship them.
var stackServices = []string{"sshd", "login", "su", "sudo", "polkit-1", "gdm-password", "sddm", "lightdm",
	"xrdp-sesman", "cockpit", "vsftpd"}

const distroDir = "../installer/pamd/testdata/distros"

// fixtureGaps are the includes SOURCES.md lists as not collected, by
// distro/service: such a service is skipped by name. Any other include
// the fixtures lack is a fixture missing from this tree (a file left out
// of a commit), which fails under PAMAC_REQUIRE_TOOLS=1.
var fixtureGaps = map[string][]string{
	// openSUSE's xdm ships its PAM file inside xdm.tar.bz2, which the
	// search index does not hold as text
	"opensuse/lightdm": {"xdm"},
}

// TestDistroStacks: each distribution's real service files, configured by
// pam-configure, then run through real libpam with every other module made
// pam_permit.so under its own control (the path on which a sufficient or a
// jump would skip us): our rules decide in every phase that has our line,
// CLOSE refuses and OPEN lets in; show-pam-config sees nothing to warn
// about; make-pam-clean gives back the same bytes.
func TestDistroStacks(t *testing.T) {
	driver := buildOnce(t, "phasedriver", "cc", "-Wall", "-Werror", "-o", "OUT", "phasedriver/phasedriver.c", "-lpam")
	distros, err := os.ReadDir(distroDir)
	must(t, err)
	tried := 0
	for _, d := range distros {
		if !d.IsDir() {
			continue
		}
		for _, service := range stackServices {
			if _, err := os.Stat(filepath.Join(distroDir, d.Name(), service)); err != nil {
				continue
			}
			tried++
			t.Run(d.Name()+"/"+service, func(t *testing.T) {
				checkDistroStack(t, driver, d.Name(), service)
			})
		}
	}
	if tried < 40 {
		t.Fatalf("only %d service files tried", tried)
	}
}

func checkDistroStack(t *testing.T, driver, distro, service string, configureArgs ...string) {
	root := distroRoot(t, distro)
	missing, gap := missingIncludes(t, root, service), fixtureGaps[distro+"/"+service]
	switch {
	case gap != nil && slices.Equal(missing, gap):
		t.Skipf("the fixtures lack %v, which %s includes: not collected (see %s/SOURCES.md)", missing, service, distroDir)
	case gap != nil:
		t.Fatalf("fixtureGaps says %s/%s lacks %v, the fixtures lack %v: update fixtureGaps and SOURCES.md", distro, service, gap, missing)
	case len(missing) > 0:
		testenv.Missing(t, fmt.Sprintf("fixtures %v, which %s/%s includes (see %s/SOURCES.md)", missing, distro, service, distroDir))
	}
	orig := pamFile(t, root, service)
	if out, stderr, code := runCLI(t, root, nil, append([]string{"pam-configure", "--root", root, service}, configureArgs...)...); code != 0 {
		t.Fatalf("pam-configure: exit %d\n%s%s", code, out, stderr)
	}
	configured := pamFile(t, root, service)
	if out, _, code := runCLI(t, root, nil, "show-pam-config", "--root", root, service); code != 0 || strings.Contains(out, "warning") {
		t.Errorf("show-pam-config: exit %d\n%s", code, out)
	}
	for _, verdict := range []string{"CLOSE", "OPEN"} {
		dir := t.TempDir()
		rules := filepath.Join(dir, "rules.conf")
		must(t, os.WriteFile(rules, []byte("DEFAULT:"+verdict+"\n"), 0o644))
		r, err := pamd.Rehearse(service, configured, pamd.Tree{Root: root}.Resolver(), dir, shim,
			"helper="+helper, "conf="+rules, "socket=none", "rundir="+filepath.Join(dir, "run"), "logdir="+dir)
		must(t, err)
		for name, text := range r.Files {
			must(t, os.WriteFile(filepath.Join(dir, name), text, 0o644))
		}
		if !slices.Contains(r.Types, "account") || (!slices.Contains(r.Types, "auth") && !slices.Contains(r.Types, "session")) {
			t.Fatalf("our lines are in %v only:\n%s", r.Types, configured)
		}
		for _, typ := range r.Types {
			want := 0
			if verdict == "CLOSE" {
				want = map[string]int{"auth": 7, "account": 6, "session": 6}[typ]
			}
			mark := sink.Mark()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			all := append(sink.Wrap(), driver, dir, service, "root", typ)
			out, err := exec.CommandContext(ctx, all[0], all[1:]...).CombinedOutput()
			cancel()
			if err != nil || strings.TrimSpace(string(out)) != fmt.Sprintf("%s %d", typ, want) {
				t.Fatalf("%s under DEFAULT:%s: %v %q, want code %d\n%s\nlog: %q", typ, verdict, err, out, want, r.Files[service], sink.Since(mark))
			}
			phase := map[string]string{"auth": "auth", "account": "account", "session": "open_session"}[typ]
			if n := len(grep(sink.Since(mark), phase+": "+verdict+" for \"root\"")); n != 1 {
				t.Errorf("%s under DEFAULT:%s: %d decision lines, want 1: our rules did not decide", typ, verdict, n)
			}
		}
	}
	if out, stderr, code := runCLI(t, root, nil, "make-pam-clean", "--root", root, service); code != 0 {
		t.Fatalf("make-pam-clean: exit %d\n%s%s", code, out, stderr)
	}
	if !bytes.Equal(pamFile(t, root, service), orig) {
		t.Errorf("not the same bytes after make-pam-clean:\n%s", pamFile(t, root, service))
	}
}

// TestDistroStacksTokens: sshd of each distribution configured with
// pam-configure --tokens only and or-password: the same proof as
// TestDistroStacks (our rules decide each phase once: the token line lets
// a login no TOKEN rule names go on without a decision), and make-pam-clean
// gives back the same bytes.
func TestDistroStacksTokens(t *testing.T) {
	driver := buildOnce(t, "phasedriver", "cc", "-Wall", "-Werror", "-o", "OUT", "phasedriver/phasedriver.c", "-lpam")
	distros, err := os.ReadDir(distroDir)
	must(t, err)
	tried := 0
	for _, d := range distros {
		if _, err := os.Stat(filepath.Join(distroDir, d.Name(), "sshd")); !d.IsDir() || err != nil {
			continue
		}
		for _, mode := range []string{"only", "or-password"} {
			tried++
			t.Run(d.Name()+"/"+mode, func(t *testing.T) {
				checkDistroStack(t, driver, d.Name(), "sshd", "--tokens", mode)
			})
		}
	}
	if tried < 8 {
		t.Fatalf("only %d sshd files tried", tried)
	}
}

// distroRoot copies a distribution's PAM directory into root/etc/pam.d.
func distroRoot(t *testing.T, distro string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "etc/pam.d")
	must(t, os.MkdirAll(dir, 0o755))
	entries, err := os.ReadDir(filepath.Join(distroDir, distro))
	must(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(distroDir, distro, e.Name()))
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644))
	}
	return root
}

// missingIncludes names the files service includes, directly or not, that
// root's PAM directory lacks.
func missingIncludes(t *testing.T, root, service string) []string {
	var missing []string
	resolve := pamd.Tree{Root: root}.Resolver()
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		text, err := resolve(name)
		if err != nil {
			missing = append(missing, name)
			return
		}
		for _, l := range strings.Split(string(text), "\n") {
			f := strings.Fields(strings.SplitN(l, "#", 2)[0])
			switch {
			case len(f) >= 2 && f[0] == "@include":
				walk(f[1])
			case len(f) >= 3 && (f[1] == "include" || f[1] == "substack"):
				walk(f[2])
			}
		}
	}
	walk(service)
	return missing
}
