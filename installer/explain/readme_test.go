package explain

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// TestREADMEExample: the README's explain example ("Explaining a
// decision") is what explain prints for the worked example: each line of
// it, but for one it cuts short with "…", is a line of the output, in
// order, and the exit status is CLOSE's.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ pam-accesscontrol explain --conf pam-accesscontrol.conf --service sddm --user bob --sessions sessions-carol.json\n"
	_, example, ok := strings.Cut(string(readme), cmd)
	if !ok {
		t.Fatalf("README.md has no example %q", cmd)
	}
	example, _, _ = strings.Cut(example, "```")
	dir := fixture(t)
	t.Chdir(dir) // the README names the files relative to where explain runs
	var out, errOut bytes.Buffer
	code := Run(Options{Conf: "pam-accesscontrol.conf", Login: rules.Login{Service: "sddm", User: "bob"},
		SessionsFile: "sessions-carol.json", Users: demo{}, Groups: demo{}}, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d, want 1 (CLOSE)", code)
	}
	got := strings.Split(out.String(), "\n")
	i := 0
	for _, want := range strings.Split(strings.TrimSuffix(example, "\n"), "\n") {
		prefix, cut := strings.CutSuffix(want, "…")
		for i < len(got) && !(got[i] == want || cut && strings.HasPrefix(got[i], prefix)) {
			i++
		}
		if i == len(got) {
			t.Fatalf("the README's line %q is not in the output, in order:\n%s%s", want, out.String(), errOut.String())
		}
		i++
	}
}
