package test

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// requireCommit makes sure commit, an older build that what names, is in
// this clone's history: a shallow clone (git clone --depth) lacks it. It
// skips the test otherwise, or fails it under PAMAC_REQUIRE_TOOLS=1: CI
// clones in full, so a missing commit there is a broken set-up, never a
// reason to pass without testing.
func requireCommit(t *testing.T, commit, what string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		testenv.Missing(t, "git (Debian package git)")
	}
	if exec.Command("git", "-C", "..", "cat-file", "-e", commit+"^{commit}").Run() != nil {
		testenv.Missing(t, fmt.Sprintf("%s, commit %s, in this clone's history (a shallow clone lacks it: git fetch --unshallow)",
			what, commit[:12]))
	}
}
