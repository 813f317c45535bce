package test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// casefoldEtc is a private /etc whose NSS is case-insensitive for passwd,
// as SSSD's AD provider is: "passwd: files casefold" in nsswitch.conf,
// with test/nsscasefold's module (libnss_casefold.so.2) found by the
// dynamic linker through the private /etc/ld.so.cache, and its one user
// alice in /etc/casefold-passwd. getpwnam("ALICE") finds alice. It
// returns the command prefix that runs a program there.
func casefoldEtc(t *testing.T) []string {
	t.Helper()
	built := buildOnce(t, "libnss_casefold.so.2", "cc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
		"-Wl,-soname,libnss_casefold.so.2", "-o", "OUT", "nsscasefold/nss_casefold.c")
	dir := t.TempDir()
	lib := filepath.Join(dir, "lib")
	must(t, os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(t, os.Mkdir(lib, 0o755))
	data, err := os.ReadFile(built)
	must(t, err)
	must(t, os.WriteFile(filepath.Join(lib, "libnss_casefold.so.2"), data, 0o755))
	conf, err := os.ReadFile("/etc/nsswitch.conf")
	must(t, err)
	passwd := regexp.MustCompile(`(?m)^passwd:.*$`)
	if !passwd.Match(conf) {
		t.Fatalf("/etc/nsswitch.conf has no passwd line:\n%s", conf)
	}
	must(t, os.WriteFile(filepath.Join(dir, "etc", "nsswitch.conf"), passwd.ReplaceAll(conf, []byte("passwd: files casefold")), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "etc", "casefold-passwd"), []byte("alice:x:4801:4801:Alice:/nonexistent:/bin/sh\n"), 0o644))
	prefix := privateEtc(t, dir)
	// ldconfig writes the private /etc's ld.so.cache, with lib in it
	if out, err := exec.Command(prefix[0], append(prefix[1:], "ldconfig", lib)...).CombinedOutput(); err != nil {
		t.Fatalf("ldconfig %s: %v\n%s", lib, err, out)
	}
	out, err := exec.Command(prefix[0], append(prefix[1:], "getent", "passwd", "ALICE")...).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "alice:x:4801:") {
		t.Fatalf("the private NSS does not find alice for ALICE: %v\n%s", err, out)
	}
	return prefix
}

// TestNSSCaseInsensitive plays a client that logs in as ALICE on a host
// whose NSS finds alice for it (SSSD's AD provider, winbind), through
// real libpam and the real helper: `SSHD CLOSE USER alice` refuses ALICE
// as it refuses alice, `SSHD OPEN USER alice` opens ALICE, and the log
// line names both. NSS failing denies even under DEFAULT:OPEN.
func TestNSSCaseInsensitive(t *testing.T) {
	prefix := casefoldEtc(t)
	for _, tt := range []struct {
		name, rules, user string
		code              int
		log               string
	}{
		{"CLOSE USER alice refuses ALICE", "DEFAULT:OPEN\nSSHD CLOSE USER alice\n", "ALICE", 1,
			`CLOSE for "alice" (PAM_USER "ALICE") from "192.0.2.10"`},
		{"CLOSE USER alice refuses Alice", "DEFAULT:OPEN\nSSHD CLOSE USER alice\n", "Alice", 1, `(PAM_USER "Alice")`},
		{"CLOSE USER alice refuses alice", "DEFAULT:OPEN\nSSHD CLOSE USER alice\n", "alice", 1, `CLOSE for "alice" from`},
		{"CLOSE USER alice: another user", "DEFAULT:OPEN\nSSHD CLOSE USER alice\n", "root", 0, `OPEN for "root" from`},
		{"OPEN USER alice opens ALICE", "SSHD OPEN USER alice\n", "ALICE", 0, `OPEN for "alice" (PAM_USER "ALICE")`},
		{"OPEN USER ALICE does not open the account alice", "SSHD OPEN USER ALICE\n", "ALICE", 1, `CLOSE for "alice" (PAM_USER "ALICE")`},
		{"a user NSS does not know: CLOSE by the name as given", "DEFAULT:OPEN\nSSHD CLOSE USER zed\n", "zed", 1, `CLOSE for "zed" from`},
		{"NSS failing denies", "DEFAULT:OPEN\n", "nss-broken", 1,
			`by error: looking up user "nss-broken" in NSS: NSS user lookup: input/output error`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newPAMStack(t, tt.rules)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			mark := sink.Mark()
			out, code := compatPamtester(ctx, t, s, prefix, "", []string{"rhost=192.0.2.10"}, "sshd", tt.user, "authenticate", "acct_mgmt")
			log := strings.Join(sink.Since(mark), "\n")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s\nlog:\n%s", code, tt.code, out, log)
			}
			if len(grep(sink.Since(mark), tt.log)) != 1 {
				t.Errorf("want one line saying %q:\n%s", tt.log, log)
			}
		})
	}
}
