// Package pgp encrypts a PINGPG one-time PIN to the user's OpenPGP key,
// in process (ProtonMail's go-crypto), so no gpg runs as root on files
// a user controls.
package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ReadKeys reads public keys, ASCII-armored or binary, as gpg --export
// writes them.
func ReadKeys(data []byte) (openpgp.EntityList, error) {
	var keys openpgp.EntityList
	var err error
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		keys, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		keys, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("reading OpenPGP keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("no OpenPGP key in it")
	}
	return keys, nil
}

// Choose picks the key to encrypt to: the first that can encrypt and has
// a user id with one of addrs (the PIN's recipients), else the first that
// can encrypt at all (what the original did: the keyring's first key).
func Choose(keys openpgp.EntityList, addrs []string) (*openpgp.Entity, error) {
	var usable []*openpgp.Entity
	for _, e := range keys {
		if _, ok := e.EncryptionKey(packetConfig.Now()); ok {
			usable = append(usable, e)
		}
	}
	if len(usable) == 0 {
		return nil, errors.New("no key that can encrypt (expired, revoked or signing only)")
	}
	for _, e := range usable {
		for _, id := range e.Identities {
			if a, err := mail.ParseAddress(id.Name); err == nil && slices.ContainsFunc(addrs, func(s string) bool {
				return strings.EqualFold(s, a.Address)
			}) {
				return e, nil
			}
		}
	}
	return usable[0], nil
}

var packetConfig = &packet.Config{}

// EncryptArmored encrypts text to key, unsigned, as an ASCII-armored
// OpenPGP message that gpg --decrypt reads.
func EncryptArmored(key *openpgp.Entity, text string) (string, error) {
	var out bytes.Buffer
	aw, err := armor.Encode(&out, "PGP MESSAGE", nil)
	if err != nil {
		return "", err
	}
	pw, err := openpgp.Encrypt(aw, []*openpgp.Entity{key}, nil, nil, packetConfig)
	if err != nil {
		return "", fmt.Errorf("encrypting: %w", err)
	}
	if _, err := io.WriteString(pw, text); err != nil {
		return "", err
	}
	if err := pw.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return out.String() + "\n", nil
}

// Fingerprint is the key's fingerprint in hex, for log lines.
func Fingerprint(key *openpgp.Entity) string {
	return fmt.Sprintf("%X", key.PrimaryKey.Fingerprint)
}
