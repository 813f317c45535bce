package pamclient

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestRealLibPAM runs transactions through real libpam with
// pam_start_confdir: pam_matrix checks the password, pam_succeed_if
// stands for an account phase that refuses.
func TestRealLibPAM(t *testing.T) {
	matrix := testenv.Library(t, "pam_wrapper/pam_matrix.so")
	dir := t.TempDir()
	passdb := filepath.Join(dir, "passdb")
	if err := os.WriteFile(passdb, []byte("alice:secret:web\nbob:hunter2:web\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stack := fmt.Sprintf("auth required %s passdb=%s\naccount required pam_succeed_if.so quiet user notin bob\n", matrix, passdb)
	if err := os.WriteFile(filepath.Join(dir, "web"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{Service: "web", ConfDir: dir, Timeout: 10 * time.Second, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user, password string
		outcome        Outcome
		phase          string
	}{
		{"alice", "secret", Success, ""},
		{"alice", "wrong", Denied, "authenticate"},
		{"bob", "hunter2", Denied, "account"},
		{"nobody", "secret", Denied, "authenticate"},
	} {
		res, err := c.Authenticate(context.Background(), Request{User: tt.user, RHost: "192.0.2.1", Password: []byte(tt.password)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != tt.outcome || res.Phase != tt.phase {
			t.Errorf("%s/%s: %v %q (%v), want %v %q", tt.user, tt.password, res.Outcome, res.Phase, res.Code, tt.outcome, tt.phase)
		}
	}
	if res, _ := c.Account(context.Background(), "bob", ""); res.Outcome != Denied {
		t.Errorf("bob's account: %+v", res)
	}
	if res, _ := c.Account(context.Background(), "alice", ""); res.Outcome != Success {
		t.Errorf("alice's account: %+v", res)
	}
}
