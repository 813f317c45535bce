package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDemo (issue 22): make demo runs its worked example to the end, each
// login with the outcome its rules give, and builds and installs only
// what it runs: the module, helper and command, never the notifier nor
// the GUI development libraries the notifier needs (which took a fresh
// machine's make demo to six minutes).
func TestDemo(t *testing.T) {
	vars := makeVars(t, "DEMO_DEBS", "BASE_DEBS", "BUILD_DEBS")
	if vars["DEMO_DEBS"] == "" || vars["BUILD_DEBS"] == "" {
		t.Fatalf("the Makefile has no DEMO_DEBS or BUILD_DEBS: %q", vars)
	}
	for _, p := range strings.Fields(vars["BUILD_DEBS"]) {
		if slices.Contains(strings.Fields(vars["DEMO_DEBS"]), p) && !slices.Contains(strings.Fields(vars["BASE_DEBS"]), p) {
			t.Errorf("DEMO_DEBS has %s, which only the notifier's build needs", p)
		}
	}

	build := t.TempDir()
	out, err := exec.Command("make", "--no-print-directory", "-C", "..", "demo", "BUILD="+build).CombinedOutput()
	if err != nil {
		t.Fatalf("make demo: %v\n%s", err, out)
	}
	var outcomes []string
	for _, m := range regexp.MustCompile(`(?m)^  => (logged in|refused) `).FindAllSubmatch(out, -1) {
		outcomes = append(outcomes, string(m[1]))
	}
	want := []string{"refused", "logged in", "refused", "logged in", "refused", "refused", // the worked example
		"logged in", "refused", // the plugin
		"refused", "logged in", // the pam_python script
		"logged in"} // the audit trail's session
	if !slices.Equal(outcomes, want) {
		t.Errorf("the demo's logins: %q, want %q\n%s", outcomes, want, out)
	}
	if !strings.Contains(string(out), "check-my-config examples/broken.conf") || !strings.Contains(string(out), "problems found") {
		t.Errorf("the demo did not get to check-my-config:\n%s", out)
	}
	built, err := os.ReadDir(build)
	must(t, err)
	for _, f := range built {
		if strings.Contains(f.Name(), "notifier") {
			t.Errorf("make demo built %s", filepath.Join(build, f.Name()))
		}
	}
}

// makeVars is the value of each of the Makefile's variables names ("" for
// one it does not set).
func makeVars(t *testing.T, names ...string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, name := range names {
		out, err := exec.Command("make", "--no-print-directory", "-s", "-C", "..",
			"--eval", "print-var: ; @echo $("+name+")", "print-var").Output()
		if err != nil {
			t.Fatalf("make print-var %s: %v", name, err)
		}
		vars[name] = strings.TrimSpace(string(out))
	}
	return vars
}
