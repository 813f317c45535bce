package loginstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestOPAOpen: the cached OPEN serves exactly its user, service, remote
// host, auth kind and config, within its TTL by the store's clock.
func TestOPAOpen(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "run")
	s, err := Open(dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	k := OPAOpen{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}
	if _, ok := s.FindOPAOpen(k, time.Hour); ok {
		t.Fatal("found before saved")
	}
	if err := s.SaveOPAOpen(k); err != nil {
		t.Fatal(err)
	}
	if o, ok := s.FindOPAOpen(k, time.Hour); !ok || !o.At.Equal(now) || o.NoPrompts {
		t.Fatalf("not found, or found as given without prompts: %+v %v", o, ok)
	}
	for _, other := range []OPAOpen{
		{Config: "fp2", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"},
		{Config: "fp", User: "ops2", Service: "sshd", RHost: "192.0.2.7", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sudo", RHost: "192.0.2.7", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sshd", RHost: "", Auth: "password"},
		{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "key"},
		{Config: "", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"},
		// fields that would run together without a separator
		{Config: "fp", User: "op", Service: "ssshd", RHost: "192.0.2.7", Auth: "password"},
	} {
		if _, ok := s.FindOPAOpen(other, time.Hour); ok {
			t.Errorf("%+v served by %+v's record", other, k)
		}
	}
	// a record planted under k's name for someone else is not k's
	planted := OPAOpen{Config: "fp", User: "mallory", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}
	if err := s.SaveOPAOpen(planted); err != nil {
		t.Fatal(err)
	}
	os.Rename(filepath.Join(dir, opaDir, planted.name()), filepath.Join(dir, opaDir, OPAOpen{Config: "fp", User: "x"}.name()))
	if _, ok := s.FindOPAOpen(OPAOpen{Config: "fp", User: "x"}, time.Hour); ok {
		t.Error("a record whose content names another key served")
	}
	now = now.Add(59 * time.Minute)
	if _, ok := s.FindOPAOpen(k, time.Hour); !ok {
		t.Error("expired early")
	}
	if _, ok := s.FindOPAOpen(k, 30*time.Minute); ok {
		t.Error("served past a shorter TTL")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := s.FindOPAOpen(k, time.Hour); ok {
		t.Error("served past its TTL")
	}
	now = now.Add(-3 * time.Hour) // the clock went back: a record from the future is no record
	if _, ok := s.FindOPAOpen(k, time.Hour); ok {
		t.Error("a record dated in the future served")
	}
	now = now.Add(3 * time.Hour)
	s.SaveOPAOpen(k)
	if err := s.ForgetOPAOpen(k); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.FindOPAOpen(k, time.Hour); ok {
		t.Error("served after Forget")
	}
	if err := s.ForgetOPAOpen(k); err != nil {
		t.Errorf("forgetting twice: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, opaDir))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v %v", fi.Mode(), err)
	}
}

// TestOPAOpenNoPrompts: whether OPA's OPEN was given without prompts is
// kept with it, the last OPEN's word counts, and a record that does not
// say (an older version's) is one given after prompts. The answers are
// not kept.
func TestOPAOpenNoPrompts(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	dir := filepath.Join(t.TempDir(), "run")
	s, err := Open(dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	k := OPAOpen{Config: "fp", User: "ops", Service: "sshd", RHost: "192.0.2.7", Auth: "password"}
	free := k
	free.NoPrompts = true
	if err := s.SaveOPAOpen(free); err != nil {
		t.Fatal(err)
	}
	if o, ok := s.FindOPAOpen(k, time.Hour); !ok || !o.NoPrompts {
		t.Fatalf("an OPEN without prompts: %+v %v", o, ok)
	}
	if err := s.SaveOPAOpen(k); err != nil { // the policy prompts now
		t.Fatal(err)
	}
	if o, ok := s.FindOPAOpen(free, time.Hour); !ok || o.NoPrompts {
		t.Fatalf("the OPEN after prompts did not replace the one without: %+v %v", o, ok)
	}
	old := `{"config":"fp","user":"ops","service":"sshd","rhost":"192.0.2.7","auth":"password","at":"2026-12-03T12:00:00Z"}`
	if err := os.WriteFile(filepath.Join(dir, opaDir, k.name()), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if o, ok := s.FindOPAOpen(k, time.Hour); !ok || o.NoPrompts {
		t.Fatalf("an older version's record: %+v %v", o, ok)
	}
}
