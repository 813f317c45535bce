package token

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
)

// jwk is one public key as RFC 7517 writes it.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is the public key set for /.well-known/jwks.json; nil for an HMAC
// secret, which must never be published.
func (i *Issuer) JWKS() []byte {
	k, ok := publicJWK(i.key)
	if !ok {
		return nil
	}
	out, _ := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{[]jwk{k}})
	return out
}

func publicJWK(k Key) (jwk, bool) {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k.alg {
	case "EdDSA":
		pub := k.ed.Public().(ed25519.PublicKey)
		return jwk{Kty: "OKP", Crv: "Ed25519", X: b64(pub), Kid: keyID(k), Alg: "EdDSA", Use: "sig"}, true
	case "ES256":
		var x, y [32]byte
		k.ec.X.FillBytes(x[:])
		k.ec.Y.FillBytes(y[:])
		return jwk{Kty: "EC", Crv: "P-256", X: b64(x[:]), Y: b64(y[:]), Kid: keyID(k), Alg: "ES256", Use: "sig"}, true
	}
	return jwk{}, false
}

// keyID is the RFC 7638 thumbprint of the public key: the SHA-256 of its
// required members in lexical order, base64url.
func keyID(k Key) string {
	b64 := base64.RawURLEncoding.EncodeToString
	var canon string
	switch k.alg {
	case "EdDSA":
		canon = `{"crv":"Ed25519","kty":"OKP","x":"` + b64(k.ed.Public().(ed25519.PublicKey)) + `"}`
	case "ES256":
		var x, y [32]byte
		k.ec.X.FillBytes(x[:])
		k.ec.Y.FillBytes(y[:])
		canon = `{"crv":"P-256","kty":"EC","x":"` + b64(x[:]) + `","y":"` + b64(y[:]) + `"}`
	default:
		return ""
	}
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}
