package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// clockIssuer is an Issuer whose clock the test moves.
func clockIssuer(t *testing.T, data []byte, now *time.Time) *Issuer {
	t.Helper()
	return issuerClock(t, data, "pam-accesscontrol", "k8s", func() time.Time { return *now })
}

// TestVerifiedAgain: a token Verify accepted once is accepted again from
// the cache only while its times hold; the refusals read as without the
// cache, and nothing but the very token finds its entry.
func TestVerifiedAgain(t *testing.T) {
	for alg, data := range keys(t) {
		t.Run(alg, func(t *testing.T) {
			now := t0
			i := clockIssuer(t, data, &now)
			tok, err := i.IssueFor("ops", []string{"k8s-admins"}, 10*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := i.Verify(tok); err != nil {
				t.Fatal(err)
			}
			if _, ok := i.seen.m[tok]; !ok {
				t.Fatal("an accepted token was not remembered")
			}
			for _, tt := range []struct {
				name string
				at   time.Time
				tok  string
				want error // nil: accepted
				msg  string
			}{
				{"again", t0.Add(time.Minute), tok, nil, ""},
				{"a changed signature", t0, tok[:len(tok)-2] + flip(tok[len(tok)-2]) + tok[len(tok)-1:], ErrInvalid, "signature"},
				{"a changed payload", t0, changePayload(t, tok), ErrInvalid, "signature"},
				{"before it was issued (the clock went back)", t0.Add(-time.Minute), tok, ErrInvalid, "before issued"},
				{"at its expiry", t0.Add(10 * time.Minute), tok, ErrInvalid, "expired"},
				{"after its expiry", t0.Add(time.Hour), tok, ErrInvalid, "expired"},
			} {
				now = tt.at
				c, err := i.Verify(tt.tok)
				switch {
				case tt.want == nil && err != nil:
					t.Errorf("%s: %v", tt.name, err)
				case tt.want == nil && c.Subject != "ops":
					t.Errorf("%s: claims %+v", tt.name, c)
				case tt.want != nil && (!errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg)):
					t.Errorf("%s: %v, want %v (%q)", tt.name, err, tt.want, tt.msg)
				}
				// the same answer as an issuer that never saw the token
				fresh := clockIssuer(t, data, &now)
				_, want := fresh.verify(tt.tok, now)
				if fmt.Sprint(err) != fmt.Sprint(want) {
					t.Errorf("%s: %v; without the cache: %v", tt.name, err, want)
				}
			}
			if _, ok := i.seen.m[tok]; ok {
				t.Error("an expired token stayed remembered")
			}
			now = t0
			other := clockIssuer(t, keys(t)[alg], &now)
			if _, err := other.Verify(tok); !errors.Is(err, ErrInvalid) {
				t.Errorf("another key's issuer: %v", err)
			}
		})
	}
}

// TestVerifiedShared: a caller that appends to the claims it got does not
// change what the next caller gets.
func TestVerifiedShared(t *testing.T) {
	now := t0
	i := clockIssuer(t, keys(t)["HS256"], &now)
	tok, err := i.IssueFor("ops", []string{"k8s-admins", "ops"}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 3; n++ {
		c, err := i.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(c.Groups, ","); got != "k8s-admins,ops" || len(c.Audience) != 1 {
			t.Fatalf("call %d: groups %q, audience %q", n, got, c.Audience)
		}
		c.Groups = append(c.Groups[:1], "root")
		c.Audience = append(c.Audience[:0], "other")
		c.Subject = "root"
	}
}

// TestVerifiedBounded: a flood of distinct valid tokens keeps at most
// maxVerified; expired ones go first.
func TestVerifiedBounded(t *testing.T) {
	now := t0
	i := clockIssuer(t, keys(t)["HS256"], &now)
	short, err := i.IssueFor("short", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := i.Verify(short); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2 * time.Minute)
	var last string
	for n := 0; n < maxVerified+100; n++ {
		now = now.Add(time.Second) // jti differs anyway; iat too
		tok, err := i.IssueFor(fmt.Sprint("user", n), nil, 10*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := i.Verify(tok); err != nil {
			t.Fatal(err)
		}
		last = tok
	}
	if n := len(i.seen.m); n > maxVerified {
		t.Errorf("%d tokens remembered, at most %d", n, maxVerified)
	}
	if _, ok := i.seen.m[short]; ok {
		t.Error("an expired token outlived a full cache")
	}
	if _, ok := i.seen.m[last]; !ok {
		t.Error("the last token verified was not remembered")
	}
	long := strings.Repeat("x", maxCachedToken+1)
	i.seen.put(long, &Claims{}, now)
	if _, ok := i.seen.m[long]; ok {
		t.Error("a token longer than maxCachedToken was remembered")
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// changePayload re-encodes tok's payload with another sub, keeping the
// header and the signature.
func changePayload(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	payload := strings.Replace(string(mustDecode(t, tok)), `"sub":"ops"`, `"sub":"root"`, 1)
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + parts[2]
}

// BenchmarkVerify is Verify of a token seen before (the cache) and of one
// never seen (the full check), per algorithm.
func BenchmarkVerify(b *testing.B) {
	for alg, data := range keys(&testing.T{}) {
		now := time.Now()
		i := clockIssuer(&testing.T{}, data, &now)
		tok, err := i.IssueFor("ops", []string{"k8s-admins"}, 10*time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/seen", func(b *testing.B) {
			for b.Loop() {
				if _, err := i.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/full", func(b *testing.B) {
			for b.Loop() {
				if _, err := i.verify(tok, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
