package capool

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// writeCA writes a self-signed CA certificate as PEM to path with mode.
func writeCA(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func TestLoad(t *testing.T) {
	testenv.Root(t) // a bundle must be root's
	dir := t.TempDir()
	good := filepath.Join(dir, "ca.pem")
	writeCA(t, good, 0o644)
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
	loose := filepath.Join(dir, "loose.pem")
	writeCA(t, loose, 0o666)
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
