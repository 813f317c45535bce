package test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
)

// TestServeKube runs the real `pam-accesscontrol serve` with a
// "kubernetes" PAM service (pam_matrix and the module) and talks
// pam_hook's API to it with curl: kubectl's side (GET /token) and
// kube-apiserver's side (POST /authenticate, both TokenReview versions).
func TestServeKube(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		testenv.Missing(t, "curl")
	}
	s := serveStack(t, "DEFAULT:CLOSE\nKUBERNETES OPEN USER alice\nKUBERNETES CLOSE USER bob\nWEB OPEN USER bob\n",
		"alice:secret:kubernetes\nbob:secret:kubernetes\n", "web", "kubernetes")
	key := hmacKey(t, s)
	base := startServe(t, s, "--signing-key", key, "--audience", "k8s", "--token-ttl", "10m")

	token := func(query string, auth ...string) (int, string, map[string]any) {
		t.Helper()
		code, body, h := curlDo(t, "GET", base+"/token"+query, "", auth...)
		if code == 200 {
			tok := strings.TrimSuffix(string(body), "\n")
			if !strings.HasSuffix(string(body), "\n") || h.Get("Authorization") != "Bearer "+tok || strings.Count(tok, ".") != 2 {
				t.Errorf("/token%s: body %q, Authorization %q", query, body, h.Get("Authorization"))
			}
			return code, tok, nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil || m["error"] == nil {
			t.Errorf("/token%s: %d, not a JSON error: %q", query, code, body)
		}
		if code == 401 && len(auth) == 0 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("/token without credentials: no WWW-Authenticate: %v", h)
		}
		return code, "", m
	}
	code, tok, out := token("", "-u", "alice:secret")
	if code != 200 {
		t.Fatalf("alice: %d %v", code, out)
	}
	for _, tt := range []struct {
		query string
		auth  []string
		code  int
		why   string
	}{
		{"?token-expires-in=3", []string{"-u", "alice:secret"}, 200, "3 minutes"},
		{"?token-expires-in=10", []string{"-u", "alice:secret"}, 200, "the TTL"},
		{"?token-expires-in=11", []string{"-u", "alice:secret"}, 400, "above the TTL"},
		{"?token-expires-in=0", []string{"-u", "alice:secret"}, 400, "zero"},
		{"?token-expires-in=-1", []string{"-u", "alice:secret"}, 400, "negative"},
		{"?token-expires-in=d", []string{"-u", "alice:secret"}, 400, "not an integer"},
		{"", nil, 401, "no credentials"},
		{"", []string{"-u", "alice:wrong"}, 403, "wrong password"},
		{"", []string{"-u", "bob:secret"}, 403, "right password, the rules refuse him"},
		{"", []string{"-u", "carol:secret"}, 403, "not in pam_matrix's passdb"},
	} {
		if code, _, out := token(tt.query, tt.auth...); code != tt.code {
			t.Errorf("%s: %d %v, want %d", tt.why, code, out, tt.code)
		}
	}

	// bob may log in to the web service, not to Kubernetes: his /auth
	// token must not open Kubernetes
	code, raw, _ := curlDo(t, "POST", base+"/auth", `{"username":"bob","password":"secret"}`)
	var web struct{ JWT string }
	if json.Unmarshal(raw, &web); code != 200 || web.JWT == "" {
		t.Fatalf("bob's /auth: %d %s", code, raw)
	}
	forged := strings.Split(tok, ".")
	forged[2] = strings.Repeat("A", len(forged[2]))
	for _, v := range []string{"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"} {
		for _, tt := range []struct {
			tok       string
			audiences string
			ok        bool
			why       string
		}{
			{tok, `["https://kubernetes.default.svc","k8s"]`, true, "alice, audiences"},
			{tok, `[]`, true, "alice, no audiences"},
			{tok, `["https://kubernetes.default.svc"]`, false, "alice, another audience"},
			{strings.Join(forged, "."), `[]`, false, "forged signature"},
			{web.JWT, `["k8s"]`, false, "bob's token from /auth (the web service)"},
		} {
			body := fmt.Sprintf(`{"kind":"TokenReview","apiVersion":%q,"metadata":{},"spec":{"token":%q,"audiences":%s},"status":{"user":{}}}`,
				v, tt.tok, tt.audiences)
			code, raw, _ := curlDo(t, "POST", base+"/authenticate", body)
			var out struct {
				APIVersion, Kind string
				Status           struct {
					Authenticated bool
					User          struct {
						Username, UID string
						Groups        []string
					}
					Audiences []string
					Error     string
				}
			}
			if err := json.Unmarshal(raw, &out); err != nil || code != 200 || out.APIVersion != v || out.Kind != "TokenReview" ||
				out.Status.Authenticated != tt.ok {
				t.Errorf("%s, %s: %d %s", v, tt.why, code, raw)
				continue
			}
			if !tt.ok {
				if out.Status.Error == "" {
					t.Errorf("%s, %s: no error: %s", v, tt.why, raw)
				}
				continue
			}
			// uid and groups from NSS (examples/demo), the private group included
			u := out.Status.User
			if u.Username != "alice" || u.UID != "1001" || strings.Join(u.Groups, ",") != "alice,users,admins" && strings.Join(u.Groups, ",") != "alice,admins,users" {
				t.Errorf("%s, %s: user %+v", v, tt.why, u)
			}
			if tt.audiences != "[]" && strings.Join(out.Status.Audiences, ",") != "k8s" {
				t.Errorf("%s, %s: audiences %v", v, tt.why, out.Status.Audiences)
			}
		}
	}
	if code, raw, _ := curlDo(t, "POST", base+"/authenticate", `{"kind":"TokenReview"`); code != 400 || !strings.Contains(string(raw), `"error"`) {
		t.Errorf("malformed TokenReview: %d %s", code, raw)
	}
	if code, raw, _ := curlDo(t, "GET", base+"/heartbeat", ""); code != 200 || string(raw) != "ok\n" {
		t.Errorf("heartbeat: %d %q", code, raw)
	}
}
