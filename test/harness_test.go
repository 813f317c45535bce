// Package test holds the integration tests: the built programs run as an
// admin or a host (pamtester, sshd) would run them.
package test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/syslogsink"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// The programs under test, built once by the Makefile into a temporary
// build directory.
var (
	buildDir string
	cli      string // pam-accesscontrol
	shim     string // pam_accesscontrol.so
	helper   string // pam-accesscontrol-helper
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Geteuid() != 0 {
		return withoutRoot(m)
	}
	dir, err := os.MkdirTemp("", "pamac-build")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	make := exec.Command("make", "--no-print-directory", "-C", "..", "build", "BUILD="+dir)
	make.Stdout, make.Stderr = os.Stderr, os.Stderr
	if err := make.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building with make:", err)
		return 1
	}
	buildDir = dir
	cli = filepath.Join(dir, "pam-accesscontrol")
	shim = filepath.Join(dir, "pam_accesscontrol.so")
	helper = filepath.Join(dir, "pam-accesscontrol-helper")
	if sink, err = syslogsink.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "syslog sink (tests run as root):", err)
		return 1
	}
	defer sink.Close()
	return m.Run()
}

// withoutRoot skips every test of the package, saying why: they need
// root (the module trusts only root-owned files; the tests receive syslog
// on /dev/log or in a private mount namespace). go test marks the package
// "[no tests to run]". Under PAMAC_REQUIRE_TOOLS=1 (make test; CI runs as
// root) it fails instead, so a run that tested nothing is never green.
func withoutRoot(m *testing.M) int {
	const why = "the integration tests in test/ need root: the module trusts only root-owned files, " +
		"and the tests receive syslog on /dev/log or in a private mount namespace"
	if testenv.Required() {
		fmt.Fprintf(os.Stderr, "FAIL: %s (PAMAC_REQUIRE_TOOLS=1)\n", why)
		return 1
	}
	fmt.Fprintf(os.Stderr, "SKIP: %s; run them as root\n", why)
	// nothing runs: the testing package then says so itself
	flag.Parse()
	for name, value := range map[string]string{"test.run": "^$", "test.bench": "", "test.fuzz": ""} {
		if err := flag.Set(name, value); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// sink receives what the shim (pam_syslog) and the helper (srslog) log.
var sink *syslogsink.Sink

// grep returns the lines that contain every one of want.
func grep(lines []string, want ...string) []string {
	var out []string
	for _, l := range lines {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// command builds a command whose syslog goes to the sink.
func command(name string, args ...string) *exec.Cmd { return sink.Command(name, args...) }
