//go:build !lean

package call

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/filestate"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// NewTokenChecker is the provider of the OIDC_* settings: its client,
// with the secret read from its root-only file. The per-call helper makes
// one per TOKEN login, so it discovers the provider (and fetches its JWKS)
// at every login.
func NewTokenChecker(s rules.OIDCSettings) (TokenChecker, error) {
	if missing := s.Missing(); missing != "" {
		return nil, fmt.Errorf("%s is not set", missing)
	}
	secret, err := oidc.ReadSecret(s.ClientSecret)
	if err != nil {
		return nil, err
	}
	return newTokenChecker(s, secret)
}

func newTokenChecker(s rules.OIDCSettings, secret string) (TokenChecker, error) {
	cl, err := oidc.New(oidc.Options{CA: s.CA, Timeout: s.Timeout})
	if err != nil {
		return nil, err
	}
	return oidc.NewVerifier(cl, oidc.TokenSettings{Issuer: s.Issuer, Introspection: s.Introspection, ClientID: s.ClientID,
		ClientSecret: secret, Scope: s.Scope, UserClaim: s.UserClaim}, nil)
}

// TokenCheckerAge is how long the daemon keeps a provider's checker, and
// so its discovery document and JWKS: a key the provider withdrew from
// its JWKS, or an endpoint it moved, is seen within this time (the
// per-call helper sees it at the next login).
const TokenCheckerAge = 5 * time.Minute

// maxTokenCheckers bounds the checkers kept: one per provider setting in
// force, and a few that config edits left behind until they age out.
const maxTokenCheckers = 16

// TokenCheckers keeps one TokenChecker per provider setting for the
// daemon (its Checker is Deps.Tokens), so that a TOKEN login does not
// first ask the provider for its discovery document and JWKS.
//
// What a checker is made of is looked at again at every login: the
// settings and the client secret (ReadSecret, which also checks the file
// is still root's alone) are its key; OIDC_CA's file and what its trust
// depends on are watched as the rules' cache watches the config
// (internal/filestate): replaced, rewritten or chmodded, or a directory
// above it changed, the CA is loaded and its trust checked again. Nothing
// negative is kept: a setting that fails makes no checker, and a checker
// whose discovery failed asks again at the next login.
type TokenCheckers struct {
	// Now is the clock; nil for the wall clock.
	Now func() time.Time

	mu   sync.Mutex
	kept map[string]keptChecker
}

type keptChecker struct {
	checker TokenChecker
	made    time.Time
	ca      []filestate.Dep   // OIDC_CA and what its trust depends on
	caState []filestate.State // as they were before the checker was made
}

// Checker is the checker of s: the one kept, if it is younger than
// TokenCheckerAge, was made of the same settings and secret, and its CA
// file has not changed; else a new one, kept.
func (k *TokenCheckers) Checker(s rules.OIDCSettings) (TokenChecker, error) {
	if missing := s.Missing(); missing != "" {
		return nil, fmt.Errorf("%s is not set", missing)
	}
	secret, err := oidc.ReadSecret(s.ClientSecret)
	if err != nil {
		return nil, err
	}
	key := checkerKey(s, secret)
	now := time.Now()
	if k.Now != nil {
		now = k.Now()
	}
	k.mu.Lock()
	e, ok := k.kept[key]
	k.mu.Unlock()
	if ok && young(e.made, now) && slices.Equal(filestate.Look(e.ca), e.caState) {
		return e.checker, nil
	}
	var ca []filestate.Dep
	if s.CA != "" {
		ca = filestate.Trusted(s.CA)
	}
	caState := filestate.Look(ca) // before the load: a change while it reads shows next time
	c, err := newTokenChecker(s, secret)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kept == nil {
		k.kept = make(map[string]keptChecker)
	}
	for name, old := range k.kept {
		if !young(old.made, now) {
			delete(k.kept, name)
		}
	}
	for len(k.kept) >= maxTokenCheckers {
		oldest := ""
		for name, old := range k.kept {
			if oldest == "" || old.made.Before(k.kept[oldest].made) {
				oldest = name
			}
		}
		delete(k.kept, oldest)
	}
	k.kept[key] = keptChecker{checker: c, made: now, ca: ca, caState: caState}
	return c, nil
}

// young: made less than TokenCheckerAge before now, and not after it (a
// clock set back does not stretch a checker's life).
func young(made, now time.Time) bool {
	return !now.Before(made) && now.Sub(made) < TokenCheckerAge
}

// checkerKey names the settings and secret a checker of s is made of.
// The secret goes in hashed with the rest; the key is never logged or
// written anywhere.
func checkerKey(s rules.OIDCSettings, secret string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %q %d %q %q\x00", s.Issuer, s.Introspection, s.ClientID, s.ClientSecret, s.Scope,
		s.Timeout, s.UserClaim, s.CA)
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))
}
