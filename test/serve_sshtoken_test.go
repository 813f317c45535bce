package test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServeTokenSSH: `pam-accesscontrol serve` as the token issuer of a
// TOKEN rule. A real serve with an Ed25519 key and --issuer its own URL
// publishes discovery and a JWKS; the rules name it as OIDC_ISSUER, with
// its --audience as OIDC_CLIENT_ID, and `SSHD TOKEN USER alice,bob`. A
// token from its POST /auth is alice's SSH password through real libpam
// (pamtester, pam_wrapper, the sshd stack of pam-configure --tokens
// only), checked against the JWKS alone. Refused, each for its own reason
// in the audit trail: an expired token (a serve with a short --token-ttl),
// bob's token as alice's, a token signed by another key, one for another
// --audience, a token from GET /token (Kubernetes'), alice's Unix
// password, and a token of a serve with an HMAC secret (no discovery).
func TestServeTokenSSH(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\n", "alice:secret:web\nbob:secret:web\nalice:secret:kubernetes\n"+
		"alice:alice-unix:sshd\nbob:bob-unix:sshd\n", "web", "kubernetes")
	tokenStack(t, s, "only")

	key, otherKey := ed25519Key(t, s.dir, "signing.key"), ed25519Key(t, s.dir, "other.key")
	port := freePort(t)
	issuer := "http://127.0.0.1:" + strconv.Itoa(port)
	serve := func(port int, args ...string) string {
		return startServeOn(t, s, port, "http", nil, append([]string{"--issuer", issuer}, args...)...)
	}
	base := serve(port, "--signing-key", key, "--audience", "ssh", "--token-ttl", "10m")
	short := serve(freePort(t), "--signing-key", key, "--audience", "ssh", "--token-ttl", "2s")
	otherAud := serve(freePort(t), "--signing-key", key, "--audience", "web", "--token-ttl", "10m")
	otherSigner := serve(freePort(t), "--signing-key", otherKey, "--audience", "ssh", "--token-ttl", "10m")

	code, raw, _ := curlDo(t, "GET", base+"/.well-known/openid-configuration", "")
	var disco map[string]any
	if err := json.Unmarshal(raw, &disco); code != 200 || err != nil || disco["issuer"] != issuer ||
		disco["jwks_uri"] != issuer+"/.well-known/jwks.json" {
		t.Fatalf("discovery: %d %s", code, raw)
	}

	secret := filepath.Join(s.dir, "oidc.secret")
	must(t, os.WriteFile(secret, []byte("never-sent\n"), 0o600))
	must(t, os.WriteFile(s.rules, []byte(fmt.Sprintf("OIDC_ISSUER:%s\nOIDC_CLIENT_ID:ssh\nOIDC_CLIENT_SECRET:%s\nOIDC_TIMEOUT:2\n"+
		"OIDC_CACHE:OFF\nAUDIT_LOG:%s\nDEFAULT:CLOSE\nWEB OPEN USER alice,bob\nKUBERNETES OPEN USER alice\nSSHD TOKEN USER alice,bob\n",
		issuer, secret, filepath.Join(s.dir, "audit.json"))), 0o644))

	webToken := func(base, user string) string {
		t.Helper()
		code, raw, _ := curlDo(t, "POST", base+"/auth", `{"username":"`+user+`","password":"secret"}`)
		var out map[string]any
		json.Unmarshal(raw, &out)
		tok, _ := out["jwt"].(string)
		if code != 200 || tok == "" {
			t.Fatalf("%s /auth for %s: %d %s", base, user, code, raw)
		}
		return tok
	}
	login := func(user, password string) (bool, string, string) {
		t.Helper()
		ok, out := tokenLogin(t, s, user, password)
		kind, reason := lastTokenEvent(t, s)
		return ok, kind + " " + reason, out
	}

	expired := webToken(short, "alice") // refused below, once it is
	if ok, ev, out := login("alice", webToken(base, "alice")); !ok || !strings.Contains(ev, "token_ok valid (jwt)") {
		t.Fatalf("alice with serve's token refused: %s\n%s", ev, out)
	}
	if ok, ev, out := login("bob", webToken(base, "bob")); !ok || !strings.Contains(ev, "token_ok") {
		t.Fatalf("bob with serve's token refused: %s\n%s", ev, out)
	}

	_, kubeRaw, _ := curlDo(t, "GET", base+"/token", "", "-u", "alice:secret")
	kube := strings.TrimSpace(string(kubeRaw))
	if strings.Count(kube, ".") != 2 {
		t.Fatalf("GET /token for alice: %q", kubeRaw)
	}
	time.Sleep(time.Until(tokenExp(t, expired).Add(time.Second)))
	for _, c := range []struct{ name, password, reason string }{
		{"an expired token", expired, "expired"},
		{"bob's token as alice's", webToken(base, "bob"), `sub is "bob", not the user "alice"`},
		{"a token signed by another key", webToken(otherSigner, "alice"), "not a JWT signed by a key of the issuer's JWKS"},
		{"a token for another audience", webToken(otherAud, "alice"), "issued to another client"},
		{"a Kubernetes token (GET /token)", kube, `type "kubernetes+jwt"`},
		{"alice's Unix password", "alice-unix", "not a JWT signed by a key of the issuer's JWKS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, ev, out := login("alice", c.password)
			if ok {
				t.Fatalf("let in (%s):\n%s", ev, out)
			}
			if !strings.HasPrefix(ev, "token_refused ") || !strings.Contains(ev, c.reason) {
				t.Errorf("audit: %q, want token_refused with %q", ev, c.reason)
			}
			// the backoff counts refusals: a valid token ends it
			if ok, ev, out := login("alice", webToken(base, "alice")); !ok {
				t.Fatalf("alice's valid token refused after that: %s\n%s", ev, out)
			}
		})
	}

	// an HMAC serve publishes no discovery (its secret would be the JWKS):
	// a TOKEN rule pointed at it lets nobody in
	hmacKey := filepath.Join(s.dir, "hmac.key")
	must(t, os.WriteFile(hmacKey, []byte("0123456789abcdef0123456789abcdef-test\n"), 0o600))
	hmacPort := freePort(t)
	hmacIssuer := "http://127.0.0.1:" + strconv.Itoa(hmacPort)
	hmacBase := startServeOn(t, s, hmacPort, "http", nil, "--issuer", hmacIssuer, "--signing-key", hmacKey, "--audience", "ssh")
	rules, _ := os.ReadFile(s.rules)
	must(t, os.WriteFile(s.rules, []byte(strings.ReplaceAll(string(rules), issuer, hmacIssuer)), 0o644))
	if ok, ev, out := login("alice", webToken(hmacBase, "alice")); ok || !strings.Contains(ev, "token_refused discovery") {
		t.Errorf("a token of an HMAC serve: let in %v, %s\n%s", ok, ev, out)
	}

	data, _ := os.ReadFile(filepath.Join(s.dir, "audit.json"))
	if strings.Contains(string(data), expired) || strings.Contains(string(data), kube) {
		t.Error("a token is in the audit trail")
	}
}

// ed25519Key writes a new Ed25519 private key as PKCS#8 PEM, root's alone
// (what `openssl genpkey -algorithm ed25519` writes), and returns its path.
func ed25519Key(t *testing.T, dir, name string) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	must(t, err)
	path := filepath.Join(dir, name)
	must(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	return path
}

// tokenExp is a JWT's exp, read without checking anything.
func tokenExp(t *testing.T, tok string) time.Time {
	t.Helper()
	parts := strings.Split(tok, ".")
	var c struct {
		Exp int64 `json:"exp"`
	}
	var payload []byte
	if len(parts) == 3 {
		payload, _ = base64.RawURLEncoding.DecodeString(parts[1])
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == 0 {
		t.Fatalf("no exp in %q", tok)
	}
	return time.Unix(c.Exp, 0)
}
