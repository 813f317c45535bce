package checkconfig

import (
	"os"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestREADMEExample: the README's check-my-config example ("Checking a
// config") is what it prints for examples/broken.conf: each line of it
// (the "…" stands for the lines left out) is a line of the output, in
// order, and the exit status is 1.
func TestREADMEExample(t *testing.T) {
	testenv.Root(t) // the example's file is read only when root's
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ pam-accesscontrol check-my-config examples/broken.conf\n"
	_, example, ok := strings.Cut(string(readme), cmd)
	if !ok {
		t.Fatalf("README.md has no example %q", cmd)
	}
	example, _, _ = strings.Cut(example, "```")
	t.Chdir("../..")
	out, errOut, code := check("examples/broken.conf")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	got := strings.Split(out, "\n")
	i := 0
	for _, want := range strings.Split(strings.TrimSuffix(example, "\n"), "\n") {
		if want == "…" {
			continue
		}
		for i < len(got) && got[i] != want {
			i++
		}
		if i == len(got) {
			t.Fatalf("the README's line %q is not in the output, in order:\n%s%s", want, out, errOut)
		}
		i++
	}
}
