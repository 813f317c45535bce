package token

import (
	"slices"
	"sync"
	"time"
)

// verified remembers the tokens Verify accepted, so that the same token
// checked again (kube-apiserver asks for every request it has not cached,
// a web app for every page) costs a map lookup instead of a JSON parse and
// a signature check (BenchmarkVerify: about half a microsecond against
// tens of microseconds for HS256 and over a hundred for EdDSA and ES256).
//
// An entry is only ever made by a full verification with this Issuer's
// key and settings, and is keyed by the whole token, so no other string
// finds it. What a signature check proved once stays true; what time
// decides (exp, nbf, iat) is checked again at each use against the claims,
// and a token that fails it is verified in full again, so that its
// refusal reads as it did before (and the entry goes).
//
// The cache is bounded: at most maxVerified tokens, each at most
// maxCachedToken bytes (longer ones are checked in full every time). A
// full cache drops its expired entries, then any one, so a flood of
// distinct valid tokens costs only their full checks.
type verified struct {
	mu sync.Mutex
	m  map[string]*Claims
}

const (
	maxVerified    = 4096
	maxCachedToken = 4096
)

// get returns a copy of the claims of tok if Verify accepted it before
// and its times still hold at now.
func (v *verified) get(tok string, now time.Time) (*Claims, bool) {
	v.mu.Lock()
	c, ok := v.m[tok]
	if ok && !timely(c, now) {
		delete(v.m, tok)
		ok = false
	}
	v.mu.Unlock()
	if !ok {
		return nil, false
	}
	return clone(c), true
}

// clone copies c and its slices: what one caller does with its claims
// never reaches the next one's.
func clone(c *Claims) *Claims {
	cp := *c
	cp.Groups = slices.Clone(c.Groups)
	cp.Audience = slices.Clone(c.Audience)
	return &cp
}

// put remembers c as the claims of tok, which Verify has just accepted.
func (v *verified) put(tok string, c *Claims, now time.Time) {
	if len(tok) > maxCachedToken {
		return
	}
	cp := clone(c)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]*Claims)
	}
	if len(v.m) >= maxVerified {
		for k, old := range v.m {
			if !timely(old, now) {
				delete(v.m, k)
			}
		}
		for k := range v.m {
			if len(v.m) < maxVerified {
				break
			}
			delete(v.m, k)
		}
	}
	v.m[tok] = cp
}

// timely is what golang-jwt's validator checks of time, with Verify's
// options (exp required, iat checked, no leeway): now before exp, and not
// before nbf or iat.
func timely(c *Claims, now time.Time) bool {
	if c.ExpiresAt == nil || !now.Before(c.ExpiresAt.Time) {
		return false
	}
	if c.NotBefore != nil && now.Before(c.NotBefore.Time) {
		return false
	}
	if c.IssuedAt != nil && now.Before(c.IssuedAt.Time) {
		return false
	}
	return true
}
