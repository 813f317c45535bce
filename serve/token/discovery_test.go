package token

import (
	"encoding/json"
	"testing"
)

// TestDiscovery: a document only for an asymmetric key and an issuer a
// relying party may fetch it at, naming the JWKS under the issuer.
func TestDiscovery(t *testing.T) {
	ks := keys(t)
	for _, tt := range []struct {
		alg, iss, jwks string // jwks "": no document
	}{
		{"EdDSA", "https://sso.example.com", "https://sso.example.com/.well-known/jwks.json"},
		{"ES256", "https://sso.example.com/serve/", "https://sso.example.com/serve/.well-known/jwks.json"},
		{"EdDSA", "http://127.0.0.1:8443", "http://127.0.0.1:8443/.well-known/jwks.json"},
		{"HS256", "https://sso.example.com", ""},       // the secret cannot be published
		{"EdDSA", "pam-accesscontrol", ""},             // serve's default --issuer
		{"EdDSA", "http://sso.example.com", ""},        // plain http to another host
		{"EdDSA", "https://sso.example.com/?x=1", ""},  // a query
		{"ES256", "https://sso.example.com/#frag", ""}, // a fragment
	} {
		d := issuer(t, ks[tt.alg], tt.iss, "", t0).Discovery()
		if tt.jwks == "" {
			if d != nil {
				t.Errorf("%s %s: a document: %s", tt.alg, tt.iss, d)
			}
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(d, &m); err != nil {
			t.Fatalf("%s %s: %s: %v", tt.alg, tt.iss, d, err)
		}
		if m["issuer"] != tt.iss || m["jwks_uri"] != tt.jwks {
			t.Errorf("%s %s: %s", tt.alg, tt.iss, d)
		}
		if algs, _ := m["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != tt.alg {
			t.Errorf("%s: algs %v", tt.alg, algs)
		}
		for _, absent := range []string{"introspection_endpoint", "token_endpoint", "authorization_endpoint", "device_authorization_endpoint"} {
			if _, ok := m[absent]; ok {
				t.Errorf("%s: names %s, which serve does not have", tt.iss, absent)
			}
		}
	}
}
