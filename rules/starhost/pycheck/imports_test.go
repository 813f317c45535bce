package pycheck_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestOnlyTheCLILinksIt: the checker is the pam-accesscontrol command's.
// The helper runs at every login (a process per PAM call when the daemon
// is not used): it must not link the checker's tables, nor compile its
// regular expressions at every start.
func TestOnlyTheCLILinksIt(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "the go command on PATH") // go test puts it there
	}
	const module = "github.com/pam-accesscontrol/pam-accesscontrol"
	const self = module + "/rules/starhost/pycheck"
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	cli := module + "/installer" // the command and its packages
	allowed := func(p string) bool { return p == self || p == cli || strings.HasPrefix(p, cli+"/") }
	seen := false
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, dep := range f[1:] {
			if dep == self {
				seen = true
				if !allowed(f[0]) {
					t.Errorf("%s links %s: only the pam-accesscontrol command may", f[0], self)
				}
			}
		}
		if f[0] == module+"/pammod/helper" && len(f) < 10 {
			t.Fatalf("go list gave the helper %d dependencies:\n%s", len(f)-1, line)
		}
	}
	if !seen {
		t.Errorf("nothing links %s: is the pam-accesscontrol command still its user?", self)
	}
}
