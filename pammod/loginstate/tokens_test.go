package loginstate

import (
	"context"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := Open(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	k := TokenOK{Hash: "h1", User: "alice", Issuer: "https://op"}
	if _, ok := s.FindTokenOK(k, time.Minute); ok {
		t.Fatal("found before saved")
	}
	rec := k
	rec.Exp = now.Add(90 * time.Second)
	if err := s.SaveTokenOK(rec); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		key   TokenOK
		after time.Duration
		ttl   time.Duration
		want  bool
	}{
		{"fresh", k, 30 * time.Second, time.Minute, true},
		{"past OIDC_CACHE", k, 61 * time.Second, time.Minute, false},
		{"never past exp", k, 90 * time.Second, time.Hour, false},
		{"offline until exp", k, 80 * time.Second, 0, true},
		{"offline not past exp", k, 91 * time.Second, 0, false},
		{"other user", TokenOK{Hash: "h1", User: "bob", Issuer: "https://op"}, 0, time.Minute, false},
		{"other issuer", TokenOK{Hash: "h1", User: "alice", Issuer: "https://evil"}, 0, time.Minute, false},
		{"other token", TokenOK{Hash: "h2", User: "alice", Issuer: "https://op"}, 0, time.Minute, false},
	} {
		saved := now
		now = now.Add(c.after)
		if _, ok := s.FindTokenOK(c.key, c.ttl); ok != c.want {
			t.Errorf("%s: found %v, want %v", c.name, ok, c.want)
		}
		now = saved
	}
	// no exp: never offline
	noExp := TokenOK{Hash: "h3", User: "alice", Issuer: "https://op"}
	s.SaveTokenOK(noExp)
	if _, ok := s.FindTokenOK(noExp, 0); ok {
		t.Error("a token without exp stood offline")
	}
	s.ForgetTokenOK(k)
	if _, ok := s.FindTokenOK(k, time.Minute); ok {
		t.Error("forgotten token found")
	}
}

func TestTokenBackoff(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s, err := Open(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var locks []time.Duration
	for i := 0; i < 12; i++ {
		until, err := s.TokenFailed(ctx, "user:alice", "rhost:10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		d := time.Duration(0)
		if !until.IsZero() {
			d = until.Sub(now)
		}
		locks = append(locks, d)
		now = now.Add(time.Second)
	}
	want := []time.Duration{0, 0, 0, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 300 * time.Second}
	for i := range want {
		if locks[i] != want[i] {
			t.Fatalf("lockouts %v, want %v", locks, want)
		}
	}
	if s.TokenBackoff("user:alice").IsZero() || s.TokenBackoff("rhost:10.0.0.1").IsZero() {
		t.Error("not locked out")
	}
	if !s.TokenBackoff("user:bob", "rhost:10.0.0.2").IsZero() {
		t.Error("another user and host locked out")
	}
	s.TokenSucceeded("user:alice")
	if !s.TokenBackoff("user:alice").IsZero() {
		t.Error("a success did not forget")
	}
	// forgotten after an hour without failures
	now = now.Add(2 * time.Hour)
	if until, _ := s.TokenFailed(ctx, "rhost:10.0.0.1"); !until.IsZero() {
		t.Error("an old run of failures still counted")
	}
}
