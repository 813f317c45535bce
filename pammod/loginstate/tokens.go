package loginstate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"time"
)

const (
	tokensDir  = "tokens"
	backoffDir = "tokenfail"
)

// TokenCacheMaxAge bounds how long a token's record is kept on disk,
// whatever its exp says: OIDC_FALLBACK:CACHE lets a token stand while the
// provider is down, at most this long after it was last checked.
const TokenCacheMaxAge = 24 * time.Hour

// TokenOK records that the provider said a token was valid for a user
// (OIDC_CACHE, and OIDC_FALLBACK:CACHE). It holds a hash of the token,
// never the token: whoever reads the run directory learns nothing to log
// in with. A negative answer is never recorded.
type TokenOK struct {
	Hash    string    `json:"hash"` // oidc.Hash of the token
	User    string    `json:"user"`
	Issuer  string    `json:"issuer"` // the provider (issuer or introspection URL)
	Checked time.Time `json:"checked"`
	Exp     time.Time `json:"exp"` // the token's exp; zero when the provider named none
}

func (t TokenOK) name() string {
	h := sha256.New()
	for _, f := range []string{t.Hash, t.User, t.Issuer} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (t TokenOK) sameKey(o TokenOK) bool {
	return t.Hash != "" && t.Hash == o.Hash && t.User == o.User && t.Issuer == o.Issuer
}

// SaveTokenOK records a positive answer now (Checked is the store's clock).
func (s *Store) SaveTokenOK(t TokenOK) error {
	if t.Hash == "" {
		return errors.New("no token hash")
	}
	dir, err := s.sub(tokensDir)
	if err != nil {
		return err
	}
	s.prune(dir, TokenCacheMaxAge)
	t.Checked = s.now()
	return s.write(dir, t.name(), t, t.Checked)
}

// FindTokenOK returns the record of k's token if it was checked less than
// ttl ago and, when the token names an expiry, has not expired; with ttl
// 0 only the expiry counts (OIDC_FALLBACK:CACHE), and a token without
// one never stands.
func (s *Store) FindTokenOK(k TokenOK, ttl time.Duration) (TokenOK, bool) {
	var t TokenOK
	if read(filepath.Join(s.dir, tokensDir), k.name(), &t) != nil || !t.sameKey(k) {
		return TokenOK{}, false
	}
	now := s.now()
	if !t.Exp.IsZero() && !now.Before(t.Exp) {
		return TokenOK{}, false
	}
	if ttl > 0 && !s.fresh(t.Checked, ttl) {
		return TokenOK{}, false
	}
	if ttl <= 0 && (t.Exp.IsZero() || !s.fresh(t.Checked, TokenCacheMaxAge)) {
		return TokenOK{}, false
	}
	return t, true
}

// ForgetTokenOK drops k's record: the provider now refuses the token.
func (s *Store) ForgetTokenOK(k TokenOK) {
	os.Remove(filepath.Join(s.dir, tokensDir, k.name()))
}

// Token failures back off per user and per remote host: after
// BackoffFree failures in a row, each further one locks the key out for
// BackoffBase doubled each time, at most BackoffMax. A run of failures
// is forgotten BackoffForget after its last, and by a success.
const (
	BackoffFree   = 3
	BackoffBase   = 2 * time.Second
	BackoffMax    = 5 * time.Minute
	BackoffForget = time.Hour
)

type tokenFailures struct {
	Key   string    `json:"key"`
	Count int       `json:"count"`
	Last  time.Time `json:"last"`
	Until time.Time `json:"until"`
}

// backoffKey names the state of one user ("user:" + name) or one remote
// host ("rhost:" + address).
func backoffName(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// TokenBackoff says until when any of keys is locked out (zero: none is).
func (s *Store) TokenBackoff(keys ...string) time.Time {
	var until time.Time
	now := s.now()
	for _, k := range keys {
		var f tokenFailures
		if read(filepath.Join(s.dir, backoffDir), backoffName(k), &f) != nil || f.Key != k {
			continue
		}
		if f.Until.After(now) && f.Until.After(until) {
			until = f.Until
		}
	}
	return until
}

// TokenFailed counts a refused token against each key and returns until
// when the longest lockout it caused lasts (zero: none yet).
func (s *Store) TokenFailed(ctx context.Context, keys ...string) (time.Time, error) {
	dir, err := s.sub(backoffDir)
	if err != nil {
		return time.Time{}, err
	}
	s.prune(dir, BackoffForget+BackoffMax)
	var longest time.Time
	for _, k := range keys {
		name := backoffName(k)
		unlock, err := lock(ctx, filepath.Join(dir, name+lockSuffix))
		if err != nil {
			return longest, err
		}
		var f tokenFailures
		if read(dir, name, &f) != nil || f.Key != k || !s.fresh(f.Last, BackoffForget) {
			f = tokenFailures{Key: k}
		}
		now := s.now()
		f.Count++
		f.Last = now
		if f.Count > BackoffFree {
			d := BackoffBase
			for i := BackoffFree + 1; i < f.Count && d < BackoffMax; i++ {
				d *= 2
			}
			f.Until = now.Add(min(d, BackoffMax))
			if f.Until.After(longest) {
				longest = f.Until
			}
		}
		err = s.write(dir, name, f, now)
		unlock()
		if err != nil {
			return longest, err
		}
	}
	return longest, nil
}

// TokenSucceeded forgets the failures of keys.
func (s *Store) TokenSucceeded(keys ...string) {
	for _, k := range keys {
		os.Remove(filepath.Join(s.dir, backoffDir, backoffName(k)))
	}
}
