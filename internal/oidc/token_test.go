package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var testNow = time.Unix(1_800_000_000, 0)

// fakeOP is an OpenID provider for unit tests: discovery, a JWKS and an
// introspection endpoint answering claims[token]. The integration tests
// under test/ use real providers.
type fakeOP struct {
	*httptest.Server
	issuer  string
	claims  map[string]map[string]any
	methods []string // introspection auth methods it lists
	key     *rsa.PrivateKey
	asked   atomic.Int32
	gotAuth atomic.Value // "basic" or "post"
}

func newFakeOP(t *testing.T) *fakeOP {
	op := &fakeOP{claims: map[string]map[string]any{}}
	op.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": op.issuer, "introspection_endpoint": op.issuer + "/introspect",
			"jwks_uri": op.issuer + "/keys", "introspection_endpoint_auth_methods_supported": op.methods})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]any{"kty": "RSA", "kid": "k1", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(op.key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(op.key.E)).Bytes())}}})
	})
	mux.HandleFunc("/introspect", func(w http.ResponseWriter, r *http.Request) {
		op.asked.Add(1)
		id, secret, basic := r.BasicAuth()
		if basic {
			op.gotAuth.Store("basic")
		} else {
			id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
			op.gotAuth.Store("post")
		}
		if id != "pam" || secret != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		c, ok := op.claims[r.PostFormValue("token")]
		if !ok {
			c = map[string]any{"active": false}
		}
		json.NewEncoder(w).Encode(c)
	})
	op.Server = httptest.NewServer(mux)
	t.Cleanup(op.Close)
	op.issuer = op.URL
	return op
}

func (op *fakeOP) verifier(t *testing.T, s TokenSettings) *Verifier {
	cl, err := New(Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s.Issuer == "" && s.Introspection == "" {
		s.Issuer = op.issuer
	}
	s.ClientID, s.ClientSecret = "pam", "s3cret"
	v, err := NewVerifier(cl, s, func() time.Time { return testNow })
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func good(op *fakeOP, extra map[string]any) map[string]any {
	c := map[string]any{"active": true, "sub": "alice", "username": "alice", "scope": "openid pam", "client_id": "pam",
		"iss": op.issuer, "exp": float64(testNow.Add(time.Hour).Unix())}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func TestIntrospection(t *testing.T) {
	op := newFakeOP(t)
	for _, c := range []struct {
		name   string
		claims map[string]any
		s      TokenSettings
		user   string
		want   string // "" valid, else part of the refusal
	}{
		{"valid", good(op, nil), TokenSettings{Scope: "pam"}, "alice", ""},
		{"inactive", map[string]any{"active": false}, TokenSettings{}, "alice", "not active"},
		{"active as a string", good(op, map[string]any{"active": "true"}), TokenSettings{}, "alice", "not active"},
		{"expired", good(op, map[string]any{"exp": float64(testNow.Add(-time.Second).Unix())}), TokenSettings{}, "alice", "expired"},
		{"bad exp", good(op, map[string]any{"exp": "tomorrow"}), TokenSettings{}, "alice", "no usable exp"},
		{"not yet", good(op, map[string]any{"nbf": float64(testNow.Add(time.Hour).Unix())}), TokenSettings{}, "alice", "not valid before"},
		{"other user", good(op, nil), TokenSettings{}, "bob", `sub is "alice", not the user "bob"`},
		{"no sub", good(op, map[string]any{"sub": nil}), TokenSettings{}, "alice", "no sub claim"},
		{"user claim", good(op, map[string]any{"sub": "u-123"}), TokenSettings{UserClaim: "username"}, "alice", ""},
		{"user claim other", good(op, map[string]any{"username": "bob"}), TokenSettings{UserClaim: "username"}, "alice", "username is"},
		{"scope missing", good(op, map[string]any{"scope": "openid"}), TokenSettings{Scope: "pam"}, "alice", `scope "pam" missing`},
		{"scope substring is not the scope", good(op, map[string]any{"scope": "openid pam:server"}), TokenSettings{Scope: "pam"}, "alice", "missing"},
		{"other client", good(op, map[string]any{"client_id": "web"}), TokenSettings{}, "alice", "another client"},
		{"other client, we are in aud", good(op, map[string]any{"client_id": "web", "aud": []any{"web", "pam"}}), TokenSettings{}, "alice", ""},
		{"no client named: the provider vouches", good(op, map[string]any{"client_id": nil}), TokenSettings{}, "alice", ""},
		{"only another audience", good(op, map[string]any{"client_id": nil, "aud": "web"}), TokenSettings{}, "alice", "another client"},
		{"other issuer", good(op, map[string]any{"iss": "https://evil.example"}), TokenSettings{}, "alice", "issued by"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := "tok-" + strings.ReplaceAll(c.name, " ", "-")
			op.claims[tok] = c.claims
			v := op.verifier(t, c.s)
			got, err := v.Check(context.Background(), tok, c.user)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Via != "introspection" || got.Exp.IsZero() {
					t.Errorf("valid %+v", got)
				}
				return
			}
			var r *RefusedError
			if err == nil || !errorsAs(err, &r) || !strings.Contains(r.Reason, c.want) {
				t.Fatalf("Check = %+v, %v; want a refusal with %q", got, err, c.want)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("the token is in the error: %v", err)
			}
		})
	}
}

func errorsAs(err error, r **RefusedError) bool {
	x, ok := err.(*RefusedError)
	*r = x
	return ok
}

func TestIntrospectionAuth(t *testing.T) {
	op := newFakeOP(t)
	op.claims["t"] = good(op, nil)
	for _, m := range []struct {
		methods []string
		want    string
	}{{nil, "basic"}, {[]string{"client_secret_post"}, "post"}, {[]string{"client_secret_basic", "client_secret_post"}, "basic"}} {
		op.methods = m.methods
		v := op.verifier(t, TokenSettings{})
		if _, err := v.Check(context.Background(), "t", "alice"); err != nil {
			t.Fatalf("%v: %v", m.methods, err)
		}
		if got := op.gotAuth.Load(); got != m.want {
			t.Errorf("methods %v: authenticated by %v, want %s", m.methods, got, m.want)
		}
	}
	// a wrong secret is a refusal by the provider, never a valid token
	cl, _ := New(Options{Timeout: time.Second})
	v, _ := NewVerifier(cl, TokenSettings{Issuer: op.issuer, ClientID: "pam", ClientSecret: "wrong"}, nil)
	_, err := v.Check(context.Background(), "t", "alice")
	if err == nil || IsUnavailable(err) || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestNotATokenIsNeverSent(t *testing.T) {
	op := newFakeOP(t)
	v := op.verifier(t, TokenSettings{})
	for _, pw := range []string{"", "correct horse battery", "pässword", strings.Repeat("a", MaxToken+1)} {
		_, err := v.Check(context.Background(), pw, "alice")
		var r *RefusedError
		if !errorsAs(err, &r) {
			t.Errorf("%q: %v", pw, err)
		}
	}
	if n := op.asked.Load(); n != 0 {
		t.Errorf("the provider was asked %d times about passwords that are no tokens", n)
	}
}

func TestJWT(t *testing.T) {
	op := newFakeOP(t)
	v := op.verifier(t, TokenSettings{Scope: "pam"})
	sign := func(claims jwt.MapClaims, key *rsa.PrivateKey, kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func(extra map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"iss": op.issuer, "sub": "alice", "aud": "pam", "scope": "openid pam", "exp": testNow.Add(time.Hour).Unix()}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		name, token, want string
	}{
		{"valid", sign(claims(nil), op.key, "k1"), ""},
		{"expired", sign(claims(map[string]any{"exp": testNow.Add(-time.Minute).Unix()}), op.key, "k1"), "expired"},
		{"no exp", sign(claims(map[string]any{"exp": nil}), op.key, "k1"), "JWT not valid"},
		{"other audience", sign(claims(map[string]any{"aud": "web"}), op.key, "k1"), "another client"},
		{"other issuer", sign(claims(map[string]any{"iss": "https://evil.example"}), op.key, "k1"), "issued by"},
		{"other user", sign(claims(map[string]any{"sub": "bob"}), op.key, "k1"), "not the user"},
		{"no scope", sign(claims(map[string]any{"scope": "openid"}), op.key, "k1"), "missing"},
		{"forged with the right kid", sign(claims(nil), other, "k1"), "JWT not valid"},
		{"unsigned", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), "JWT not valid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := op.asked.Load()
			got, err := v.Check(context.Background(), c.token, "alice")
			if c.want == "" {
				if err != nil || got.Via != "jwt" {
					t.Fatalf("%+v %v", got, err)
				}
				if op.asked.Load() != before {
					t.Errorf("a valid JWT was introspected")
				}
				return
			}
			var r *RefusedError
			if !errorsAs(err, &r) || !strings.Contains(r.Reason, c.want) {
				t.Fatalf("%+v %v, want %q", got, err, c.want)
			}
		})
	}
	// a key the JWKS does not hold: introspection decides (inactive here)
	_, err := v.Check(context.Background(), sign(claims(nil), other, "k9"), "alice")
	var r *RefusedError
	if !errorsAs(err, &r) || !strings.Contains(r.Reason, "not active") {
		t.Errorf("unknown kid: %v", err)
	}
}

// TestDiscoveryHungDoesNotQueueLogins plays a provider that accepts a
// discovery request and never answers: a second login through the same
// Verifier (the daemon shares one) must end at its own deadline, not
// wait behind the first login's request.
func TestDiscoveryHungDoesNotQueueLogins(t *testing.T) {
	arrived := make(chan struct{}, 8)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cl, err := New(Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(cl, TokenSettings{Issuer: srv.URL, ClientID: "pam", ClientSecret: "s3cret"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, cancelFirst := context.WithTimeout(context.Background(), time.Minute)
	defer cancelFirst()
	go v.Check(first, "some.opaque-token", "alice")
	<-arrived

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := v.Check(ctx, "another.opaque-token", "alice"); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a login was let in while the provider hangs")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the second login waited behind the first one's hung discovery")
	}
}
