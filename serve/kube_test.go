package serve

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

type fakeUsers map[string]string

// Lookup is a case-insensitive directory's, as sssd's or winbind's: any
// spelling finds the entry, whose name is the directory's own.
func (u fakeUsers) Lookup(name string) (Account, bool, error) {
	if name == "broken" {
		return Account{}, false, errors.New("LDAP unreachable")
	}
	uid, ok := u[strings.ToLower(name)]
	if !ok {
		return Account{}, false, nil
	}
	return Account{Name: strings.ToLower(name), UID: uid}, true, nil
}

var kubeKey = []byte(strings.Repeat("k", 40))

func kubeIssuer(t *testing.T, key []byte, iss, aud string, now time.Time) *token.Issuer {
	t.Helper()
	k, err := token.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	i, err := token.New(k, token.Config{Issuer: iss, Audience: aud, TTL: 15 * time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// newKubeServer: alice and bob as in newTestServer, with /token through
// the same fake PAM and tokens for audience "k8s".
func newKubeServer(t *testing.T) (*Server, *fakePAM, fakeGroups, fakeUsers) {
	t.Helper()
	f := &fakePAM{passwords: map[string]string{"alice": "secret", "bob": "secret", "otp": "secret", "gone": "secret"},
		closed: map[string]bool{"bob": true}}
	g := fakeGroups{"alice": {"alice", "Domain Users", "admins"}, "otp": {"users"}, "gone": {"gone"}}
	u := fakeUsers{"alice": "1000", "otp": "1002", "gone": "1003"}
	s := New(Config{PAM: f, KubePAM: f, Groups: g, Users: u, Version: "test",
		Tokens: kubeIssuer(t, kubeKey, App, "k8s", time.Now())})
	return s, f, g, u
}

func getToken(s *Server, query, user, pass string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/token"+query, nil)
	if user != "" {
		r.SetBasicAuth(user, pass)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestKubeToken(t *testing.T) {
	s, _, _, _ := newKubeServer(t)
	for _, tt := range []struct {
		query, user, pass string
		code              int
		minutes           int
	}{
		{"", "alice", "secret", 200, 15},
		{"?token-expires-in=3", "alice", "secret", 200, 3},
		{"?token-expires-in=15", "alice", "secret", 200, 15},
		{"?token-expires-in=16", "alice", "secret", 400, 0},
		{"?token-expires-in=0", "alice", "secret", 400, 0},
		{"?token-expires-in=-5", "alice", "secret", 400, 0},
		{"?token-expires-in=d", "alice", "secret", 400, 0},
		{"?token-expires-in=", "alice", "secret", 400, 0},
		{"?token-expires-in=99999999999999999999", "alice", "secret", 400, 0},
		{"?token-expires-in=9223372036854775807", "alice", "secret", 400, 0},
		{"?token-expires-in=2&token-expires-in=3", "alice", "secret", 400, 0},
		{"", "", "", 401, 0},
		{"", "alice", "wrong", 403, 0},
		{"", "bob", "secret", 403, 0}, // the account phase (the rules) refuses him
		{"", "al ice", "secret", 400, 0},
		{"", "otp", "secret", 401, 0}, // Basic auth has no room for answers
	} {
		w := getToken(s, tt.query, tt.user, tt.pass)
		if w.Code != tt.code {
			t.Errorf("%s %s: %d %s, want %d", tt.user, tt.query, w.Code, w.Body, tt.code)
			continue
		}
		if tt.code != 200 {
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out["error"] == nil {
				t.Errorf("%s %s: not a JSON error: %q", tt.user, tt.query, w.Body)
			}
			if tt.code == 401 && tt.user == "" && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") {
				t.Errorf("401 without WWW-Authenticate: %v", w.Header())
			}
			continue
		}
		body := w.Body.String()
		tok := strings.TrimSuffix(body, "\n")
		if !strings.HasSuffix(body, "\n") || w.Header().Get("Authorization") != "Bearer "+tok {
			t.Errorf("body %q, Authorization %q", body, w.Header().Get("Authorization"))
		}
		c, err := s.cfg.Tokens.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Username != "alice" || c.Subject != "alice" || c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Duration(tt.minutes)*time.Minute {
			t.Errorf("%s: claims %+v", tt.query, c)
		}
	}
	// no --kube-service stack, or no signing key: 501
	s2 := New(Config{PAM: &fakePAM{}, Tokens: s.cfg.Tokens})
	if w := getToken(s2, "", "alice", "secret"); w.Code != 501 {
		t.Errorf("without KubePAM: %d", w.Code)
	}
	// busy PAM: 503 as /auth
	f := &fakePAM{err: pamclient.ErrBusy}
	s3 := New(Config{PAM: f, KubePAM: f, Tokens: s.cfg.Tokens})
	if w := getToken(s3, "", "alice", "secret"); w.Code != 503 {
		t.Errorf("busy: %d", w.Code)
	}
}

func review(apiVersion, tok string, audiences ...string) string {
	b, _ := json.Marshal(map[string]any{"kind": "TokenReview", "apiVersion": apiVersion, "metadata": map[string]any{},
		"spec": map[string]any{"token": tok, "audiences": audiences}, "status": map[string]any{"user": map[string]any{}}})
	return string(b)
}

func TestKubeAuthenticate(t *testing.T) {
	s, _, g, u := newKubeServer(t)
	tok := strings.TrimSpace(getToken(s, "", "alice", "secret").Body.String())
	gone := strings.TrimSpace(getToken(s, "", "gone", "secret").Body.String())
	delete(u, "gone") // removed from NSS after the token was issued
	delete(g, "gone")
	now := time.Now()
	expired, _ := kubeIssuer(t, kubeKey, App, "k8s", now.Add(-time.Hour)).IssueFor("alice", nil, time.Minute)
	forged, _ := kubeIssuer(t, []byte(strings.Repeat("x", 40)), App, "k8s", now).IssueFor("alice", nil, time.Minute)
	otherIss, _ := kubeIssuer(t, kubeKey, "beesly", "k8s", now).IssueFor("alice", nil, time.Minute)
	otherAud, _ := kubeIssuer(t, kubeKey, App, "vault", now).IssueFor("alice", nil, time.Minute)
	broken, _ := s.cfg.Tokens.IssueFor("broken", nil, time.Minute)
	webToken, _ := s.cfg.Tokens.Issue("alice", nil) // what /auth hands out
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "iss": App, "aud": "k8s",
		"exp": now.Add(time.Minute).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for _, v := range []string{"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1"} {
		for _, tt := range []struct {
			name, tok string
			aud       []string
			ok        bool
			granted   string
		}{
			{"alice", tok, nil, true, ""},
			{"alice, audiences", tok, []string{"https://kubernetes.default.svc", "k8s"}, true, `["k8s"]`},
			{"alice, other audiences", tok, []string{"https://kubernetes.default.svc"}, false, ""},
			{"expired", expired, nil, false, ""},
			{"a token from /auth", webToken, nil, false, ""},
			{"forged", forged, nil, false, ""},
			{"alg none", none, nil, false, ""},
			{"other issuer", otherIss, nil, false, ""},
			{"other audience", otherAud, []string{"vault"}, false, ""},
			{"gone from NSS", gone, nil, false, ""},
			{"NSS failing", broken, nil, false, ""},
			{"empty", "", nil, false, ""},
			{"garbage", "a.b.c", nil, false, ""},
		} {
			code, out, _ := do(s, "POST", "/authenticate", review(v, tt.tok, tt.aud...))
			st, _ := out["status"].(map[string]any)
			if code != 200 || out["apiVersion"] != v || out["kind"] != "TokenReview" || st == nil || st["authenticated"] != tt.ok {
				t.Errorf("%s %s: %d %v", v, tt.name, code, out)
				continue
			}
			if !tt.ok {
				if e, _ := st["error"].(string); e == "" || st["user"] != nil {
					t.Errorf("%s %s: refusal %v", v, tt.name, st)
				}
				continue
			}
			user, _ := json.Marshal(st["user"])
			if string(user) != `{"groups":["alice","Domain Users","admins"],"uid":"1000","username":"alice"}` {
				t.Errorf("%s %s: user %s", v, tt.name, user)
			}
			if a, _ := json.Marshal(st["audiences"]); tt.granted != "" && string(a) != tt.granted || tt.granted == "" && st["audiences"] != nil {
				t.Errorf("%s %s: audiences %s", v, tt.name, a)
			}
		}
	}
	for _, body := range []string{
		`{"kind":"TokenReview",`,
		`[]`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1"} {}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1"}`,                              // no spec
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v2","spec":{"token":"x"}}`,         // unknown version
		`{"kind":"SubjectAccessReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x"}}`, // wrong kind
		`{"spec":{"token":"x"}}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":1}}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x","audiences":"k8s"}}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x","audiences":["k8s",1]}}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":"x"}`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x"}} x`,
		`{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x",}}`,
		"{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\ty\"}}", // a raw tab in a string
	} {
		code, out, h := do(s, "POST", "/authenticate", body)
		if code != 400 || out["error"] == nil || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v", body, code, out)
		}
	}
}

func TestHeartbeat(t *testing.T) {
	s, _, _, _ := newKubeServer(t)
	code, out, _ := do(s, "GET", "/heartbeat", "")
	if code != 200 || out["raw"] != "ok\n" {
		t.Errorf("%d %v", code, out)
	}
}
