package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/verdict"
)

// MaxToken bounds what is taken for a token (verdict.MaxToken).
const MaxToken = verdict.MaxToken

// TokenSettings are what a token is checked against (the OIDC_* settings,
// with the secret read).
type TokenSettings struct {
	Issuer        string // OIDC_ISSUER; "" when only Introspection is set
	Introspection string // OIDC_INTROSPECTION: overrides discovery
	ClientID      string
	ClientSecret  string
	Scope         string // must be among the token's scopes; "" for none
	UserClaim     string // "" for sub
}

// Valid is what a token the provider vouched for says (verdict.Valid).
type Valid = verdict.Valid

// RefusedError: the token is not valid for this login, and why
// (verdict.RefusedError).
type RefusedError = verdict.RefusedError

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Verifier checks tokens with one provider. Discovery and the JWKS are
// fetched once per Verifier (the JWKS again for a kid it does not hold):
// the per-call helper makes one per TOKEN login, the daemon keeps one per
// provider setting for a few minutes (pammod/call's TokenCheckers).
type Verifier struct {
	c   *Client
	s   TokenSettings
	now func() time.Time

	mu   sync.Mutex
	meta *Metadata
	keys *jwks
}

// NewVerifier checks tokens through c as s says; now is the clock (nil for
// the wall clock).
func NewVerifier(c *Client, s TokenSettings, now func() time.Time) (*Verifier, error) {
	if s.Issuer == "" && s.Introspection == "" {
		return nil, errors.New("neither OIDC_ISSUER nor OIDC_INTROSPECTION is set")
	}
	if s.ClientID == "" {
		return nil, errors.New("OIDC_CLIENT_ID is not set")
	}
	if s.Issuer != "" {
		if err := CheckIssuer(s.Issuer); err != nil {
			return nil, err
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Verifier{c: c, s: s, now: now}, nil
}

// Hash is the key a token is remembered by (verdict.Hash).
func Hash(token string) string { return verdict.Hash(token) }

// LooksLikeToken says whether a password could be a token at all
// (verdict.LooksLikeToken).
func LooksLikeToken(s string) bool { return verdict.LooksLikeToken(s) }

// metadata discovers the provider once; without OIDC_ISSUER there is
// nothing to discover. The lock is not held while the provider is asked:
// a Verifier the daemon shares between logins must not queue each login
// behind another's request to a hung provider (each waits its own
// timeout, not the sum of theirs).
func (v *Verifier) metadata(ctx context.Context) (*Metadata, error) {
	v.mu.Lock()
	m := v.meta
	v.mu.Unlock()
	if m != nil {
		return m, nil
	}
	if v.s.Issuer == "" {
		m = &Metadata{IntrospectionEndpoint: v.s.Introspection}
	} else {
		var err error
		if m, err = v.c.Discover(ctx, v.s.Issuer); err != nil {
			return nil, err
		}
	}
	v.mu.Lock()
	v.meta = m
	v.mu.Unlock()
	return m, nil
}

// Check says whether token is valid for user: a JWT signed with a key of
// the issuer's JWKS is checked locally, any other token through
// introspection. Errors are *RefusedError (not valid),
// *UnavailableError (the provider could not be asked: OIDC_FALLBACK), or
// another error (a provider answering garbage, a setting wrong), which
// refuses too.
func (v *Verifier) Check(ctx context.Context, token, user string) (Valid, error) {
	if !LooksLikeToken(token) {
		return Valid{}, refused("the password does not look like a token")
	}
	m, err := v.metadata(ctx)
	if err != nil {
		return Valid{}, err
	}
	if m.JWKSURI != "" && looksLikeJWT(token) {
		if ok, err := v.checkJWT(ctx, m, token, user); err != nil || ok.Via != "" {
			return ok, err
		}
	}
	if m.JWKSURI != "" && v.s.Introspection == "" && m.IntrospectionEndpoint == "" {
		// a provider whose tokens are JWTs only (pam-accesscontrol serve):
		// what its JWKS does not verify is no token of its, and there is
		// nobody to ask
		return Valid{}, refused("not a JWT signed by a key of the issuer's JWKS, and the provider has no introspection endpoint")
	}
	return v.introspect(ctx, m, token, user)
}

// introspect asks the introspection endpoint (RFC 7662) and checks the
// answer.
func (v *Verifier) introspect(ctx context.Context, m *Metadata, token, user string) (Valid, error) {
	endpoint := v.s.Introspection
	if endpoint == "" {
		endpoint = m.IntrospectionEndpoint
	}
	if endpoint == "" {
		return Valid{}, fmt.Errorf("the provider's discovery names no introspection_endpoint: set OIDC_INTROSPECTION")
	}
	cred := Credentials{ID: v.s.ClientID, Secret: v.s.ClientSecret, Method: m.IntrospectionAuth()}
	status, body, err := v.c.PostForm(ctx, "introspection", endpoint,
		url.Values{"token": {token}, "token_type_hint": {"access_token"}}, cred)
	if err != nil {
		return Valid{}, err
	}
	if status != http.StatusOK {
		return Valid{}, StatusError("introspection", endpoint, status, body)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return Valid{}, fmt.Errorf("introspection: the answer of %s is not a JSON object", hostOf(endpoint))
	}
	issuer := v.s.Issuer
	if m.Issuer != "" {
		issuer = m.Issuer
	}
	return v.checkClaims(claims, user, issuer, "introspection")
}

// checkClaims checks what introspection (or a JWT) says of a token.
func (v *Verifier) checkClaims(c map[string]any, user, issuer, via string) (Valid, error) {
	now := v.now()
	if via == "introspection" {
		if active, _ := c["active"].(bool); !active {
			return Valid{}, refused("the provider says it is not active (unknown, expired or revoked)")
		}
	}
	var out Valid
	out.Via = via
	if exp, ok := numericDate(c["exp"]); ok {
		if !now.Before(exp) {
			return Valid{}, refused("expired at %s", exp.UTC().Format(time.RFC3339))
		}
		out.Exp = exp
	} else if c["exp"] != nil || via == "jwt" {
		return Valid{}, refused("no usable exp")
	}
	if nbf, ok := numericDate(c["nbf"]); ok && now.Add(time.Minute).Before(nbf) {
		return Valid{}, refused("not valid before %s", nbf.UTC().Format(time.RFC3339))
	}
	if iss, ok := c["iss"]; ok && issuer != "" {
		if s, _ := iss.(string); s != issuer {
			return Valid{}, refused("issued by %q, not %q", clip(fmt.Sprint(iss), 100), issuer)
		}
	} else if via == "jwt" {
		return Valid{}, refused("no iss")
	}
	// an answer that names no client at all comes from a provider that
	// answers only for tokens whose audience holds the client asking
	// (zitadel does, and says inactive otherwise); one that names a
	// client must name ours. A JWT must always name its audience.
	_, hasClient := c["client_id"]
	_, hasAud := c["aud"]
	_, hasAzp := c["azp"]
	if (via == "jwt" || hasClient || hasAud || hasAzp) && !v.ours(c) {
		return Valid{}, refused("issued to another client (client_id %q, aud %v)", clip(str(c["client_id"]), 60), clip(fmt.Sprint(c["aud"]), 100))
	}
	if v.s.Scope != "" && !slices.Contains(scopes(c), v.s.Scope) {
		return Valid{}, refused("scope %q missing", v.s.Scope)
	}
	claim := v.s.UserClaim
	if claim == "" {
		claim = "sub"
	}
	got, ok := c[claim].(string)
	if !ok || got == "" {
		return Valid{}, refused("no %s claim", claim)
	}
	if got != user {
		return Valid{}, refused("%s is %q, not the user %q", claim, clip(got, 60), clip(user, 60))
	}
	out.User = got
	return out, nil
}

// ours: the token was issued to our client (client_id), or names it in
// its audience.
func (v *Verifier) ours(c map[string]any) bool {
	if str(c["client_id"]) == v.s.ClientID || str(c["azp"]) == v.s.ClientID {
		return true
	}
	switch aud := c["aud"].(type) {
	case string:
		return aud == v.s.ClientID
	case []any:
		for _, a := range aud {
			if s, _ := a.(string); s == v.s.ClientID {
				return true
			}
		}
	}
	return false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// scopes are a token's scopes: "scope" as a space-separated string
// (RFC 7662, RFC 9068), or "scp" as a list.
func scopes(c map[string]any) []string {
	if s, ok := c["scope"].(string); ok {
		return strings.Fields(s)
	}
	var out []string
	if l, ok := c["scp"].([]any); ok {
		for _, x := range l {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// numericDate reads a JSON NumericDate.
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || f <= 0 || f > 1e11 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}
