package test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// kubeWebhookBin builds test/kubewebhook (Kubernetes' own webhook token
// authenticator, its own Go module so that k8s.io/apiserver stays out of
// the product's go.mod) once per run of the tests.
var kubeWebhookBin = sync.OnceValues(func() (string, error) {
	out := filepath.Join(buildDir, "kubewebhook")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = "kubewebhook"
	start := time.Now()
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building test/kubewebhook (k8s.io/apiserver from the module proxy): %v\n%s", err, msg)
	}
	// cold (k8s.io/apiserver, client-go and all of k8s.io/api, which
	// client-go's typed clients register: 671 packages with the standard
	// library) this took 3 to 3.5 minutes of CPU, 4.5 to 7 minutes on 2
	// cores shared with other builds; with Go's build cache warm, seconds
	fmt.Fprintf(os.Stderr, "built test/kubewebhook in %.1f s\n", time.Since(start).Seconds())
	return out, nil
})

// kubeCase is one request of kube-apiserver's: a bearer token, and the
// audiences in its context (nil: --api-audiences; empty: none).
type kubeCase struct {
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	Audiences *[]string `json:"audiences,omitempty"`
}

// kubeResult is what Kubernetes' authenticator made of a kubeCase.
type kubeResult struct {
	Name          string
	Authenticated bool
	Error         string
	User, UID     string
	Groups        []string
	Audiences     []string
}

// kubeAuthenticate runs the cases through test/kubewebhook with the
// kubeconfig (kube-apiserver's --authentication-token-webhook-config-file),
// the TokenReview version and --api-audiences.
func kubeAuthenticate(t *testing.T, kubeconfig, version, apiAudiences string, cases []kubeCase) map[string]kubeResult {
	t.Helper()
	bin, err := kubeWebhookBin()
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range cases {
		must(t, enc.Encode(c))
	}
	cmd := exec.Command(bin, "-kubeconfig", kubeconfig, "-version", version, "-api-audiences", apiAudiences, "-fast-retry")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubewebhook %s: %v\n%s", version, err, stderr.String())
	}
	res := map[string]kubeResult{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var r kubeResult
		must(t, dec.Decode(&r))
		res[r.Name] = r
	}
	if len(res) != len(cases) {
		t.Fatalf("kubewebhook %s: %d results for %d cases:\n%s\n%s", version, len(res), len(cases), out, stderr.String())
	}
	return res
}

// writeKubeconfig writes the kubeconfig kube-apiserver reads for its
// webhook: the cluster's server is the URL POSTed to, checked against the
// CA in the file ca (certificate-authority), or inline
// (certificate-authority-data) when inline; with clientPair (a
// certificate and its key), kube-apiserver presents that certificate.
func writeKubeconfig(t *testing.T, path, server, ca string, inline bool, clientPair ...string) {
	t.Helper()
	userBlock := "{}"
	if len(clientPair) == 2 {
		userBlock = fmt.Sprintf("\n    client-certificate: %s\n    client-key: %s", clientPair[0], clientPair[1])
	}
	caLine := "certificate-authority: " + ca
	if inline {
		pem, err := os.ReadFile(ca)
		must(t, err)
		caLine = "certificate-authority-data: " + base64.StdEncoding.EncodeToString(pem)
	}
	must(t, os.WriteFile(path, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: pam-accesscontrol
  cluster:
    server: %s
    %s
users:
- name: kube-apiserver
  user: %s
contexts:
- name: webhook
  context:
    cluster: pam-accesscontrol
    user: kube-apiserver
current-context: webhook
`, server, caLine, userBlock)), 0o600))
}

// TestServeKubeWebhook is the proof with the real client: kube-apiserver's
// webhook token authenticator (k8s.io/apiserver, built from a kubeconfig as
// kube-apiserver builds it) against the running `pam-accesscontrol serve`
// over TLS, for authentication.k8s.io v1 and v1beta1: a token from /token
// gives the user, uid and groups NSS has and the audiences asked for;
// expired, forged (another key, alg none, a changed payload), other-issuer
// and other-audience tokens, tokens for users NSS no longer has, and
// tokens from /auth (the web service's rules, not the Kubernetes
// service's) are refused; a kubeconfig with another CA never reaches it.
func TestServeKubeWebhook(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nKUBERNETES OPEN USER alice\nKUBERNETES CLOSE USER bob\nWEB OPEN USER bob\n",
		"alice:secret:kubernetes\nbob:secret:kubernetes\n", "web", "kubernetes")
	keyFile := hmacKey(t, s)
	keyText := mustRead(t, keyFile)
	pki := t.TempDir()
	ca := writeTestPKI(t, pki)
	cacert := []string{"--cacert", ca}
	base := startServeAt(t, s, "https", cacert, "--signing-key", keyFile, "--audience", "k8s", "--token-ttl", "10m",
		"--tls-cert", filepath.Join(pki, "server.pem"), "--tls-key", filepath.Join(pki, "server.key"))

	// the tokens the service hands out: alice's from /token, bob's from /auth
	code, body, _ := curlDo(t, "GET", base+"/token", "", append([]string{"-u", "alice:secret"}, cacert...)...)
	if code != 200 {
		t.Fatalf("alice's /token: %d %s", code, body)
	}
	alice := strings.TrimSpace(string(body))
	code, body, _ = curlDo(t, "POST", base+"/auth", `{"username":"bob","password":"secret"}`, cacert...)
	var web struct{ JWT string }
	if json.Unmarshal(body, &web); code != 200 || web.JWT == "" {
		t.Fatalf("bob's /auth: %d %s", code, body)
	}

	// tokens the service did not hand out, made with its own code
	issue := func(key []byte, cfg token.Config, user string) string {
		t.Helper()
		k, err := token.ParseKey(key)
		must(t, err)
		if cfg.Issuer == "" {
			cfg.Issuer = "pam-accesscontrol"
		}
		if cfg.TTL == 0 {
			cfg.TTL = 10 * time.Minute
		}
		iss, err := token.New(k, cfg)
		must(t, err)
		tok, err := iss.IssueFor(user, []string{"users"}, cfg.TTL)
		must(t, err)
		return tok
	}
	anHourAgo := func() time.Time { return time.Now().Add(-time.Hour) }
	parts := strings.Split(alice, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var claims map[string]any
	must(t, json.Unmarshal(payload, &claims))
	claims["groups"] = []string{"system:masters"}
	tampered, _ := json.Marshal(claims)
	b64 := base64.RawURLEncoding.EncodeToString
	none := b64([]byte(`{"alg":"none","typ":"JWT"}`))

	none0 := []string{}
	cases := []kubeCase{
		{Name: "alice", Token: alice},
		{Name: "alice, no audiences", Token: alice, Audiences: &none0},
		{Name: "alice, an apiserver of another audience", Token: alice, Audiences: &[]string{"https://kubernetes.default.svc"}},
		{Name: "expired", Token: issue(keyText, token.Config{Audience: "k8s", Now: anHourAgo}, "alice")},
		{Name: "another key", Token: issue([]byte("another-secret-another-secret-0123"), token.Config{Audience: "k8s"}, "alice")},
		{Name: "alg none", Token: none + "." + parts[1] + "."},
		{Name: "alg none, no dot", Token: none + "." + parts[1]},
		{Name: "tampered payload", Token: parts[0] + "." + b64(tampered) + "." + parts[2]},
		{Name: "signature of another token", Token: parts[0] + "." + parts[1] + "." + strings.Split(web.JWT, ".")[2]},
		{Name: "another audience", Token: issue(keyText, token.Config{Audience: "other"}, "alice")},
		{Name: "no audience", Token: issue(keyText, token.Config{}, "alice")},
		{Name: "another issuer", Token: issue(keyText, token.Config{Audience: "k8s", Issuer: "someone-else"}, "alice")},
		{Name: "a user NSS does not have", Token: issue(keyText, token.Config{Audience: "k8s"}, "ghost")},
		{Name: "bob's token from /auth", Token: web.JWT},
		{Name: "not a JWT", Token: "not-a-jwt"},
	}
	kubeconfig := filepath.Join(t.TempDir(), "webhook.kubeconfig")
	for _, version := range []string{"v1", "v1beta1"} {
		// the CA as a file for one version, inline for the other
		writeKubeconfig(t, kubeconfig, base+"/authenticate", ca, version == "v1beta1")
		res := kubeAuthenticate(t, kubeconfig, version, "https://kubernetes.default.svc,k8s", cases)
		for _, c := range cases {
			r := res[c.Name]
			t.Logf("%s, %s: authenticated %v, user %q, uid %q, groups %q, audiences %q, error %q",
				version, c.Name, r.Authenticated, r.User, r.UID, r.Groups, r.Audiences, r.Error)
			switch c.Name {
			case "alice", "alice, no audiences":
				groups := strings.Join(r.Groups, ",")
				if !r.Authenticated || r.Error != "" || r.User != "alice" || r.UID != "1001" ||
					groups != "alice,users,admins" && groups != "alice,admins,users" {
					t.Errorf("%s, %s: %+v", version, c.Name, r)
				}
				want := "k8s"
				if c.Audiences != nil {
					want = ""
				}
				if got := strings.Join(r.Audiences, ","); got != want {
					t.Errorf("%s, %s: audiences %q, want %q", version, c.Name, got, want)
				}
			default:
				// refused with the service's reason (an error that is
				// not the client's own: the TokenReview was answered)
				if r.Authenticated || r.User != "" || !strings.Contains(r.Error, "token") ||
					strings.Contains(r.Error, "webhook") || strings.Contains(r.Error, "invalid bearer token") {
					t.Errorf("%s, %s: %+v", version, c.Name, r)
				}
			}
		}
		if e := res["expired"].Error; strings.Count(e, "invalid token") != 1 {
			t.Errorf("%s, expired: error %q: says invalid token other than once", version, e)
		}
		for name, want := range map[string]string{"expired": "expired", "another key": "signature",
			"another audience": "audience", "a user NSS does not have": "no such user", "bob's token from /auth": "/token"} {
			if !strings.Contains(res[name].Error, want) {
				t.Errorf("%s, %s: error %q, want %q in it", version, name, res[name].Error, want)
			}
		}
	}

	// a kubeconfig whose CA did not sign the service's certificate: the
	// client refuses the connection, no TokenReview is answered
	other := t.TempDir()
	wrongCA := writeTestPKI(t, other)
	for _, inline := range []bool{false, true} {
		writeKubeconfig(t, kubeconfig, base+"/authenticate", wrongCA, inline)
		res := kubeAuthenticate(t, kubeconfig, "v1", "k8s", []kubeCase{{Name: "alice", Token: alice}})
		if r := res["alice"]; r.Authenticated || !strings.Contains(r.Error, "certificate") {
			t.Errorf("another CA (inline %v): %+v", inline, r)
		} else {
			t.Logf("another CA (inline %v): %s", inline, r.Error)
		}
	}
}

// TestServeKubeWebhookClientCert: with --client-ca, kube-apiserver's
// webhook client (k8s.io/apiserver, from its kubeconfig) gets its
// TokenReviews answered when the kubeconfig gives it a client certificate
// of that CA, and not without one; the web API still answers without.
func TestServeKubeWebhookClientCert(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nKUBERNETES OPEN USER alice\n", "alice:secret:kubernetes\n", "web", "kubernetes")
	keyFile := hmacKey(t, s)
	pki := t.TempDir()
	ca := writeTestPKI(t, pki)
	cacert := []string{"--cacert", ca}
	base := startServeAt(t, s, "https", cacert, "--signing-key", keyFile, "--audience", "k8s",
		"--tls-cert", filepath.Join(pki, "server.pem"), "--tls-key", filepath.Join(pki, "server.key"), "--client-ca", ca)

	code, body, _ := curlDo(t, "GET", base+"/token", "", append([]string{"-u", "alice:secret"}, cacert...)...)
	if code != 200 {
		t.Fatalf("alice's /token without a client certificate: %d %s", code, body)
	}
	alice := strings.TrimSpace(string(body))
	kubeconfig := filepath.Join(t.TempDir(), "webhook.kubeconfig")

	writeKubeconfig(t, kubeconfig, base+"/authenticate", ca, false, filepath.Join(pki, "client.pem"), filepath.Join(pki, "client.key"))
	r := kubeAuthenticate(t, kubeconfig, "v1", "k8s", []kubeCase{{Name: "alice", Token: alice}})["alice"]
	if !r.Authenticated || r.User != "alice" {
		t.Errorf("with the client certificate: %+v", r)
	}
	writeKubeconfig(t, kubeconfig, base+"/authenticate", ca, false)
	r = kubeAuthenticate(t, kubeconfig, "v1", "k8s", []kubeCase{{Name: "alice", Token: alice}})["alice"]
	if r.Authenticated || r.User != "" {
		t.Errorf("without a client certificate: %+v", r)
	} else {
		t.Logf("without a client certificate: %s", r.Error)
	}
}
