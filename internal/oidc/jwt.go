package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// jwtMethods are the signatures a JWT may carry: asymmetric only (an
// HMAC key would be the client secret, which the provider does not sign
// access tokens with), never "none".
var jwtMethods = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// looksLikeJWT: three base64url parts whose first is a JSON header.
func looksLikeJWT(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var head struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(h, &head) == nil && head.Alg != ""
}

// jwtType is the typ of a JWT's header ("" for none or an unreadable
// header, which jwt.Parse refuses later).
func jwtType(token string) string {
	h, err := base64.RawURLEncoding.DecodeString(strings.SplitN(token, ".", 2)[0])
	if err != nil {
		return ""
	}
	var head struct {
		Typ any `json:"typ"`
	}
	if json.Unmarshal(h, &head) != nil || head.Typ == nil {
		return ""
	}
	if s, ok := head.Typ.(string); ok {
		return s
	}
	return fmt.Sprint(head.Typ) // not a string: no access token type
}

// accessTokenType: a JWT typed as an access token may be a password,
// one typed otherwise never (explicit typing, RFC 8725 section 3.11): an
// untyped one or "JWT" (most providers' access tokens), and RFC 9068's
// "at+jwt", with or without "application/" (RFC 7515 4.1.9: media types
// compare case-insensitively). Refused: pam-accesscontrol serve's GET
// /token tokens ("kubernetes+jwt", for kube-apiserver), logout tokens,
// security events, DPoP proofs, and anything else made for another job.
func accessTokenType(typ string) bool {
	t := strings.ToLower(typ)
	t = strings.TrimPrefix(t, "application/")
	return typ == "" || t == "jwt" || t == "at+jwt"
}

// jwks is a provider's signing keys by kid ("" for a key without one).
type jwks struct {
	keys map[string]crypto.PublicKey
}

// fetchKeys reads the JWKS at m.JWKSURI, bounded like every answer.
func (v *Verifier) fetchKeys(ctx context.Context, m *Metadata) (*jwks, error) {
	body, err := v.c.get(ctx, "jwks", m.JWKSURI)
	if err != nil {
		return nil, err
	}
	return parseJWKS(body)
}

func parseJWKS(body []byte) (*jwks, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Crv string `json:"crv"`
			N   string `json:"n"`
			E   string `json:"e"`
			X   string `json:"x"`
			Y   string `json:"y"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("jwks: not a JSON Web Key Set")
	}
	out := &jwks{keys: map[string]crypto.PublicKey{}}
	for _, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var pub crypto.PublicKey
		switch k.Kty {
		case "RSA":
			n, err1 := b64int(k.N)
			e, err2 := b64int(k.E)
			if err1 != nil || err2 != nil || !e.IsInt64() || e.Int64() < 3 || n.BitLen() < 2048 {
				continue
			}
			pub = &rsa.PublicKey{N: n, E: int(e.Int64())}
		case "EC":
			var curve elliptic.Curve
			switch k.Crv {
			case "P-256":
				curve = elliptic.P256()
			case "P-384":
				curve = elliptic.P384()
			case "P-521":
				curve = elliptic.P521()
			default:
				continue
			}
			x, err1 := b64int(k.X)
			y, err2 := b64int(k.Y)
			if err1 != nil || err2 != nil || !curve.IsOnCurve(x, y) {
				continue
			}
			pub = &ecdsa.PublicKey{Curve: curve, X: x, Y: y}
		case "OKP":
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
				continue
			}
			pub = ed25519.PublicKey(x)
		default:
			continue
		}
		out.keys[k.Kid] = pub
	}
	return out, nil
}

func b64int(s string) (*big.Int, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, errors.New("bad number")
	}
	return new(big.Int).SetBytes(b), nil
}

// key finds the key of kid, fetching the JWKS again once when it is not
// known (the provider rolled its keys).
func (v *Verifier) key(ctx context.Context, m *Metadata, kid string) (crypto.PublicKey, error) {
	v.mu.Lock()
	keys := v.keys
	v.mu.Unlock()
	if keys != nil {
		if k, ok := keys.keys[kid]; ok {
			return k, nil
		}
	}
	fresh, err := v.fetchKeys(ctx, m)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.keys = fresh
	v.mu.Unlock()
	if k, ok := fresh.keys[kid]; ok {
		return k, nil
	}
	return nil, nil
}

// checkJWT verifies a JWT locally: signed by a key of the issuer's JWKS,
// then the same checks as an introspection's answer (exp required, iss,
// audience, scope, user). A JWT whose key the JWKS does not hold is left
// to introspection (Valid.Via empty, no error).
func (v *Verifier) checkJWT(ctx context.Context, m *Metadata, token, user string) (Valid, error) {
	if typ := jwtType(token); !accessTokenType(typ) {
		return Valid{}, refused("a JWT of type %q, which is no access token", clip(typ, 60))
	}
	var keyErr error
	var unknownKey bool
	parsed, err := jwt.Parse(token, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := v.key(ctx, m, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		if k == nil {
			unknownKey = true
			return nil, errors.New("unknown key")
		}
		return k, nil
	}, jwt.WithValidMethods(jwtMethods), jwt.WithTimeFunc(v.now), jwt.WithExpirationRequired(), jwt.WithLeeway(0))
	switch {
	case keyErr != nil:
		if IsUnavailable(keyErr) {
			return Valid{}, keyErr
		}
		return Valid{}, nil // no usable JWKS: introspection decides
	case unknownKey:
		return Valid{}, nil
	case errors.Is(err, jwt.ErrTokenExpired):
		return Valid{}, refused("expired (JWT)")
	case err != nil:
		return Valid{}, refused("JWT not valid: %s", clip(err.Error(), 120))
	}
	claims, ok := parsed.Claims.(jwt.MapClaims)
	if !ok {
		return Valid{}, refused("JWT claims unreadable")
	}
	return v.checkClaims(map[string]any(claims), user, m.Issuer, "jwt")
}
