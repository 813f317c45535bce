package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// missingInput matches cc's complaint about a header or library that is
// not installed, as opposed to an error in the program.
var missingInput = regexp.MustCompile(`fatal error: (\S+): No such file or directory|cannot find (-l\S+)`)

// BuildC compiles the C program src with cc -std=gnu11 -Wall -Werror,
// the arguments after it (more sources, "-lpam") coming last, and returns
// the program's path. A missing cc, header or library skips the test
// (fails it under PAMAC_REQUIRE_TOOLS=1); any other failure fails it.
func BuildC(t testing.TB, src string, args ...string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		Missing(t, "cc (Debian package gcc)")
	}
	dir := t.TempDir()
	c, bin := filepath.Join(dir, "prog.c"), filepath.Join(dir, "prog")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cc, append([]string{"-std=gnu11", "-Wall", "-Werror", "-o", bin, c}, args...)...).CombinedOutput()
	if err != nil {
		if m := missingInput.FindSubmatch(out); m != nil {
			Missing(t, string(m[1])+string(m[2])+" (Debian package libpam0g-dev for PAM's)")
		}
		t.Fatalf("cc: %v\n%s\nsource:\n%s", err, out, src)
	}
	return bin
}

// RunC builds src as BuildC does, runs it in the C locale and returns its
// standard output.
func RunC(t testing.TB, src string, args ...string) string {
	t.Helper()
	cmd := exec.Command(BuildC(t, src, args...))
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=/usr/bin:/bin"}
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the C program: %v", err)
	}
	return string(stdout)
}
