package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// TestDiscoveryRoute: the document is served for an Ed25519 key and a URL
// issuer, and is 404 for an HMAC secret or serve's default issuer.
func TestDiscoveryRoute(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ed)
	edPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for _, tt := range []struct {
		key    []byte
		issuer string
		want   int
	}{
		{edPEM, "https://sso.example.com", http.StatusOK},
		{edPEM, App, http.StatusNotFound},
		{[]byte(strings.Repeat("k", 40)), "https://sso.example.com", http.StatusNotFound},
	} {
		k, err := token.ParseKey(tt.key)
		if err != nil {
			t.Fatal(err)
		}
		tokens, err := token.New(k, token.Config{Issuer: tt.issuer, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		s := New(Config{PAM: &fakePAM{}, Tokens: tokens})
		code, body, h := do(s, "GET", token.WellKnown, "")
		if code != tt.want {
			t.Errorf("%s %s: %d %v", k.Alg(), tt.issuer, code, body)
			continue
		}
		if code == http.StatusOK && (body["issuer"] != tt.issuer || body["jwks_uri"] != tt.issuer+token.JWKSPath ||
			h.Get("Content-Type") != "application/json") {
			t.Errorf("%s: %v %v", tt.issuer, body, h)
		}
	}
}

func TestDiscoveryNote(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ed)
	edPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	hmac := []byte(strings.Repeat("k", 40))
	for _, tt := range []struct {
		key    []byte
		issuer string
		want   string // "" no note
	}{
		{edPEM, "https://login.example.com", ""},
		{edPEM, App, ""},
		{hmac, App, ""},
		{hmac, "https://login.example.com", "HMAC secret cannot be published"},
		{edPEM, "http://login.example.com", "must be an https URL"},
	} {
		k, _ := token.ParseKey(tt.key)
		tokens, err := token.New(k, token.Config{Issuer: tt.issuer, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		got := discoveryNote(tokens, tt.issuer)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s %s: %q, want %q", k.Alg(), tt.issuer, got, tt.want)
		}
	}
	if discoveryNote(nil, "https://login.example.com") != "" {
		t.Error("a note without tokens")
	}
}
