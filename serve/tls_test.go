package serve

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testpki"
)

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := testpki.SelfSigned(t, dir, "a")
	_, otherKey := testpki.SelfSigned(t, dir, "b")
	c, err := tlsConfig(cert, key, "", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	if c.MinVersion != tls.VersionTLS12 || c.GetCertificate == nil {
		t.Fatalf("MinVersion %x, no GetCertificate", c.MinVersion)
	}
	if got, err := c.GetCertificate(&tls.ClientHelloInfo{}); err != nil || !sameCert(t, got, cert) {
		t.Errorf("serving another certificate than --tls-cert's (%v)", err)
	}
	for _, tt := range []struct{ cert, key, why string }{
		{cert, otherKey, "a key of another certificate"},
		{filepath.Join(dir, "none.pem"), key, "no certificate file"},
		{cert, filepath.Join(dir, "none.key"), "no key file"},
		{key, cert, "certificate and key swapped"},
	} {
		if _, err := tlsConfig(tt.cert, tt.key, "", t.Logf); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
			t.Errorf("%s: %v", tt.why, err)
		}
	}
}

// sameCert: c is the certificate in the PEM file path.
func sameCert(t *testing.T, c *tls.Certificate, path string) bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	return c != nil && len(c.Certificate) > 0 && b != nil && bytes.Equal(c.Certificate[0], b.Bytes)
}

// TestTLSCertificateRenewed: a certificate renewed on disk is served
// without a restart, within certCheckInterval; a pair that does not load
// (the certificate written before its key, files gone) leaves the last
// good one served, with one log line for each change.
func TestTLSCertificateRenewed(t *testing.T) {
	dir := t.TempDir()
	pairs := map[string][2]string{}
	for _, name := range []string{"a", "b", "c"} {
		c, k := testpki.SelfSigned(t, dir, name)
		pairs[name] = [2]string{c, k}
	}
	cert, key := filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key")
	copyFile := func(from, to string, rename bool) {
		t.Helper()
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if !rename {
			if err := os.WriteFile(to, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(to+".new", data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(to+".new", to); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(pairs["a"][0], cert, true)
	copyFile(pairs["a"][1], key, true)

	now := time.Unix(1_800_000_000, 0)
	var logged []string
	r := &certReloader{certFile: cert, keyFile: key, now: func() time.Time { return now },
		logf: func(f string, args ...any) { logged = append(logged, fmt.Sprintf(f, args...)) }}
	if err := r.load(); err != nil {
		t.Fatal(err)
	}
	serving := func() string {
		t.Helper()
		c, err := r.certificate(&tls.ClientHelloInfo{})
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range pairs {
			if sameCert(t, c, p[0]) {
				return name
			}
		}
		return "none"
	}
	steps := []struct {
		name   string
		change func()
		later  time.Duration
		want   string
		logs   int
	}{
		{"at the start", func() {}, 0, "a", 0},
		{"b renamed in place, checked a moment ago", func() {
			copyFile(pairs["b"][0], cert, true)
			copyFile(pairs["b"][1], key, true)
		}, time.Second, "a", 0},
		{"b, the interval past", func() {}, certCheckInterval, "b", 1},
		{"c's certificate written over, b's key still there", func() { copyFile(pairs["c"][0], cert, false) }, certCheckInterval, "b", 1},
		{"nothing changed since", func() {}, certCheckInterval, "b", 0},
		{"c's key written over", func() { copyFile(pairs["c"][1], key, false) }, certCheckInterval, "c", 1},
		{"both files gone", func() { os.Remove(cert); os.Remove(key) }, certCheckInterval, "c", 1},
		{"the clock set back", func() {}, -time.Hour, "c", 0},
		{"a put back", func() {
			copyFile(pairs["a"][0], cert, true)
			copyFile(pairs["a"][1], key, true)
		}, certCheckInterval, "a", 1},
	}
	for _, st := range steps {
		before := len(logged)
		st.change()
		now = now.Add(st.later)
		if got := serving(); got != st.want {
			t.Errorf("%s: serving %s, want %s", st.name, got, st.want)
		}
		if n := len(logged) - before; n != st.logs {
			t.Errorf("%s: %d log lines, want %d: %q", st.name, n, st.logs, logged[before:])
		}
	}
}

// TestAuthenticateClientCert (--client-ca): over TLS, POST /authenticate
// answers a client whose certificate the client CA signed; a client
// without one gets 401 and no review, one with another CA's certificate
// no answer at all; the web API still answers clients without one.
func TestAuthenticateClientCert(t *testing.T) {
	testenv.Root(t) // --client-ca must be root's
	dir := t.TempDir()
	srvCert, srvKey := testpki.SelfSigned(t, dir, "server")
	ca, other := testpki.NewCA(t, dir, "ca"), testpki.NewCA(t, dir, "other")
	caFile := ca.File
	conf, err := tlsConfig(srvCert, srvKey, caFile, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	s, _, _, _ := newKubeServer(t)
	s.cfg.ReviewNeedsClientCert = true
	ts := httptest.NewUnstartedServer(s)
	ts.TLS = conf
	ts.StartTLS()
	defer ts.Close()
	tok, err := s.cfg.Tokens.IssueFor("alice", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(cert *tls.Certificate, method, path, body string) (int, string, error) {
		t.Helper()
		tc := &tls.Config{InsecureSkipVerify: true} // the server's certificate is not what this tests
		if cert != nil {
			// sent whatever CAs the server names (Go's client would keep
			// a certificate of another CA to itself)
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 10 * time.Second}
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	good, bad := ca.Client(t, "kube-apiserver"), other.Client(t, "kube-apiserver")

	code, body, err := ask(&good, "POST", "/authenticate", review("authentication.k8s.io/v1", tok))
	if err != nil || code != 200 || !strings.Contains(body, `"authenticated":true`) || !strings.Contains(body, `"username":"alice"`) {
		t.Errorf("kube-apiserver with its certificate: %d %s %v", code, body, err)
	}
	code, body, err = ask(nil, "POST", "/authenticate", review("authentication.k8s.io/v1", tok))
	if err != nil || code != http.StatusUnauthorized || strings.Contains(body, "alice") {
		t.Errorf("no client certificate: %d %s %v", code, body, err)
	}
	if code, body, err := ask(&bad, "POST", "/authenticate", review("authentication.k8s.io/v1", tok)); err == nil {
		t.Errorf("a certificate of another CA: answered %d %s", code, body)
	}
	if code, body, err := ask(nil, "GET", "/service/health", ""); err != nil || code != 200 {
		t.Errorf("the web API without a client certificate: %d %s %v", code, body, err)
	}
	// plain HTTP (a proxy in front that ends TLS): no certificate to see
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/authenticate", strings.NewReader(review("authentication.k8s.io/v1", tok))))
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("without TLS: %d %s", rec.Code, rec.Body)
	}

	for _, c := range []struct {
		why  string
		prep func() string
	}{
		{"a bundle others may write", func() string { p := filepath.Join(dir, "loose.pem"); copyTo(t, caFile, p, 0o666); return p }},
		{"no bundle", func() string { return filepath.Join(dir, "none.pem") }},
		{"no certificate in it", func() string { p := filepath.Join(dir, "empty.pem"); copyTo(t, srvKey, p, 0o644); return p }},
	} {
		if _, err := tlsConfig(srvCert, srvKey, c.prep(), t.Logf); err == nil || !strings.Contains(err.Error(), "--client-ca") {
			t.Errorf("%s: %v", c.why, err)
		}
	}
}

func copyTo(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}
