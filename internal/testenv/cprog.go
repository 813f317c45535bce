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

// RunC compiles the C program src with cc, the arguments after it (such
// as "-lpam") coming last, runs it with env added to a C-locale
// environment and returns its standard output. A missing cc, header or
// library skips the test (fails it under PAMAC_REQUIRE_TOOLS=1); any other
// failure fails it.
func RunC(t testing.TB, src string, args []string, env ...string) string {
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
	out, err := exec.Command(cc, append([]string{"-Wall", "-Werror", "-o", bin, c}, args...)...).CombinedOutput()
	if err != nil {
		if m := missingInput.FindSubmatch(out); m != nil {
			what := string(m[1]) + string(m[2])
			Missing(t, what+" (Debian package libpam0g-dev for PAM's)")
		}
		t.Fatalf("cc: %v\n%s\nsource:\n%s", err, out, src)
	}
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"LC_ALL=C", "LANG=C", "PATH=/usr/bin:/bin"}, env...)
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("running the C program: %v", err)
	}
	return string(stdout)
}
