// Package testenv finds the test tools that the Makefile installs (cwrap's
// nss_wrapper and pam_wrapper) and builds the nss_wrapper environment that
// fakes users and groups for a test process without touching /etc.
//
// When a tool is missing, a test is skipped, unless PAMAC_REQUIRE_TOOLS=1
// (set by `make test`): then it fails, so a broken set-up cannot pass as a
// green run that tested nothing. The same holds for anything else a test
// needs that a machine or a clone may lack: root, a pinned commit that a
// shallow clone does not have.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Library returns the absolute path of a shared library in the system's
// library directories, or skips (fails under PAMAC_REQUIRE_TOOLS=1).
func Library(t testing.TB, name string) string {
	t.Helper()
	for _, pattern := range []string{"/usr/lib/*/" + name, "/usr/lib64/" + name, "/usr/lib/" + name} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return m[0]
		}
	}
	Missing(t, name+" (Debian package "+debianPackage[name]+")")
	return ""
}

var debianPackage = map[string]string{
	"libnss_wrapper.so":         "libnss-wrapper",
	"libpam_wrapper.so":         "libpam-wrapper",
	"pam_wrapper/pam_matrix.so": "libpam-wrapper",
}

// Required reports whether a missing tool fails the tests instead of
// skipping them: PAMAC_REQUIRE_TOOLS=1, as `make test` sets.
func Required() bool { return os.Getenv("PAMAC_REQUIRE_TOOLS") == "1" }

// Missing skips the test for want, or fails it when tools are required.
// want says what is missing and, where it is not a tool `make test`
// installs, how to get it.
func Missing(t testing.TB, want string) {
	t.Helper()
	if Required() {
		t.Fatalf("missing: %s (PAMAC_REQUIRE_TOOLS=1 makes this a failure, not a skip; `make test` installs the test tools)", want)
	}
	t.Skipf("skipped, missing: %s", want)
}

// NSSWrapperEnv returns environment entries that make a child process see
// the users and groups of the given passwd and group files through NSS
// (getpwnam, getgrouplist…) instead of the system's.
func NSSWrapperEnv(t testing.TB, passwd, group string) []string {
	t.Helper()
	lib := Library(t, "libnss_wrapper.so")
	return []string{
		"LD_PRELOAD=" + lib,
		"NSS_WRAPPER_PASSWD=" + abs(t, passwd),
		"NSS_WRAPPER_GROUP=" + abs(t, group),
	}
}

func abs(t testing.TB, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Root skips the test unless it runs as root (fails under
// PAMAC_REQUIRE_TOOLS=1): the module trusts only root-owned files, and
// tests that create such files need root.
func Root(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "root privileges")
	}
}
