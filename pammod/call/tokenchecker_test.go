//go:build !lean

package call

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testpki"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// caPEM is the PEM of a new CA named name.
func caPEM(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(testpki.NewCA(t, t.TempDir(), name).File)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTokenCheckersKeep: the daemon's checker of a provider is kept while
// what it is made of stays the same, and made again when any of it
// changes: a setting, the secret, the CA file, or its age.
func TestTokenCheckersKeep(t *testing.T) {
	testenv.Root(t) // the secret and the CA must be root's
	dir := t.TempDir()
	secret, ca := filepath.Join(dir, "oidc.secret"), filepath.Join(dir, "ca.pem")
	write := func(path string, data []byte, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	write(secret, []byte("s3cret\n"), 0o600)
	write(ca, caPEM(t, "first"), 0o644)
	now := time.Unix(1_800_000_000, 0)
	k := &TokenCheckers{Now: func() time.Time { return now }}
	s := rules.OIDCSettings{Issuer: "https://sso.example.com", ClientID: "pam", ClientSecret: secret, Timeout: 5 * time.Second}
	get := func(s rules.OIDCSettings) TokenChecker {
		t.Helper()
		c, err := k.Checker(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	steps := []struct {
		name   string
		change func()
		same   bool
	}{
		{"asked again", func() {}, true},
		{"a minute later", func() { now = now.Add(time.Minute) }, true},
		{"the secret changed", func() { write(secret, []byte("n3w-s3cret\n"), 0o600) }, false},
		{"a scope set", func() { s.Scope = "pam" }, false},
		{"a CA set", func() { s.CA = ca }, false},
		{"the CA asked again", func() {}, true},
		{"the CA rewritten", func() { write(ca, caPEM(t, "second"), 0o644) }, false},
		{"the CA chmodded", func() { write(ca, nil, 0o640); write(ca, caPEM(t, "third"), 0o644) }, false},
		{"the CA replaced by another file", func() {
			write(ca+".new", caPEM(t, "fourth"), 0o644)
			if err := os.Rename(ca+".new", ca); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"older than TokenCheckerAge", func() { now = now.Add(TokenCheckerAge) }, false},
		{"the clock set back", func() { now = now.Add(-time.Hour) }, false},
	}
	before := get(s)
	for _, st := range steps {
		st.change()
		c := get(s)
		if (c == before) != st.same {
			t.Errorf("%s: the same checker %v, want %v", st.name, c == before, st.same)
		}
		before = c
	}
}

// TestTokenCheckersRefuse: a kept checker never stands in for the checks
// made when one is made: a secret file others may now read, a CA file
// gone or a setting removed refuse, with the kept checker there.
func TestTokenCheckersRefuse(t *testing.T) {
	testenv.Root(t)
	dir := t.TempDir()
	secret, ca := filepath.Join(dir, "oidc.secret"), filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, caPEM(t, "ca"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := rules.OIDCSettings{Issuer: "https://sso.example.com", ClientID: "pam", ClientSecret: secret, CA: ca, Timeout: 5 * time.Second}
	k := &TokenCheckers{}
	if _, err := k.Checker(s); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		break_ func() rules.OIDCSettings
		mend   func()
	}{
		{"the secret readable by others", func() rules.OIDCSettings { os.Chmod(secret, 0o644); return s }, func() { os.Chmod(secret, 0o600) }},
		{"the secret gone", func() rules.OIDCSettings { os.Rename(secret, secret+".away"); return s }, func() { os.Rename(secret+".away", secret) }},
		{"the CA gone", func() rules.OIDCSettings { os.Rename(ca, ca+".away"); return s }, func() { os.Rename(ca+".away", ca) }},
		{"the CA writable by others", func() rules.OIDCSettings { os.Chmod(ca, 0o666); return s }, func() { os.Chmod(ca, 0o644) }},
		{"no client id", func() rules.OIDCSettings { c := s; c.ClientID = ""; return c }, func() {}},
	}
	for _, c := range cases {
		if got, err := k.Checker(c.break_()); err == nil {
			t.Errorf("%s: a checker (%T), no error", c.name, got)
		}
		c.mend()
		if _, err := k.Checker(s); err != nil {
			t.Errorf("%s, mended: %v", c.name, err)
		}
	}
}

// TestTokenCheckersBounded: config edits (here, one scope after another)
// never keep more than maxTokenCheckers checkers.
func TestTokenCheckersBounded(t *testing.T) {
	testenv.Root(t)
	secret := filepath.Join(t.TempDir(), "oidc.secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &TokenCheckers{}
	for i := 0; i < 3*maxTokenCheckers; i++ {
		s := rules.OIDCSettings{Issuer: "https://sso.example.com", ClientID: "pam", ClientSecret: secret, Scope: "scope" + string(rune('a'+i))}
		if _, err := k.Checker(s); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(k.kept); n > maxTokenCheckers {
		t.Errorf("%d checkers kept, at most %d", n, maxTokenCheckers)
	}
}
