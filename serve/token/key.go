package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Key is the service's signing key: an HMAC secret (HS256), an Ed25519
// private key (EdDSA) or an ECDSA P-256 private key (ES256).
type Key struct {
	alg    string // HS256, EdDSA, ES256
	secret []byte
	ed     ed25519.PrivateKey
	ec     *ecdsa.PrivateKey
}

// Alg names the JWS algorithm the key signs with.
func (k Key) Alg() string { return k.alg }

// minSecret is the shortest HMAC secret taken: HS256's own 256 bits.
const minSecret = 32

// LoadKey reads the key file: root's, in directories only root may
// change (trust.ReadFile), and readable by nobody else, since whoever reads
// it can make tokens for any user. opts are trust's (AnyOwner for tests
// that cannot run as root; the mode is checked all the same).
func LoadKey(path string, opts ...trust.Option) (Key, error) {
	// whoever reads it can sign tokens for any user
	data, err := trust.ReadFile(path, 64<<10, append(opts, trust.Private)...)
	if err != nil {
		return Key{}, fmt.Errorf("signing key: %w", err)
	}
	k, err := ParseKey(data)
	if err != nil {
		return Key{}, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ParseKey takes a PEM private key (PKCS#8 "PRIVATE KEY" with Ed25519 or
// ECDSA P-256, or SEC 1 "EC PRIVATE KEY") as EdDSA or ES256; anything else
// not PEM is an HMAC secret, its trailing newline removed.
func ParseKey(data []byte) (Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		if bytes.Contains(data, []byte("-----BEGIN")) {
			return Key{}, errors.New("a PEM block that cannot be decoded")
		}
		secret := bytes.TrimRight(data, "\r\n")
		if len(secret) < minSecret {
			return Key{}, fmt.Errorf("an HMAC secret of %d bytes; at least %d are needed (head -c 32 /dev/urandom | base64 > FILE)", len(secret), minSecret)
		}
		return Key{alg: "HS256", secret: append([]byte(nil), secret...)}, nil
	}
	var parsed any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return Key{}, fmt.Errorf("a PEM block %q; a PRIVATE KEY (Ed25519 or ECDSA P-256) or an EC PRIVATE KEY is needed", block.Type)
	}
	if err != nil {
		return Key{}, err
	}
	switch k := parsed.(type) {
	case ed25519.PrivateKey:
		return Key{alg: "EdDSA", ed: k}, nil
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return Key{}, fmt.Errorf("an ECDSA key on %s; ES256 needs P-256", k.Curve.Params().Name)
		}
		return Key{alg: "ES256", ec: k}, nil
	}
	return Key{}, fmt.Errorf("a %T; Ed25519 or ECDSA P-256 is needed", parsed)
}
