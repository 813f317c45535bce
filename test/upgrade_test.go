package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// previousRelease is the build the upgrade test installs first: the tree as
// it was before the protocol's version handshake, the config cache and the
// package's prerm (2026-11-29).
const previousRelease = "9e3895cfb4097fe5be230a1843f123d950dc7f31"

// TestDebUpgrade (issue 16): the previous release's package is installed
// and its helper daemon serves logins; while logins run in a loop, this
// tree's package is installed over it. No login gets another answer than
// its rules give, before, during or after: the module, helper and daemon
// are of different builds for a while (the old daemon keeps running, as
// it does until systemd restarts it), and the new daemon then takes over.
func TestDebUpgrade(t *testing.T) {
	testenv.Root(t)
	for _, tool := range []string{"dpkg", "dpkg-deb", "git", "pamtester"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, tool)
		}
	}
	if exec.Command("dpkg-query", "-W", "pam-accesscontrol").Run() == nil {
		t.Skip("pam-accesscontrol is installed on this machine; not touching it")
	}
	requireCommit(t, previousRelease, "the previous release")
	old := buildDeb(t, previousRelease, "0.98.0")
	current := buildDeb(t, "", "0.99.0")

	dpkg := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("dpkg", args...).CombinedOutput(); err != nil {
			t.Fatalf("dpkg %v: %v\n%s", args, err, out)
		}
	}
	dpkg("-i", old)
	t.Cleanup(func() { exec.Command("dpkg", "-P", "pam-accesscontrol").Run() })
	conf := "/etc/pam-accesscontrol.d/pam-accesscontrol.conf"
	must(t, os.WriteFile(conf, []byte("DEFAULT:CLOSE\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\n"), 0o644))

	// the installed module by name, its default helper, run directory and
	// daemon socket: as an admin's stack has it
	svc := t.TempDir()
	must(t, os.WriteFile(filepath.Join(svc, "sshd"), []byte("auth required pam_accesscontrol.so\naccount required pam_accesscontrol.so\n"), 0o644))
	const installedHelper = "/usr/libexec/pam-accesscontrol/pam-accesscontrol-helper"
	startInstalledDaemon := func() *exec.Cmd {
		cmd := command(installedHelper, "--daemon")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		must(t, cmd.Start())
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if listening(t, "/run/pam-accesscontrol/helper.sock") {
				return cmd
			}
			if time.Now().After(deadline) {
				t.Fatal("the installed daemon did not listen")
			}
		}
	}
	stopDaemon := func(cmd *exec.Cmd) {
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			cmd.Wait()
		}
	}
	oldDaemon := startInstalledDaemon()
	t.Cleanup(func() { stopDaemon(oldDaemon) })

	// the logins go through libpam's pam_start_confdir in loaddriver
	// (pam_wrapper is not safe for two transactions at once)
	driver := loadDriver(t)
	batch := func() (calls, wrong int, out string) {
		o, err := command(driver, svc, "sshd", "2", "2", "alice=0", "bob=7").CombinedOutput()
		m := loadSummary.FindStringSubmatch(string(o))
		if err != nil || m == nil {
			return 4, 4, fmt.Sprintf("loaddriver: %v: %s", err, o)
		}
		fmt.Sscan(m[1], &calls)
		fmt.Sscan(m[2], &wrong)
		return calls, wrong, string(o)
	}
	// loop runs alice's and bob's logins over and over while step runs,
	// and a second before and after it
	loop := func(what string, step func()) {
		t.Helper()
		var logins, wrong, during atomic.Int64
		var mu sync.Mutex
		var wrongs []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				calls, bad, out := batch()
				logins.Add(int64(calls))
				if bad > 0 {
					wrong.Add(int64(bad))
					mu.Lock()
					wrongs = append(wrongs, fmt.Sprintf("at %s: %s", time.Now().Format("15:04:05.000"), out))
					mu.Unlock()
				}
			}
		}()
		time.Sleep(time.Second)
		before := logins.Load()
		step()
		during.Store(logins.Load() - before)
		time.Sleep(time.Second)
		close(stop)
		wg.Wait()
		t.Logf("%s: %d logins, %d of them during it", what, logins.Load(), during.Load())
		if wrong.Load() != 0 {
			t.Errorf("%s: %d of %d logins got another answer than their rules give: %s", what, wrong.Load(), logins.Load(), strings.Join(wrongs, "; "))
		}
		if during.Load() == 0 {
			t.Errorf("%s: no login ran during it: it shows nothing", what)
		}
	}

	// the package upgraded under the running old daemon, which goes on
	// serving the new module
	loop("dpkg -i of this tree's package over the previous release", func() { dpkg("-i", current) })
	// the previous release's daemon stops at once on SIGTERM (a login in
	// the middle of a call then is denied): it is stopped between logins.
	// This build's finishes its calls first: restarted under the logins,
	// as systemd's try-restart does after an upgrade
	stopDaemon(oldDaemon)
	newDaemon := startInstalledDaemon()
	t.Cleanup(func() { stopDaemon(newDaemon) })
	loop("the daemon restarted (SIGTERM, then a new one)", func() {
		syscall.Kill(newDaemon.Process.Pid, syscall.SIGTERM)
		if err := newDaemon.Wait(); err != nil {
			t.Errorf("the daemon stopped with %v", err)
		}
		time.Sleep(300 * time.Millisecond) // no daemon: the modules run the helper
		newDaemon = startInstalledDaemon()
	})
	out, _ := exec.Command("dpkg-query", "-W", "-f", "${Version}", "pam-accesscontrol").Output()
	if string(out) != "0.99.0" {
		t.Errorf("installed version %q after the upgrade", out)
	}
}

// buildDeb builds the Debian package of commit ("" for this tree) as
// version, and returns its path.
func buildDeb(t *testing.T, commit, version string) string {
	t.Helper()
	tree, build := "..", filepath.Join(t.TempDir(), "build")
	if commit != "" {
		tree = t.TempDir()
		out, err := exec.Command("sh", "-c", `git -C .. archive "$0" | tar -x -C "$1"`, commit, tree).CombinedOutput()
		if _, statErr := os.Stat(filepath.Join(tree, "Makefile")); err != nil || statErr != nil {
			t.Fatalf("git archive %s: %v %v\n%s", commit, err, statErr, out)
		}
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", tree, "deb", "BUILD="+build, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make deb (%s): %v\n%s", commit, err, out)
	}
	// the previous release made one package in build/, this tree makes
	// the server's and the notifier's in build/pkg-deb/: the server's it is
	debs, _ := filepath.Glob(filepath.Join(build, "pam-accesscontrol_"+version+"_*.deb"))
	if more, _ := filepath.Glob(filepath.Join(build, "pkg-deb", "pam-accesscontrol_"+version+"_*.deb")); len(more) > 0 {
		debs = append(debs, more...)
	}
	if len(debs) != 1 {
		t.Fatalf("no package of version %s in %s", version, build)
	}
	return debs[0]
}
