package grants

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/installer/internal/cli"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
)

func TestAskGrantsAndRevoke(t *testing.T) {
	testenv.Root(t) // the run directory must be root's
	dir := t.TempDir()
	runDir := filepath.Join(dir, "run")
	store, err := loginstate.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(8 * time.Hour)
	for _, g := range []loginstate.Grant{
		{OwnerUID: 1000, OwnerName: "dora", User: "carol", RHost: "192.0.2.7", Until: until, LoginID: "L1"},
		{OwnerUID: 1000, OwnerName: "dora", User: "carol", RHost: "192.0.2.8", Until: until.Add(time.Hour)},
		{OwnerUID: 1000, OwnerName: "dora", User: "bob", RHost: "192.0.2.7", Until: until.Add(2 * time.Hour)},
	} {
		if err := store.AddGrant(g); err != nil {
			t.Fatal(err)
		}
	}
	audit := filepath.Join(dir, "audit.jsonl")
	conf := filepath.Join(dir, "rules.conf")
	if err := os.WriteFile(conf, []byte("DEFAULT:CLOSE\nAUDIT_LOG:"+audit+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	verbs := map[string]func([]string, io.Writer, io.Writer) int{"ask-grants": List, "ask-revoke": Revoke}
	runCLI := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := verbs[args[0]](args[1:], &out, &errOut)
		return out.String() + errOut.String(), code
	}
	if out, code := runCLI("ask-grants", "--rundir", runDir); code != 0 || strings.Count(out, "allowed by \"dora\" (uid 1000)") != 3 ||
		!strings.HasPrefix(out, `"carol" from "192.0.2.7"`) {
		t.Errorf("ask-grants: %d\n%s", code, out)
	}
	for _, args := range [][]string{{}, {"--all", "--user", "carol"}, {"extra"}} {
		if out, code := runCLI(append([]string{"ask-revoke", "--rundir", runDir}, args...)...); code != cli.ExitUsage {
			t.Errorf("ask-revoke %v: %d, want a usage error\n%s", args, code, out)
		}
	}
	if out, code := runCLI("ask-revoke", "--rundir", runDir, "--conf", conf, "--user", "carol", "--host", "192.0.2.7"); code != 0 ||
		strings.Count(out, "revoked:") != 1 {
		t.Errorf("ask-revoke carol from .7: %d\n%s", code, out)
	}
	if _, ok := store.Granted(1000, "carol", "192.0.2.7", 8*time.Hour); ok {
		t.Error("still granted after its revocation")
	}
	if _, ok := store.Granted(1000, "carol", "192.0.2.8", 9*time.Hour); !ok {
		t.Error("another host's grant went too")
	}
	data, err := os.ReadFile(audit)
	if err != nil || !strings.Contains(string(data), `"event":"ask_revoke"`) || !strings.Contains(string(data), `"login":"L1"`) {
		t.Errorf("audit log (%v):\n%s", err, data)
	}
	if out, code := runCLI("ask-revoke", "--rundir", runDir, "--conf", conf, "--all"); code != 0 || strings.Count(out, "revoked:") != 2 {
		t.Errorf("ask-revoke --all: %d\n%s", code, out)
	}
	if out, _ := runCLI("ask-grants", "--rundir", runDir); !strings.Contains(out, "no grants") {
		t.Errorf("after --all: %s", out)
	}
	// a run directory others may write is refused, not read
	os.Chmod(runDir, 0o777)
	if out, code := runCLI("ask-grants", "--rundir", runDir); code != 1 || !strings.Contains(out, "chmod go-w") {
		t.Errorf("an unsafe run directory: %d\n%s", code, out)
	}
}
