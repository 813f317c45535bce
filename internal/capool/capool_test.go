package capool

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	os.WriteFile(empty, []byte("not a certificate\n"), 0o644)
	if _, err := Load(empty); err == nil {
		t.Error("a file without a certificate was taken")
	}
	if _, err := Load(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("a missing file was taken")
	}
	// Debian's bundle, when the machine has it
	if _, err := os.Stat("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		if pool, err := Load("/etc/ssl/certs/ca-certificates.crt"); err != nil || pool == nil {
			t.Errorf("the system bundle: %v", err)
		}
	}
}
