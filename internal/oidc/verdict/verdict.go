// Package verdict is what a token check comes to, without the network:
// the result types and errors of internal/oidc's Verifier, and the
// token's key. The lean helper (pammod/helper, -tags lean) links it and
// not internal/oidc, whose HTTP and TLS client would double its start;
// a config with TOKEN rules is handed to the full helper.
package verdict

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// MaxToken bounds what is taken for a token: a longer password is not
// sent anywhere.
const MaxToken = 8192

// Valid is what a token the provider vouched for says.
type Valid struct {
	User string    // the claim that matched the user
	Exp  time.Time // zero when the provider named no expiry
	Via  string    // "introspection" or "jwt"
}

// RefusedError: the token is not valid for this login, and why (for the
// audit trail; never the token itself).
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return "token refused: " + e.Reason }

// UnavailableError: the provider could not be asked (unreachable, too
// slow, or it answered 5xx/429). OIDC_FALLBACK decides what follows; any
// other error (a wrong answer) is a refusal.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// IsUnavailable says whether err means the provider could not be asked.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}

// Hash is the key a token is remembered by: never the token itself.
func Hash(token string) string {
	h := sha256.Sum256([]byte("pam-accesscontrol token\x00" + token))
	return hex.EncodeToString(h[:])
}

// LooksLikeToken says whether a password could be a token at all: within
// MaxToken, printable ASCII without blanks. Anything else is never sent.
func LooksLikeToken(s string) bool {
	if s == "" || len(s) > MaxToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
