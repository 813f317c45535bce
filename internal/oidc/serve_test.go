package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// serveOP is pam-accesscontrol serve as a provider: its discovery
// document and JWKS (serve/token), no introspection endpoint. The
// integration test TestServeTokenSSH runs the real serve.
type serveOP struct {
	*httptest.Server
	issue func(iss, aud string, now time.Time) *token.Issuer
	tok   *token.Issuer
}

func pemOf(t *testing.T, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func newServeOP(t *testing.T, keyPEM []byte) *serveOP {
	k, err := token.ParseKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	op := &serveOP{}
	mux := http.NewServeMux()
	mux.HandleFunc(token.WellKnown, func(w http.ResponseWriter, r *http.Request) { w.Write(op.tok.Discovery()) })
	mux.HandleFunc(token.JWKSPath, func(w http.ResponseWriter, r *http.Request) { w.Write(op.tok.JWKS()) })
	op.Server = httptest.NewServer(mux)
	t.Cleanup(op.Close)
	op.issue = func(iss, aud string, now time.Time) *token.Issuer {
		i, err := token.New(k, token.Config{Issuer: iss, Audience: aud, TTL: 15 * time.Minute, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	op.tok = op.issue(op.URL, "ssh", testNow)
	return op
}

// TestServeTokens: serve's /auth tokens for its audience are valid for
// their user, checked against its JWKS alone; its /token (Kubernetes)
// tokens and anything unexpected are refusals (*RefusedError, so that
// they count for the backoff), never introspection, which serve lacks.
func TestServeTokens(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for alg, keyPEM := range map[string][]byte{"EdDSA": pemOf(t, ed), "ES256": pemOf(t, ec)} {
		t.Run(alg, func(t *testing.T) {
			op := newServeOP(t, keyPEM)
			_, ed2, _ := ed25519.GenerateKey(rand.Reader)
			otherKey, _ := token.ParseKey(pemOf(t, ed2))
			other, _ := token.New(otherKey, token.Config{Issuer: op.URL, Audience: "ssh", TTL: time.Hour, Now: func() time.Time { return testNow }})
			must := func(s string, err error) string {
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			web := must(op.tok.Issue("alice", []string{"staff"}))
			claims := func(c jwt.MapClaims) jwt.MapClaims {
				base := jwt.MapClaims{"iss": op.URL, "aud": []string{"ssh"}, "sub": "alice", "exp": testNow.Add(time.Hour).Unix()}
				for k, v := range c {
					base[k] = v
				}
				return base
			}
			jwksBody := op.tok.JWKS()
			hmac := must(jwt.NewWithClaims(jwt.SigningMethodHS256, claims(nil)).SignedString(jwksBody))
			none := must(jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType))
			// signed with another key under serve's kid
			wrongKid := func() string {
				parts := strings.Split(web, ".")
				o := strings.Split(must(other.Issue("alice", nil)), ".")
				return parts[0] + "." + parts[1] + "." + o[2]
			}()
			for _, c := range []struct {
				name, token, user, scope, want string
			}{
				{"web token", web, "alice", "", ""},
				{"another user's", web, "bob", "", `sub is "alice", not the user "bob"`},
				{"kubernetes token", must(op.tok.IssueFor("alice", nil, time.Minute)), "alice", "", `type "kubernetes+jwt"`},
				{"expired", must(op.issue(op.URL, "ssh", testNow.Add(-16*time.Minute)).Issue("alice", nil)), "alice", "", "expired"},
				{"other audience", must(op.issue(op.URL, "web", testNow).Issue("alice", nil)), "alice", "", "another client"},
				{"no audience", must(op.issue(op.URL, "", testNow).Issue("alice", nil)), "alice", "", "another client"},
				{"other issuer", must(op.issue("https://other.example", "ssh", testNow).Issue("alice", nil)), "alice", "", "issued by"},
				{"other key", must(other.Issue("alice", nil)), "alice", "", "no introspection endpoint"},
				{"other key, serve's kid", wrongKid, "alice", "", "JWT not valid"},
				{"HMAC with the JWKS as secret", hmac, "alice", "", "signing method HS256 is invalid"},
				{"alg none", none, "alice", "", "signing method none is invalid"},
				{"opaque", "0123456789abcdef", "alice", "", "no introspection endpoint"},
				{"OIDC_SCOPE set: serve's tokens carry none", web, "alice", "ssh", `scope "ssh" missing`},
			} {
				t.Run(c.name, func(t *testing.T) {
					cl, err := New(Options{Timeout: 2 * time.Second})
					if err != nil {
						t.Fatal(err)
					}
					v, err := NewVerifier(cl, TokenSettings{Issuer: op.URL, ClientID: "ssh", ClientSecret: "unused", Scope: c.scope},
						func() time.Time { return testNow })
					if err != nil {
						t.Fatal(err)
					}
					got, err := v.Check(context.Background(), c.token, c.user)
					if c.want == "" {
						if err != nil || got.Via != "jwt" || got.User != "alice" {
							t.Fatalf("%+v %v", got, err)
						}
						return
					}
					var r *RefusedError
					if !errorsAs(err, &r) || !strings.Contains(r.Reason, c.want) {
						t.Fatalf("%+v %v, want a refusal with %q", got, err, c.want)
					}
				})
			}
		})
	}
}

func TestAccessTokenType(t *testing.T) {
	for typ, want := range map[string]bool{"": true, "JWT": true, "jwt": true, "at+jwt": true, "application/at+JWT": true,
		"kubernetes+jwt": false, "logout+jwt": false, "dpop+jwt": false, "secevent+jwt": false, "application/jwt+x": false} {
		if got := accessTokenType(typ); got != want {
			t.Errorf("%q: %v", typ, got)
		}
	}
}
