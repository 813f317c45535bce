package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

func pemKey(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func keys(t *testing.T) map[string][]byte {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return map[string][]byte{
		"HS256": []byte(rand.Text() + rand.Text() + "\n"),

		"EdDSA": pemKey(t, ed),
		"ES256": pemKey(t, ec),
	}
}

var t0 = time.Unix(1_700_000_000, 0)

func issuer(t *testing.T, data []byte, iss, aud string, now time.Time) *Issuer {
	t.Helper()
	return issuerClock(t, data, iss, aud, func() time.Time { return now })
}

// issuerClock is an Issuer whose time is clock's.
func issuerClock(t *testing.T, data []byte, iss, aud string, clock func() time.Time) *Issuer {
	t.Helper()
	k, err := ParseKey(data)
	if err != nil {
		t.Fatal(err)
	}
	i, err := New(k, Config{Issuer: iss, Audience: aud, TTL: 15 * time.Minute, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestIssueVerify(t *testing.T) {
	for alg, data := range keys(t) {
		t.Run(alg, func(t *testing.T) {
			i := issuer(t, data, "pam-accesscontrol", "k8s", t0)
			if i.key.Alg() != alg {
				t.Fatalf("alg %s", i.key.Alg())
			}
			s, err := i.Issue("dwight.schrute@dundermifflin.com", []string{"Sales", "Domain Users"})
			if err != nil {
				t.Fatal(err)
			}
			c, err := i.Verify(s)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject != "dwight.schrute@dundermifflin.com" || strings.Join(c.Groups, "|") != "Sales|Domain Users" ||
				c.ID == "" || !c.ExpiresAt.Equal(t0.Add(15*time.Minute)) || c.Audience[0] != "k8s" {
				t.Errorf("claims %+v", c)
			}
			for name, tt := range map[string]struct {
				v    *Issuer
				want error
			}{
				"expired":        {issuer(t, data, "pam-accesscontrol", "k8s", t0.Add(16*time.Minute)), ErrInvalid},
				"other issuer":   {issuer(t, data, "beesly", "k8s", t0), ErrInvalid},
				"other audience": {issuer(t, data, "pam-accesscontrol", "other", t0), ErrInvalid},
				"other key":      {issuer(t, keys(t)[alg], "pam-accesscontrol", "k8s", t0), ErrInvalid},
			} {
				if _, err := tt.v.Verify(s); !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", name, err, tt.want)
				}
			}
			for _, bad := range []string{"", "garbage", "a.b.c", s + "x"} {
				if _, err := i.Verify(bad); err == nil {
					t.Errorf("%q verified", bad)
				}
			}
			if _, err := i.Verify("garbage"); !errors.Is(err, ErrMalformed) {
				t.Errorf("garbage: %v", err)
			}
		})
	}
}

// TestAlgorithmConfusion plays the attacker who knows the public key (from
// the JWKS) and signs with it as an HMAC secret, or sends alg none.
func TestAlgorithmConfusion(t *testing.T) {
	ks := keys(t)
	claims := Claims{Groups: []string{"root"}, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "pam-accesscontrol", Subject: "mallory",
		IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Hour))}}
	for _, alg := range []string{"EdDSA", "ES256"} {
		i := issuer(t, ks[alg], "pam-accesscontrol", "", t0)
		jwks := i.JWKS()
		pubDER, _ := x509.MarshalPKIXPublicKey(i.verifyKey())
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
		var raw []byte
		if alg == "EdDSA" {
			raw = i.key.ed.Public().(ed25519.PublicKey)
		}
		for name, secret := range map[string][]byte{"jwks": jwks, "pem": pubPEM, "der": pubDER, "raw": raw} {
			if secret == nil {
				continue
			}
			forged, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := i.Verify(forged); err == nil {
				t.Errorf("%s: an HS256 token signed with the public key (%s) verified: %+v", alg, name, c)
			}
		}
	}
	for alg, data := range ks {
		i := issuer(t, data, "pam-accesscontrol", "", t0)
		none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := i.Verify(none); err == nil {
			t.Errorf("%s: alg none verified", alg)
		}
		// a token without sub
		c := claims
		c.Subject = ""
		s, _ := jwt.NewWithClaims(i.method, c).SignedString(i.signKey())
		if _, err := i.Verify(s); !errors.Is(err, ErrClaims) {
			t.Errorf("%s: no sub: %v", alg, err)
		}
		// a token without exp
		c = claims
		c.ExpiresAt = nil
		s, _ = jwt.NewWithClaims(i.method, c).SignedString(i.signKey())
		if _, err := i.Verify(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: no exp: %v", alg, err)
		}
	}
}

func TestJWKS(t *testing.T) {
	ks := keys(t)
	if j := issuer(t, ks["HS256"], "x", "", t0).JWKS(); j != nil {
		t.Fatalf("an HMAC secret published: %s", j)
	}
	for _, alg := range []string{"EdDSA", "ES256"} {
		i := issuer(t, ks[alg], "x", "", t0)
		var set struct {
			Keys []map[string]string `json:"keys"`
		}
		if err := json.Unmarshal(i.JWKS(), &set); err != nil || len(set.Keys) != 1 {
			t.Fatalf("%s: %s %v", alg, i.JWKS(), err)
		}
		k := set.Keys[0]
		if k["alg"] != alg || k["kid"] == "" || k["d"] != "" {
			t.Errorf("%s: %v", alg, k)
		}
		s, _ := i.Issue("alice", nil)
		tok, _, err := jwt.NewParser().ParseUnverified(s, &Claims{})
		if err != nil || tok.Header["kid"] != k["kid"] {
			t.Errorf("%s: kid %v, JWKS %s (%v)", alg, tok.Header["kid"], k["kid"], err)
		}
	}
}

func TestParseKeyRefuses(t *testing.T) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, data := range map[string][]byte{
		"short secret": []byte("password\n"),
		"P-384":        pemKey(t, ec384),
		"public key":   pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}),
		"broken pem":   []byte("-----BEGIN PRIVATE KEY-----\nnot base64\n"),
	} {
		if _, err := ParseKey(data); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestLoadKeyMode: a key others may read is refused, with the fix.
func TestLoadKeyMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key")
	if err := os.WriteFile(path, keys(t)["HS256"], 0o600); err != nil {
		t.Fatal(err)
	}
	opts := []trust.Option{trust.AnyOwner}
	if os.Geteuid() == 0 {
		opts = nil // the whole rule: root's file, in root's directories
	}
	if _, err := LoadKey(path, opts...); err != nil {
		t.Fatalf("0600: %v", err)
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		os.Chmod(path, mode)
		_, err := LoadKey(path, opts...)
		if err == nil || !strings.Contains(err.Error(), "chmod") {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	if os.Geteuid() == 0 {
		os.Chmod(path, 0o600)
		os.Chown(path, 1000, 1000)
		if _, err := LoadKey(path); err == nil || !strings.Contains(err.Error(), "not root") {
			t.Errorf("a user's key: %v", err)
		}
	}
}

func TestSubject(t *testing.T) {
	i := issuer(t, keys(t)["EdDSA"], "x", "", t0)
	s, _ := i.Issue("alice", nil)
	if sub, err := Subject(s); sub != "alice" || err != nil {
		t.Errorf("%q %v", sub, err)
	}
	if _, err := Subject("nope"); !errors.Is(err, ErrMalformed) {
		t.Errorf("nope: %v", err)
	}
	c := Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "x"}}
	s, _ = jwt.NewWithClaims(i.method, c).SignedString(i.signKey())
	if _, err := Subject(s); !errors.Is(err, ErrClaims) {
		t.Errorf("no sub: %v", err)
	}
}

// TestIssueFor: /token's lifetimes stay within the TTL, and the token
// carries pam_hook's username claim equal to sub.
func TestIssueFor(t *testing.T) {
	i := issuer(t, []byte(strings.Repeat("k", 40)), "pam-accesscontrol", "k8s", t0)
	for _, ttl := range []time.Duration{0, -time.Minute, 16 * time.Minute} {
		if _, err := i.IssueFor("alice", nil, ttl); !errors.Is(err, ErrTTL) {
			t.Errorf("ttl %v: %v", ttl, err)
		}
	}
	s, err := i.IssueFor("alice", []string{"admins"}, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := i.Verify(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Username != "alice" || c.Subject != "alice" || c.ExpiresAt.Sub(c.IssuedAt.Time) != 3*time.Minute {
		t.Errorf("claims %+v", c)
	}
	// a token whose username claim names someone else than sub
	forged := jwt.NewWithClaims(jwt.SigningMethodHS256, Claims{Username: "root", RegisteredClaims: jwt.RegisteredClaims{
		Issuer: "pam-accesscontrol", Subject: "alice", Audience: jwt.ClaimStrings{"k8s"},
		IssuedAt: jwt.NewNumericDate(t0), ExpiresAt: jwt.NewNumericDate(t0.Add(time.Minute))}})
	fs, _ := forged.SignedString(i.signKey())
	if _, err := i.Verify(fs); !errors.Is(err, ErrInvalid) {
		t.Errorf("username != sub: %v", err)
	}
	if s, _ := i.Issue("alice", nil); strings.Contains(string(mustDecode(t, s)), "username") {
		t.Errorf("Issue carries username: %s", mustDecode(t, s))
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	parts := strings.Split(s, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKubeType: GET /token's tokens are typed, so that a relying party
// taking access tokens can refuse them; /auth's are not.
func TestKubeType(t *testing.T) {
	for alg, data := range keys(t) {
		i := issuer(t, data, "pam-accesscontrol", "k8s", t0)
		web, _ := i.Issue("alice", nil)
		kube, _ := i.IssueFor("alice", nil, time.Minute)
		for s, want := range map[string]string{web: "JWT", kube: KubeType} {
			tok, _, err := jwt.NewParser().ParseUnverified(s, &Claims{})
			if err != nil || tok.Header["typ"] != want {
				t.Errorf("%s: typ %v, want %s (%v)", alg, tok.Header["typ"], want, err)
			}
			if _, err := i.Verify(s); err != nil {
				t.Errorf("%s: %v", alg, err)
			}
		}
	}
}
