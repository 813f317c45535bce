package serve

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate and its key as PEM into dir under name.
func selfSigned(t *testing.T, dir, name string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "a")
	_, otherKey := selfSigned(t, dir, "b")
	c, err := tlsConfig(cert, key, t.Logf)
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
		if _, err := tlsConfig(tt.cert, tt.key, t.Logf); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
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
		c, k := selfSigned(t, dir, name)
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
