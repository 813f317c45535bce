package pgp

import (
	"bytes"
	"io"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func newKey(t *testing.T, name, email string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", email, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func export(t *testing.T, armored bool, keys ...*openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var aw io.WriteCloser
	if armored {
		var err error
		if aw, err = armor.Encode(&buf, openpgp.PublicKeyType, nil); err != nil {
			t.Fatal(err)
		}
		w = aw
	}
	for _, k := range keys {
		if err := k.Serialize(w); err != nil {
			t.Fatal(err)
		}
	}
	if aw != nil {
		aw.Close()
	}
	return buf.Bytes()
}

func TestEncryptTo(t *testing.T) {
	other := newKey(t, "Other", "other@example.org")
	alice := newKey(t, "Alice", "alice@example.org")
	for _, armored := range []bool{true, false} {
		keys, err := ReadKeys(export(t, armored, other, alice))
		if err != nil || len(keys) != 2 {
			t.Fatalf("armored %v: %d keys, %v", armored, len(keys), err)
		}
		// the key of the PIN's recipient, whatever its place
		k, err := Choose(keys, []string{"ALICE@example.org"})
		if err != nil || Fingerprint(k) != Fingerprint(alice) {
			t.Fatalf("chose %v, %v", k, err)
		}
		// no match: the first, as the original did
		if k, _ := Choose(keys, []string{"bob@example.org"}); Fingerprint(k) != Fingerprint(other) {
			t.Errorf("without a matching address chose %s", Fingerprint(k))
		}
	}
	msg, err := EncryptArmored(alice, "7KQ2M9XA")
	if err != nil {
		t.Fatal(err)
	}
	block, err := armor.Decode(bytes.NewReader([]byte(msg)))
	if err != nil || block.Type != "PGP MESSAGE" {
		t.Fatalf("armor: %v", err)
	}
	md, err := openpgp.ReadMessage(block.Body, openpgp.EntityList{alice}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(md.UnverifiedBody)
	if string(plain) != "7KQ2M9XA" {
		t.Errorf("decrypted %q", plain)
	}
	// another key cannot read it
	block, _ = armor.Decode(bytes.NewReader([]byte(msg)))
	if _, err := openpgp.ReadMessage(block.Body, openpgp.EntityList{other}, nil, nil); err == nil {
		t.Error("the wrong key decrypted the PIN")
	}
}

func TestReadKeysBad(t *testing.T) {
	for _, in := range []string{"", "garbage", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n"} {
		if _, err := ReadKeys([]byte(in)); err == nil {
			t.Errorf("ReadKeys(%q) took it", in)
		}
	}
}
