package serve

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// TestTokenForTheNSSName: on a case-insensitive directory "ALICE" logs in
// as alice; the token (and so Kubernetes' user, RBAC's subject) must name
// alice, not a second identity spelt "ALICE".
func TestTokenForTheNSSName(t *testing.T) {
	s, _, _, _ := newKubeServer(t)
	for _, typed := range []string{"ALICE", "Alice", "alice"} {
		w := getToken(s, "", typed, "secret")
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", typed, w.Code, w.Body)
		}
		tok := strings.TrimSpace(w.Body.String()) // pam_hook's body: the token
		if sub, err := token.Subject(tok); err != nil || sub != "alice" {
			t.Errorf("%s: the token's subject is %q (%v), want alice", typed, sub, err)
		}
		code, out, _ := do(s, "POST", "/authenticate", review("authentication.k8s.io/v1", tok))
		st, _ := out["status"].(map[string]any)
		u, _ := st["user"].(map[string]any)
		if code != 200 || st["authenticated"] != true || u["username"] != "alice" {
			t.Errorf("%s: /authenticate %d %v", typed, code, out)
		}
	}
	// beesly's /auth the same
	code, out, _ := do(s, "POST", "/auth", `{"username":"ALICE","password":"secret"}`)
	jwt, _ := out["jwt"].(string)
	if sub, _ := token.Subject(jwt); code != 200 || sub != "alice" {
		t.Errorf("/auth as ALICE: %d, subject %q", code, sub)
	}
}

// TestTokenNeedsPAMUser: a PAM that succeeded without saying whom it let in
// hands out no token.
func TestTokenNeedsPAMUser(t *testing.T) {
	s, _, _, _ := newKubeServer(t)
	s.cfg.KubePAM = nobodyPAM{}
	if w := getToken(s, "", "alice", "secret"); w.Code == 200 {
		t.Errorf("a token without PAM_USER: %d %s", w.Code, w.Body)
	}
}

type nobodyPAM struct{}

func (nobodyPAM) Authenticate(ctx context.Context, r pamclient.Request) (pamclient.Result, error) {
	return pamclient.Result{Outcome: pamclient.Success}, nil
}

func (nobodyPAM) Account(ctx context.Context, user, rhost string) (pamclient.Result, error) {
	return pamclient.Result{Outcome: pamclient.Success}, nil
}

// TestRateLimitSpellings: "ALICE", "Alice" and "aLICE" are alice on a
// case-insensitive directory, and spend alice's failures: spelling the
// name anew buys a guesser nothing.
func TestRateLimitSpellings(t *testing.T) {
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 2, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	s, pam := newObservedServer(t, Observe{Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
	for i, typed := range []string{"ALICE", "Alice", "aLICE"} {
		w := call(s, "/auth", typed, "wrong", fmt.Sprintf("192.0.2.%d", i+1))
		if w.Code == 429 || w.Code == 200 {
			t.Fatalf("failure %d: %d %s", i, w.Code, w.Body)
		}
	}
	before := pam.calls()
	if w := call(s, "/auth", "alIce", "secret", "198.51.100.7"); w.Code != 429 {
		t.Errorf("a fourth spelling after three failures: %d %s, want 429", w.Code, w.Body)
	}
	if pam.calls() != before {
		t.Error("PAM ran for a rate-limited spelling")
	}
}

// TestVerifyRefusesKubernetesTokens: a token from GET /token passed the
// KUBERNETES rules, not the WEB ones: a web app asking /verify about it
// hears "not valid", or a user the web rules refuse walks in with it.
func TestVerifyRefusesKubernetesTokens(t *testing.T) {
	s, _, _, _ := newKubeServer(t)
	w := getToken(s, "", "alice", "secret")
	if w.Code != 200 {
		t.Fatalf("/token: %d %s", w.Code, w.Body)
	}
	kube := strings.TrimSpace(w.Body.String())
	if code, out, _ := do(s, "POST", "/verify", `{"jwt":"`+kube+`"}`); code != 401 || out["valid"] != false {
		t.Errorf("/verify of a Kubernetes token: %d %v", code, out)
	}
	_, out, _ := do(s, "POST", "/auth", `{"username":"alice","password":"secret"}`)
	web, _ := out["jwt"].(string)
	if code, out, _ := do(s, "POST", "/verify", `{"jwt":"`+web+`"}`); code != 200 || out["valid"] != true {
		t.Errorf("/verify of a web token: %d %v", code, out)
	}
}
