// Package token makes and checks the service's JWTs: HS256 with an HMAC
// secret, EdDSA with an Ed25519 key, ES256 with an ECDSA P-256 key (see
// key.go), with the claims iss, aud, sub, iat, exp, jti and groups.
// Verification accepts only the key's own algorithm, so a token "signed"
// with the public key as an HMAC secret, or with alg none, is refused.
//
// These are not beesly's tokens (HMAC keys derived per token with
// BLAKE2b): a beesly client that only calls /auth, /renew and /verify
// works unchanged, but a token beesly issued is not accepted here.
package token

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are what a token says. Username is pam_hook's claim (its
// /authenticate read the user from it; pam_hook had no sub): tokens from
// /token carry it, equal to sub, so that tools written for pam_hook's
// tokens still find the user.
type Claims struct {
	Groups   []string `json:"groups"`
	Username string   `json:"username,omitempty"`
	jwt.RegisteredClaims
}

// Config is the issuer's settings.
type Config struct {
	Issuer   string        // iss; required
	Audience string        // aud; "" issues and expects none
	TTL      time.Duration // exp - iat
	Now      func() time.Time
}

// Issuer makes and checks tokens with one key.
type Issuer struct {
	key    Key
	method jwt.SigningMethod
	cfg    Config
	kid    string
	seen   verified // tokens Verify accepted (cache.go)
}

// Errors of Verify, as beesly tells them apart.
var (
	// ErrMalformed: not a JWT at all (beesly: 400 "Invalid JWT").
	ErrMalformed = errors.New("malformed token")
	// ErrClaims: a token whose sub is missing (beesly: 401 "Invalid claims in JWT").
	ErrClaims = errors.New("missing claims")
	// ErrInvalid: signature, algorithm, expiry, issuer or audience (beesly: 401).
	ErrInvalid = errors.New("invalid token")
)

// New returns an Issuer for key.
func New(key Key, cfg Config) (*Issuer, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("token: no issuer")
	}
	if cfg.TTL <= 0 {
		return nil, errors.New("token: the lifetime must be positive")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	i := &Issuer{key: key, cfg: cfg}
	switch key.alg {
	case "HS256":
		i.method = jwt.SigningMethodHS256
	case "EdDSA":
		i.method = jwt.SigningMethodEdDSA
	case "ES256":
		i.method = jwt.SigningMethodES256
	default:
		return nil, errors.New("token: no key")
	}
	if key.alg != "HS256" {
		i.kid = keyID(key)
	}
	return i, nil
}

// ErrTTL: a lifetime asked for that is not positive or exceeds the TTL.
var ErrTTL = errors.New("token: the lifetime must be positive and at most the configured TTL")

// Issue makes a token for sub with groups, valid from now for the TTL.
func (i *Issuer) Issue(sub string, groups []string) (string, error) {
	return i.issue(sub, groups, i.cfg.TTL, "")
}

// IssueFor makes a token as pam_hook's /token did: valid for ttl, which
// must be positive and at most the configured TTL, with the username
// claim besides sub.
func (i *Issuer) IssueFor(sub string, groups []string, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > i.cfg.TTL {
		return "", ErrTTL
	}
	return i.issue(sub, groups, ttl, sub)
}

// KubeType is the JWS typ of GET /token's tokens (explicit typing, RFC
// 8725 section 3.11): they are for kube-apiserver, and a relying party
// that takes access tokens (the TOKEN rule's check, which accepts typ JWT
// and at+jwt only) refuses them, as /verify does. /auth's tokens keep
// typ JWT.
const KubeType = "kubernetes+jwt"

// TTL is the longest lifetime a token gets.
func (i *Issuer) TTL() time.Duration { return i.cfg.TTL }

// Audience is the aud tokens carry and Verify expects ("" for none).
func (i *Issuer) Audience() string { return i.cfg.Audience }

func (i *Issuer) issue(sub string, groups []string, ttl time.Duration, username string) (string, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", err
	}
	now := i.cfg.Now().Truncate(time.Second)
	c := Claims{Groups: groups, Username: username, RegisteredClaims: jwt.RegisteredClaims{
		Issuer:    i.cfg.Issuer,
		Subject:   sub,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		ID:        hex.EncodeToString(id[:]),
	}}
	if c.Groups == nil {
		c.Groups = []string{}
	}
	if i.cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{i.cfg.Audience}
	}
	t := jwt.NewWithClaims(i.method, c)
	if i.kid != "" {
		t.Header["kid"] = i.kid
	}
	if username != "" {
		t.Header["typ"] = KubeType
	}
	return t.SignedString(i.signKey())
}

// Verify checks a token and returns its claims, a copy of their own for
// each caller; a token accepted before is not checked in full again while
// its times hold (cache.go).
func (i *Issuer) Verify(s string) (*Claims, error) {
	now := i.cfg.Now()
	if c, ok := i.seen.get(s, now); ok {
		return c, nil
	}
	c, err := i.verify(s, now)
	if err == nil {
		i.seen.put(s, c, now)
	}
	return c, err
}

func (i *Issuer) verify(s string, now time.Time) (*Claims, error) {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{i.method.Alg()}),
		jwt.WithIssuer(i.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	if i.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(i.cfg.Audience))
	}
	var c Claims
	_, err := jwt.ParseWithClaims(s, &c, func(*jwt.Token) (any, error) { return i.verifyKey(), nil }, opts...)
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	case c.Subject == "":
		return nil, ErrClaims
	case c.Username != "" && c.Username != c.Subject:
		return nil, fmt.Errorf("%w: username %q is not sub %q", ErrInvalid, c.Username, c.Subject)
	}
	return &c, nil
}

func (i *Issuer) signKey() any {
	switch i.key.alg {
	case "EdDSA":
		return i.key.ed
	case "ES256":
		return i.key.ec
	}
	return i.key.secret
}

func (i *Issuer) verifyKey() any {
	switch i.key.alg {
	case "EdDSA":
		return i.key.ed.Public()
	case "ES256":
		return &i.key.ec.PublicKey
	}
	return i.key.secret
}

// Subject reads a token's sub without checking anything else, so that a
// request can be told apart as beesly does (a token for another user is
// 400 before its signature is looked at). Never trust what it returns.
func Subject(s string) (string, error) {
	var c Claims
	if _, _, err := jwt.NewParser().ParseUnverified(s, &c); err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c.Subject == "" {
		return "", ErrClaims
	}
	return c.Subject, nil
}
