package oidc

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"https://sso.example.com/", ""},
		{"https://sso.example.com/realms/x", ""},
		{"http://127.0.0.1:8080/", ""},
		{"http://[::1]:8080/op", ""},
		{"http://localhost:9/", ""},
		{"http://sso.example.com/", "plain http"},
		{"http://10.0.0.1/", "plain http"},
		{"ftp://sso.example.com/", "scheme must be https"},
		{"https://user:pw@sso.example.com/", "user information"},
		{"https://sso.example.com/#x", "fragment"},
		{"sso.example.com", "no host"},
		{"", "no host"},
		{"https://%zz", "not a URL"},
	} {
		err := CheckURL(c.url)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckURL(%q) = %v, want %q", c.url, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("CheckURL(%q) shows the password: %v", c.url, err)
		}
	}
}

// provider serves a discovery document; doc gets the issuer URL.
func provider(t *testing.T, doc func(issuer string) any) (*httptest.Server, string) {
	t.Helper()
	var issuer string
	mux := http.NewServeMux()
	mux.HandleFunc("/op"+WellKnown, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(doc(issuer))
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	issuer = s.URL + "/op"
	return s, issuer
}

func TestDiscover(t *testing.T) {
	good := func(iss string) any {
		return map[string]any{"issuer": iss, "introspection_endpoint": iss + "/introspect", "jwks_uri": iss + "/keys",
			"introspection_endpoint_auth_methods_supported": []string{"client_secret_post"}}
	}
	for _, c := range []struct {
		name string
		doc  func(string) any
		want string
	}{
		{"good", good, ""},
		{"other issuer", func(iss string) any { return map[string]any{"issuer": "https://evil.example/"} }, "says its issuer is"},
		{"issuer with slash", func(iss string) any { return map[string]any{"issuer": iss + "/"} }, "equal exactly"},
		{"http endpoint elsewhere", func(iss string) any {
			return map[string]any{"issuer": iss, "introspection_endpoint": "http://sso.example.com/introspect"}
		}, "introspection_endpoint"},
		{"not an object", func(string) any { return []int{1} }, "not a JSON object"},
		{"huge", func(iss string) any { return map[string]any{"issuer": iss, "x": strings.Repeat("a", MaxAnswer)} }, "more than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, issuer := provider(t, c.doc)
			cl, err := New(Options{Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			m, err := cl.Discover(context.Background(), issuer)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m.IntrospectionEndpoint != issuer+"/introspect" || m.IntrospectionAuth() != ClientSecretPost {
					t.Errorf("metadata %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Discover = %v, want %q", err, c.want)
			}
			if IsUnavailable(err) {
				t.Errorf("a wrong answer is a refusal, not an unavailable provider: %v", err)
			}
		})
	}
}

func TestDiscoverUnavailable(t *testing.T) {
	hang := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/down") {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer s.Close()
	defer close(hang)
	cl, err := New(Options{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = cl.Discover(context.Background(), s.URL+"/hung")
	if !IsUnavailable(err) || time.Since(start) > 2*time.Second {
		t.Errorf("hung provider: %v after %v", err, time.Since(start))
	}
	if _, err = cl.Discover(context.Background(), s.URL+"/down"); !IsUnavailable(err) {
		t.Errorf("502: %v, want unavailable", err)
	}
	// nothing listens
	l := httptest.NewServer(http.NotFoundHandler())
	addr := l.URL
	l.Close()
	if _, err = cl.Discover(context.Background(), addr); !IsUnavailable(err) {
		t.Errorf("closed port: %v, want unavailable", err)
	}
	// 404 is a wrong answer, not an outage
	if _, err = cl.Discover(context.Background(), s.URL[:len(s.URL)]+"/nope?x"); err == nil || IsUnavailable(err) {
		t.Errorf("issuer with a query: %v", err)
	}
}

func TestDiscoverTLS(t *testing.T) {
	var issuer string
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer})
	}))
	defer s.Close()
	issuer = s.URL
	// without OIDC_CA, the test server's certificate is not trusted
	cl, err := New(Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Discover(context.Background(), issuer); err == nil {
		t.Fatal("a certificate of an unknown CA was accepted")
	}
	if os.Geteuid() != 0 {
		t.Skip("OIDC_CA must be root's: run as root for the rest")
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	cl, err = New(Options{CA: ca, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Discover(context.Background(), issuer); err != nil {
		t.Fatalf("with OIDC_CA: %v", err)
	}
	os.Chmod(ca, 0o666)
	if _, err := New(Options{CA: ca}); err == nil || !strings.Contains(err.Error(), "OIDC_CA") {
		t.Errorf("a world-writable OIDC_CA: %v", err)
	}
}

func TestPickAuth(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want AuthMethod
	}{
		{nil, ClientSecretBasic},
		{[]string{"client_secret_basic", "client_secret_post"}, ClientSecretBasic},
		{[]string{"client_secret_post"}, ClientSecretPost},
		{[]string{"private_key_jwt"}, ClientSecretBasic},
	} {
		if got := pickAuth(c.in); got != c.want {
			t.Errorf("pickAuth(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
