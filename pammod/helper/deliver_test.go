//go:build !lean

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestReadKey: the webhook's HMAC key is read only while it is root's and
// closed to group and others: whoever reads it can sign events the
// receiver believes.
func TestReadKey(t *testing.T) {
	testenv.Root(t)
	key := filepath.Join(t.TempDir(), "webhook.key")
	for _, tt := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o604, false}} {
		if err := os.WriteFile(key, []byte("k3y\n"), tt.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(key, tt.mode); err != nil {
			t.Fatal(err)
		}
		got, err := readKey(key)
		switch {
		case tt.ok && (err != nil || string(got) != "k3y"):
			t.Errorf("mode %04o: %q, %v", tt.mode, got, err)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET") || !strings.Contains(err.Error(), "chmod 600")):
			t.Errorf("mode %04o: %q, %v; want a refusal", tt.mode, got, err)
		}
	}
}
