package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// leanForbidden are packages the lean helper must not link (lean.go): the
// features it hands to the full helper, and TLS, whose packages alone cost
// every start their relocations and inits. An import added to a package
// the lean helper uses (pammod/call, internal/logging, rules …) that brings
// one back fails here with the chain that does it.
var leanForbidden = []string{
	"crypto/tls", "crypto/x509", "net/http", "net/smtp",
	"go.starlark.net",
	"github.com/ProtonMail/go-crypto", "github.com/cloudflare/circl",
	"github.com/RackSec/srslog",
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa",
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost",
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/script",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/pgp",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook",
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog",
}

// leanAllowed are packages under a forbidden one that the lean helper
// links: what a mail says, without the SMTP that sends it.
var leanAllowed = []string{"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"}

func TestLeanImports(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "the go command on PATH") // go test puts it there
	}
	out, err := exec.Command(gobin, "list", "-tags", "lean", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	const root = "github.com/pam-accesscontrol/pam-accesscontrol/pammod/helper"
	if len(imports[root]) == 0 {
		t.Fatalf("go list did not list %s:\n%s", root, out)
	}
	// the chain from the helper to each package, breadth first
	via := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, q := range imports[p] {
			if _, seen := via[q]; !seen {
				via[q] = p
				queue = append(queue, q)
			}
		}
	}
	for pkg := range via {
		for _, f := range leanForbidden {
			if pkg != f && !strings.HasPrefix(pkg, f+"/") || slices.Contains(leanAllowed, pkg) {
				continue
			}
			chain := []string{pkg}
			for p := via[pkg]; p != ""; p = via[p] {
				chain = append([]string{p}, chain...)
			}
			t.Errorf("the lean helper links %s: %s", pkg, strings.Join(chain, " -> "))
		}
	}
}
