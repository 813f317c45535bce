package remotelog

import (
	"os"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testpki"
)

// TestKeyPair: SYSLOG_CERT and SYSLOG_KEY are read as root's files; one
// that others may write is refused (whoever writes the key speaks for
// this host), as is a key of another certificate.
func TestKeyPair(t *testing.T) {
	testenv.Root(t)
	dir := t.TempDir()
	cert, key := testpki.SelfSigned(t, dir, "client")
	_, otherKey := testpki.SelfSigned(t, dir, "other")
	if _, err := KeyPair(cert, key); err != nil {
		t.Fatalf("root's pair: %v", err)
	}
	if _, err := KeyPair(cert, otherKey); err == nil {
		t.Error("a key of another certificate was taken")
	}
	if err := os.Chmod(key, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := KeyPair(cert, key); err == nil {
		t.Error("a key others may write was taken")
	}
}
