package rules_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// forbidden are packages the rules engine must not depend on: it decides
// from what it is given (groups, sessions, a clock) and leaves talking to
// logind, D-Bus, log servers and OPA to the helper, so that explain, the
// installer's checks and tests can run it anywhere.
var forbidden = []string{
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer", // dials and reads the kernel's socket tables
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc",      // talks to OpenID providers (oidc/oidcurl is only a URL rule)
	opaAdapter, // the engine sees OPA only through its port, rules.OPA
	"github.com/RackSec/srslog",
	"github.com/godbus/dbus",
}

// opaAdapter is the rules engine's OPA adapter: the one package under
// rules/ that talks to a network, which is why nothing else there may
// import it. It implements rules.OPA and takes from rules only the port's
// types and OPA's settings; the helper and explain wire it in.
const opaAdapter = "github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"

// TestImports fails when a package of rules/ but the OPA adapter depends,
// directly or not, on a forbidden package, and names the chain of imports
// that brings it in.
func TestImports(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "the go command on PATH") // go test puts it there
	}
	out, err := exec.Command(gobin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	const root = "github.com/pam-accesscontrol/pam-accesscontrol/rules"
	if len(imports[root]) == 0 {
		t.Fatalf("go list did not list %s:\n%s", root, out)
	}
	bad := func(p string) bool {
		if p == "github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/oidcurl" {
			return false // no network code: the rule for provider URLs
		}
		for _, f := range forbidden {
			if p == f || strings.HasPrefix(p, f+"/") {
				return true
			}
		}
		return false
	}
	for pkg := range imports {
		if pkg != root && !strings.HasPrefix(pkg, root+"/") || pkg == opaAdapter || strings.HasPrefix(pkg, opaAdapter+"/") {
			continue
		}
		// breadth first, so the chain reported is a shortest one
		from := map[string]string{pkg: ""}
		queue := []string{pkg}
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			if bad(p) {
				chain := []string{p}
				for q := from[p]; q != ""; q = from[q] {
					chain = append([]string{q}, chain...)
				}
				t.Errorf("%s depends on %s: %s", pkg, p, strings.Join(chain, " → "))
				break
			}
			for _, q := range imports[p] {
				if _, seen := from[q]; !seen {
					from[q] = p
					queue = append(queue, q)
				}
			}
		}
	}
}
