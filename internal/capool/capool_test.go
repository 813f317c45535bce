package capool

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testpki"
)

func TestLoad(t *testing.T) {
	testenv.Root(t) // a bundle must be root's
	dir := t.TempDir()
	good := testpki.NewCA(t, dir, "ca").File
	if pool, err := Load(good); err != nil || pool == nil {
		t.Errorf("a CA certificate, root's alone: %v", err)
	}
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o644)
	if _, err := Load(empty); err == nil {
		t.Error("a file without a certificate was taken")
	}
	if _, err := Load(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing file was taken")
	}
	// whoever may write the bundle chooses whom we trust
	loose := testpki.NewCA(t, dir, "loose").File
	if err := os.Chmod(loose, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(loose); err == nil {
		t.Error("a bundle others may write was taken")
	}
	// Debian's bundle, when the machine has it
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		if pool, err := Load("/etc/ssl/certs/ca-certificates.crt"); err != nil || pool == nil {
			t.Errorf("the system bundle: %v", err)
		}
	}
}
