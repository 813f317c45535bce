package test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestDeb builds the two Debian packages, installs them on this machine,
// runs the installed command, configures the live sshd stack, removes the
// desktop package and then the server's (its PAM lines go first, so sshd
// logins keep working; only the conffile and the backups stay) and purges
// it (nothing stays: not the config, the backups, nor what the programs
// made at run time, an outbox with events waiting in it, the run
// directory, the monthly log). The packages never touch /etc/pam.d but to take
// their lines out. A server's package pulls no GUI library.
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
	base, notifier := makePackages(t, "deb")
	pamBefore, _ := exec.Command("sh", "-c", "cat /etc/pam.d/* | md5sum").Output()
	dpkg := func(args ...string) string {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dpkg %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	field := func(deb, name string) string {
		out, err := exec.Command("dpkg-deb", "-f", deb, name).Output()
		must(t, err)
		return strings.TrimSpace(string(out))
	}
	// the dependencies are what the binaries link
	if d := field(base, "Depends"); !strings.Contains(d, "libpam0g") || !strings.Contains(d, "libc6") ||
		strings.Contains(d, "libgl") || strings.Contains(d, "libx11") {
		t.Errorf("pam-accesscontrol depends on %q: want libc6 and libpam0g, no GUI library", d)
	}
	if d := field(notifier, "Depends"); !strings.Contains(d, "pam-accesscontrol (= ") || !strings.Contains(d, "libgl1") || !strings.Contains(d, "libx11-6") ||
		!strings.Contains(d, "libwayland-client0") || !strings.Contains(d, "libxkbcommon0") || !strings.Contains(d, "libxcursor1") {
		t.Errorf("pam-accesscontrol-notifier depends on %q: want this pam-accesscontrol, what both builds link (libgl1, libx11-6, libwayland-client0) and what GLFW opens (libxkbcommon0, libxcursor1…)", d)
	}
	contents, err := exec.Command("dpkg-deb", "-c", base).Output()
	must(t, err)
	for _, l := range strings.Split(string(contents), "\n") {
		if strings.Contains(l, "/pam-accesscontrol-notifier") || strings.Contains(l, "dbus-1") || strings.Contains(l, "autostart") {
			t.Errorf("the server's package holds a desktop file: %s", l)
		}
	}

	if out := dpkg("-i", base); strings.Contains(out, "check-my-config found problems") {
		t.Errorf("the installation found problems in the default config:\n%s", out)
	}
	t.Cleanup(func() { exec.Command("dpkg", "-P", "pam-accesscontrol-notifier", "pam-accesscontrol").Run() })
	conf := "/etc/pam-accesscontrol.d/pam-accesscontrol.conf"
	shipped := mustRead(t, conf)
	// the rules are a conffile: an upgrade keeps the admin's (below)
	if out, err := exec.Command("dpkg-query", "--control-show", "pam-accesscontrol", "conffiles").Output(); err != nil ||
		!slices.Contains(strings.Fields(string(out)), conf) {
		t.Errorf("%s is not a conffile: %v %s", conf, err, out)
	}
	// an upgrade over rules with a broken CLOSE line (issue 21) says that
	// sshd logins are refused until the line is fixed, and succeeds
	must(t, os.WriteFile(conf, []byte("DEFAULT:OPEN\nSSHD CLOSE USER alice bob\nSSHD OPEN USER carol dave\n"), 0o644))
	upgrade := dpkg("-i", base)
	for _, want := range []string{
		"pam-accesscontrol: check-my-config found problems in the login rules:\n",
		"  " + conf + ":2: error: a rule has exactly 4 fields (SERVICE OPTION TARGET LIST), this line has 5; list entries are separated " +
			"by commas without blanks; a broken CLOSE rule could have kept logins out: every SSHD login (sshd with a password or " +
			"keyboard-interactive) is refused until this line is fixed\n      SSHD CLOSE USER alice bob\n",
		"  " + conf + ":3: ignored: ",
		"pam-accesscontrol: the logins each \"error\" line above names are REFUSED until that line is fixed.\n",
	} {
		if !strings.Contains(upgrade, want) {
			t.Errorf("the upgrade's output lacks %q:\n%s", want, upgrade)
		}
	}
	if got := mustRead(t, conf); !strings.Contains(string(got), "SSHD OPEN USER carol dave") {
		t.Errorf("the upgrade did not keep the admin's rules:\n%s", got)
	}
	must(t, os.WriteFile(conf, shipped, 0o644))
	if _, err := os.Stat("/usr/bin/pam-accesscontrol-notifier"); err == nil {
		t.Error("the server's package installed the notifier")
	}
	dpkg("-i", notifier)
	for _, f := range []string{"/usr/bin/pam-accesscontrol-notifier", "/usr/share/dbus-1/system.d/org.pamaccesscontrol.Notifier.conf"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("the notifier's package did not install %s", f)
		}
	}
	if out, err := exec.Command("dpkg-query", "--control-show", "pam-accesscontrol-notifier", "conffiles").Output(); err != nil ||
		!strings.Contains(string(out), "/etc/xdg/autostart/pam-accesscontrol-notifier.desktop") {
		t.Errorf("the autostart entry is not a conffile: %v %s", err, out)
	}
	dpkg("-P", "pam-accesscontrol-notifier")
	if _, err := os.Stat("/usr/bin/pam-accesscontrol-notifier"); err == nil {
		t.Error("removing the notifier's package left the notifier")
	}

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
	// serve's services, written whole: their rehearsal (real libpam, the
	// installed module) passes too
	if out, err := exec.Command("/usr/sbin/pam-accesscontrol", "pam-configure", "--pam-dir", pamCopy, "web", "kubernetes").CombinedOutput(); err != nil ||
		strings.Count(string(out), ": written (") != 2 {
		t.Errorf("pam-configure web kubernetes with the module installed: %v\n%s", err, out)
	}
	must(t, os.WriteFile(conf, append(mustRead(t, conf), []byte("SSHD OPEN USER admin\n")...), 0o644))
	made := installedLogins(t, conf)

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
	// what waits to be sent is data: kept until purge
	if n := outboxItems(t); n != made.waiting {
		t.Errorf("after remove the outbox holds %d items, want the %d that waited", n, made.waiting)
	}
	must(t, os.Remove(made.key)) // the admin's, not the package's
	purge := dpkg("-P", "pam-accesscontrol")
	if want := fmt.Sprintf("purge drops %d audit events and mails that were not sent yet", made.waiting); !strings.Contains(purge, want) {
		t.Errorf("the purge did not say %q:\n%s", want, purge)
	}
	// nothing the package or its programs made stays: the outbox with
	// its items, the run directory, the monthly log
	for _, pattern := range []string{"/var/spool/pam-accesscontrol", "/run/pam-accesscontrol", "/var/log/pam-accesscontrol-*.log",
		"/etc/pam-accesscontrol.d"} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("left after purge: %v", left)
		}
	}
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

// installedRun is what logins through the installed module left.
type installedRun struct {
	waiting int    // items in the outbox
	key     string // the webhook's key file
}

// installedLogins runs logins through the installed module, by name and
// with its defaults, as an admin's stack has it, with a webhook that is
// down in conf: the programs make their run directory, monthly log and
// outbox, where the events wait, as on a real machine.
func installedLogins(t *testing.T, conf string) installedRun {
	t.Helper()
	run := installedRun{key: filepath.Join(filepath.Dir(conf), "webhook.key")}
	must(t, os.WriteFile(run.key, []byte("k3y"), 0o600))
	t.Cleanup(func() { os.Remove(run.key) })
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	down := "http://" + closed.Addr().String() + "/hook"
	closed.Close() // nobody listens there: the webhook is down
	must(t, os.WriteFile(conf, append(mustRead(t, conf), []byte("WEBHOOK:"+down+"\nWEBHOOK_SECRET:"+run.key+
		"\nSSHD OPEN USER alice\nSSHD CLOSE USER bob\n")...), 0o644))
	monthly := "/var/log/pam-accesscontrol-" + time.Now().Format("2006-01") + ".log"
	var before int64
	if fi, err := os.Stat(monthly); err == nil {
		before = fi.Size() // left by an earlier run, or by the original's Python
	}
	svc := t.TempDir()
	must(t, os.WriteFile(filepath.Join(svc, "sshd"), []byte("auth required pam_accesscontrol.so\naccount required pam_accesscontrol.so\n"), 0o644))
	if out, err := command(loadDriver(t), svc, "sshd", "1", "2", "alice=0", "bob=7").CombinedOutput(); err != nil || !loadSummary.Match(out) {
		t.Fatalf("logins through the installed module: %v\n%s", err, out)
	}
	// the deliverer the helper started has tried the webhook and given up
	// once the outbox's lock is free
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		run.waiting = outboxItems(t)
		if run.waiting > 0 && outboxUnlocked() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the logins the outbox holds %d items, its lock free %v", run.waiting, outboxUnlocked())
		}
	}
	if m, _ := filepath.Glob("/run/pam-accesscontrol/*"); len(m) == 0 {
		t.Error("the logins left nothing in /run/pam-accesscontrol")
	}
	if fi, err := os.Stat(monthly); err != nil || fi.Size() <= before {
		t.Errorf("the logins wrote nothing to %s: %v", monthly, err)
	}
	return run
}

// outboxItems counts what waits in the installed package's outbox.
func outboxItems(t *testing.T) int {
	items, err := filepath.Glob("/var/spool/pam-accesscontrol/outbox/[0-9]*.json")
	must(t, err)
	return len(items)
}

// outboxUnlocked says whether no deliverer holds the outbox.
func outboxUnlocked() bool {
	f, err := os.Open("/var/spool/pam-accesscontrol/outbox/.lock")
	if err != nil {
		return true
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

// makePackages runs make FORMAT (deb or rpm) and returns the two packages
// it made: the server's and the notifier's.
func makePackages(t *testing.T, format string) (base, notifier string) {
	t.Helper()
	out, err := exec.Command("make", "--no-print-directory", "-C", "..", format, "BUILD="+buildDir).CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", format, err, out)
	}
	sep := map[string]string{"deb": "_", "rpm": "-"}[format]
	bases, _ := filepath.Glob(filepath.Join(buildDir, "pkg-"+format, "pam-accesscontrol"+sep+"[0-9]*."+format))
	notifiers, _ := filepath.Glob(filepath.Join(buildDir, "pkg-"+format, "pam-accesscontrol-notifier"+sep+"*."+format))
	if len(bases) != 1 || len(notifiers) != 1 {
		t.Fatalf("make %s made %v and %v, want one package each", format, bases, notifiers)
	}
	return bases[0], notifiers[0]
}

// TestLintian: Debian's own checker finds no error in either package.
func TestLintian(t *testing.T) {
	if _, err := exec.LookPath("lintian"); err != nil {
		testenv.Missing(t, "lintian")
	}
	base, notifier := makePackages(t, "deb")
	out, err := exec.Command("lintian", "--fail-on", "error", "--tag-display-limit", "0", base, notifier).CombinedOutput()
	if err != nil {
		t.Errorf("lintian: %v\n%s", err, out)
	}
	t.Logf("lintian:\n%s", out)
}

// TestRPM: the same two packages as .rpm: what the binaries link as their
// requirements (the server's without GUI libraries), the config and the
// autostart entry as config files, the module where Fedora keeps PAM
// modules; installed into a scratch root and erased again.
func TestRPM(t *testing.T) {
	testenv.Root(t)
	if _, err := exec.LookPath("rpm"); err != nil {
		testenv.Missing(t, "rpm")
	}
	base, notifier := makePackages(t, "rpm")
	query := func(pkg string, args ...string) string {
		out, err := exec.Command("rpm", append([]string{"-qp"}, append(args, pkg)...)...).Output()
		if err != nil {
			t.Fatalf("rpm -qp %v %s: %v", args, pkg, err)
		}
		return string(out)
	}
	if r := query(base, "--requires"); !strings.Contains(r, "libpam.so.0()(64bit)") || !strings.Contains(r, "libc.so.6()") || strings.Contains(r, "libGL") || strings.Contains(r, "libX11") {
		t.Errorf("pam-accesscontrol requires:\n%s\nwant libc and libpam, no GUI library", r)
	}
	if r := query(notifier, "--requires"); !strings.Contains(r, "pam-accesscontrol = ") || !strings.Contains(r, "libGL.so.1") || !strings.Contains(r, "libX11.so.6") ||
		!strings.Contains(r, "libxkbcommon.so.0()(64bit)") {
		t.Errorf("pam-accesscontrol-notifier requires:\n%s\nwant this pam-accesscontrol, libGL and libX11", r)
	}
	if c := query(base, "--configfiles"); !strings.Contains(c, "/etc/pam-accesscontrol.d/pam-accesscontrol.conf") {
		t.Errorf("pam-accesscontrol's config files: %q", c)
	}
	if c := query(notifier, "--configfiles"); !strings.Contains(c, "/etc/xdg/autostart/pam-accesscontrol-notifier.desktop") {
		t.Errorf("pam-accesscontrol-notifier's config files: %q", c)
	}
	if s := query(base, "--scripts"); !strings.Contains(s, "remove-pam-lines") {
		t.Errorf("the erase scriptlet does not take the PAM lines out:\n%s", s)
	}
	if s := query(base, "--scripts"); !strings.Contains(s, "/usr/libexec/pam-accesscontrol/check-rules") {
		t.Errorf("the install scriptlet does not print check-my-config's findings:\n%s", s)
	}

	// a scratch root: no dependencies there to check, no scriptlets to run
	root := t.TempDir()
	rpm := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("rpm", append([]string{"--root", root, "--dbpath", "/var/lib/rpm"}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("rpm %v: %v\n%s", args, err, out)
		}
	}
	rpm("--initdb")
	rpm("-i", "--nodeps", "--noscripts", base, notifier)
	for _, f := range []string{"usr/lib64/security/pam_accesscontrol.so", "usr/libexec/pam-accesscontrol/pam-accesscontrol-helper",
		"usr/libexec/pam-accesscontrol/pam-accesscontrol-helper-full",
		"usr/sbin/pam-accesscontrol", "usr/lib/systemd/system/pam-accesscontrol-helper.socket",
		"etc/pam-accesscontrol.d/pam-accesscontrol.conf", "usr/bin/pam-accesscontrol-notifier", "usr/share/man/man8/pam_accesscontrol.8.gz"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("not installed: %s", f)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "var/spool/pam-accesscontrol")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the outbox directory: %v, %v; want 0700", fi.Mode(), err)
	}
	rpm("-e", "--nodeps", "--noscripts", "pam-accesscontrol-notifier", "pam-accesscontrol")
	for _, f := range []string{"usr/lib64/security/pam_accesscontrol.so", "usr/bin/pam-accesscontrol-notifier"} {
		if _, err := os.Stat(filepath.Join(root, f)); err == nil {
			t.Errorf("left after erase: %s", f)
		}
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
	for _, f := range []string{"usr/sbin/pam-accesscontrol", "usr/libexec/pam-accesscontrol/pam-accesscontrol-helper", "usr/libexec/pam-accesscontrol/check-rules",
		"usr/libexec/pam-accesscontrol/pam-accesscontrol-helper-full",
		"usr/bin/pam-accesscontrol-notifier", "usr/libexec/pam-accesscontrol/pam-accesscontrol-notifier-x11",
		"usr/libexec/pam-accesscontrol/pam-accesscontrol-notifier-wayland", "usr/share/dbus-1/system.d/org.pamaccesscontrol.Notifier.conf",
		"etc/xdg/autostart/pam-accesscontrol-notifier.desktop", "usr/share/man/man8/pam-accesscontrol.8",
		"usr/share/man/man8/pam_accesscontrol.8", "usr/share/man/man5/pam-accesscontrol.conf.5",
		"usr/share/bash-completion/completions/pam-accesscontrol",
		"usr/lib/systemd/system/pam-accesscontrol-deliver.timer", "usr/lib/systemd/system/pam-accesscontrol-deliver.service",
		"usr/lib/systemd/system/pam-accesscontrol-deliver.path",
		"usr/lib/systemd/system/pam-accesscontrol-enroll-refresh.timer", "usr/lib/systemd/system/pam-accesscontrol-enroll-refresh.service",
		"usr/lib/systemd/system/pam-accesscontrol-serve.socket", "usr/lib/systemd/system/pam-accesscontrol-serve.service",
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

// TestSystemdUnits: systemd's own checker finds nothing to say about the
// units as make install puts them in place (in a scratch root, with the
// host's targets and slices beside them, so that the helper they run is
// there too).
func TestSystemdUnits(t *testing.T) {
	testenv.Root(t)
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		testenv.Missing(t, "systemd-analyze (systemd)")
	}
	dest := t.TempDir()
	if out, err := exec.Command("make", "--no-print-directory", "-C", "..", "install", "DESTDIR="+dest, "BUILD="+buildDir).CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	units := filepath.Join(dest, "usr/lib/systemd/system")
	ours, _ := filepath.Glob(filepath.Join(units, "pam-accesscontrol-*"))
	if len(ours) != 9 {
		t.Fatalf("units installed: %v, want the helper's and serve's sockets and services, the deliverer's service, timer and path unit, and enrollment's refresh service and timer", ours)
	}
	host, _ := filepath.Glob("/lib/systemd/system/*.target")
	slices, _ := filepath.Glob("/lib/systemd/system/*.slice")
	for _, f := range append(host, slices...) {
		data, err := os.ReadFile(f)
		if err == nil {
			must(t, os.WriteFile(filepath.Join(units, filepath.Base(f)), data, 0o644))
		}
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify", "--root=" + dest, "--man=no"}, ours...)...).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestNotifierLauncher: the installed pam-accesscontrol-notifier starts
// the Wayland build in a Wayland session and the X11 build otherwise,
// whether run by its path (the autostart entry) or found in PATH.
func TestNotifierLauncher(t *testing.T) {
	testenv.Root(t)
	dest := t.TempDir()
	if out, err := exec.Command("make", "--no-print-directory", "-C", "..", "install", "DESTDIR="+dest, "BUILD="+buildDir).CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	libexec := filepath.Join(dest, "usr/libexec/pam-accesscontrol")
	for _, build := range []string{"x11", "wayland"} {
		// a stand-in that says which build started, and with what
		must(t, os.WriteFile(filepath.Join(libexec, "pam-accesscontrol-notifier-"+build), []byte("#!/bin/sh\necho "+build+" \"$@\"\n"), 0o755))
	}
	bin := filepath.Join(dest, "usr/bin")
	launch := func(byPath bool, env ...string) string {
		name := filepath.Join(bin, "pam-accesscontrol-notifier")
		if !byPath {
			name = "pam-accesscontrol-notifier"
		}
		cmd := exec.Command("/bin/sh", "-c", `exec "$0" --x`, name)
		cmd.Env = append(withoutDisplays(os.Environ()), append(env, "PATH="+bin+":/usr/bin:/bin")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the launcher: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	for _, tt := range []struct {
		name   string
		byPath bool
		env    []string
		want   string
	}{
		{"X11 session", true, []string{"DISPLAY=:0"}, "x11 --x"},
		{"Wayland session", true, []string{"WAYLAND_DISPLAY=wayland-0", "DISPLAY=:0"}, "wayland --x"},
		{"Wayland session, found in PATH", false, []string{"WAYLAND_DISPLAY=wayland-0"}, "wayland --x"},
	} {
		if got := launch(tt.byPath, tt.env...); got != tt.want {
			t.Errorf("%s: started %q, want %q", tt.name, got, tt.want)
		}
	}
	must(t, os.Remove(filepath.Join(libexec, "pam-accesscontrol-notifier-wayland")))
	if got := launch(true, "WAYLAND_DISPLAY=wayland-0"); got != "x11 --x" {
		t.Errorf("no Wayland build: started %q, want the X11 one (XWayland)", got)
	}
}

// TestManPages: every man page formats without a warning.
func TestManPages(t *testing.T) {
	if _, err := exec.LookPath("groff"); err != nil {
		testenv.Missing(t, "groff")
	}
	pages, _ := filepath.Glob("../installer/dist/*.[1-8]")
	more, _ := filepath.Glob("../notifier/*.[1-8]")
	pages = append(pages, more...)
	if len(pages) < 4 {
		t.Fatalf("man pages: %v", pages)
	}
	for _, page := range pages {
		out, err := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z", page).CombinedOutput()
		if err != nil || len(out) != 0 {
			t.Errorf("%s: %v\n%s", page, err, out)
		}
	}
}
