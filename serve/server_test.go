package serve

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/msteinert/pam/v2"

	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// fakePAM: passwords by user; closed users fail the account phase.
type fakePAM struct {
	passwords map[string]string
	closed    map[string]bool
	err       error
	rhost     string
}

func (f *fakePAM) Authenticate(_ context.Context, r pamclient.Request) (pamclient.Result, error) {
	f.rhost = r.RHost
	if f.err != nil {
		return pamclient.Result{}, f.err
	}
	if f.passwords[strings.ToLower(r.User)] != string(r.Password) {
		return pamclient.Result{Phase: "authenticate", Code: pam.ErrAuth}, nil
	}
	if r.User == "otp" && len(r.Answers) == 0 {
		return pamclient.Result{Outcome: pamclient.Challenge, Phase: "authenticate", Prompts: []pamclient.Prompt{{Text: "OTP: "}}}, nil
	}
	return f.Account(context.Background(), r.User, r.RHost)
}

func (f *fakePAM) Account(_ context.Context, user, _ string) (pamclient.Result, error) {
	if f.closed[strings.ToLower(user)] {
		return pamclient.Result{Phase: "account", Code: pam.ErrPermDenied}, nil
	}
	return pamclient.Result{Outcome: pamclient.Success, User: f.pamUser(user)}, nil
}

// pamUser is PAM_USER after success: a case-insensitive directory's
// stack (pam_sss) leaves the name as typed.
func (f *fakePAM) pamUser(typed string) string { return typed }

type fakeGroups map[string][]string

func (g fakeGroups) UserGroups(name string) ([]string, error) {
	if gs, ok := g[name]; ok {
		return gs, nil
	}
	return nil, errors.New("no such user in NSS")
}

const long = "dwight.schrute.assistant.regional.manager@dundermifflin.com"

func newTestServer(t *testing.T, tokens bool) (*Server, *fakePAM) {
	t.Helper()
	f := &fakePAM{passwords: map[string]string{"alice": "secret", "bob": "secret", "otp": "secret", long: "secret"},
		closed: map[string]bool{"bob": true}}
	cfg := Config{PAM: f, Version: "test",
		Groups: fakeGroups{"alice": {"alice", "Domain Users", "admins"}, "otp": {"users"}, long: {"users", "Sales"}}}
	if tokens {
		k, err := token.ParseKey([]byte(strings.Repeat("k", 40)))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Tokens, err = token.New(k, token.Config{Issuer: App, TTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	return New(cfg), f
}

func do(s http.Handler, method, path, body string) (int, map[string]any, http.Header) {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	var out map[string]any
	json.Unmarshal(w.Body.Bytes(), &out)
	if out == nil {
		out = map[string]any{"raw": w.Body.String()}
	}
	return w.Code, out, w.Header()
}

func TestAuth(t *testing.T) {
	s, f := newTestServer(t, true)
	for _, tt := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"username":"alice","password":"secret"}`, 200, "Authentication successful"},
		{`{"username":"alice","password":"wrong"}`, 401, "Authentication failed"},
		{`{"username":"bob","password":"secret"}`, 401, "Authentication failed"},
		{`{"username":"alice"}`, 400, "No username or password provided"},
		{`{"username":"","password":"x"}`, 400, "No username or password provided"},
		{`{"username":"al ice","password":"x"}`, 400, "Invalid username provided"},
		{`{"username":"1alice","password":"x"}`, 400, "Invalid username provided"},
		{`{"username":"a\u0000b","password":"x"}`, 400, "Invalid username provided"},
		{`{"username":"` + long + `","password":"secret"}`, 200, "Authentication successful"},
		{`{"username":"otp","password":"secret"}`, 401, "Additional authentication required"},
		{`{"username":"otp","password":"secret","answers":["123456"]}`, 200, "Authentication successful"},
	} {
		code, out, h := do(s, "POST", "/auth", tt.body)
		if code != tt.code || out["message"] != tt.msg {
			t.Errorf("%s: %d %v, want %d %q", tt.body, code, out, tt.code, tt.msg)
		}
		if h.Get("Cache-Control") != "no-cache" {
			t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
		}
		if code == 200 && (out["auth"] != true || out["jwt"] == nil) {
			t.Errorf("%s: %v", tt.body, out)
		}
		if code == 401 && out["auth"] != false {
			t.Errorf("%s: %v", tt.body, out)
		}
	}
	_, out, _ := do(s, "POST", "/auth", `{"username":"alice","password":"secret"}`)
	if g, _ := json.Marshal(out["groups"]); string(g) != `["Domain Users","admins"]` {
		t.Errorf("groups %s", g)
	}
	_, out, _ = do(s, "POST", "/auth", `{"username":"otp","password":"secret"}`)
	if c, _ := json.Marshal(out["challenge"]); string(c) != `[{"echo":false,"prompt":"OTP: "}]` {
		t.Errorf("challenge %s", c)
	}
	if f.rhost != "192.0.2.1" { // httptest's peer
		t.Errorf("rhost %q", f.rhost)
	}
	for _, err := range []error{pamclient.ErrBusy, pamclient.ErrTimeout, pamclient.ErrGone} {
		f.err = err
		code, _, h := do(s, "POST", "/auth", `{"username":"alice","password":"secret"}`)
		if code != 503 || h.Get("Retry-After") == "" {
			t.Errorf("%v: %d %v", err, code, h)
		}
	}
}

func TestRenewVerify(t *testing.T) {
	s, f := newTestServer(t, true)
	_, out, _ := do(s, "POST", "/auth", `{"username":"alice","password":"secret"}`)
	jwt := out["jwt"].(string)
	other, _ := s.cfg.Tokens.Issue("bob", nil)
	for _, tt := range []struct {
		path, body string
		code       int
		msg        string
	}{
		{"/verify", `{"jwt":"` + jwt + `"}`, 200, "JWT successfully verified"},
		{"/verify", `{"jwt":"` + jwt + `x"}`, 401, "Failed to verify JWT"},
		{"/verify", `{"jwt":"nope"}`, 400, "Invalid JWT"},
		{"/verify", `{}`, 400, "No JWT provided"},
		{"/renew", `{"jwt":"` + jwt + `","username":"alice"}`, 200, "JWT successfully renewed"},
		{"/renew", `{"jwt":"` + jwt + `"}`, 400, "No JWT or username provided"},
		{"/renew", `{"jwt":"` + jwt + `","username":"-x"}`, 400, "Invalid username provided"},
		{"/renew", `{"jwt":"nope","username":"alice"}`, 400, "Invalid JWT"},
		{"/renew", `{"jwt":"` + other + `","username":"alice"}`, 400, "Invalid subject in JWT claim"},
		{"/renew", `{"jwt":"` + jwt + `x","username":"alice"}`, 401, "Failed to renew invalid JWT"},
	} {
		code, out, _ := do(s, "POST", tt.path, tt.body)
		if code != tt.code || out["message"] != tt.msg {
			t.Errorf("%s %s: %d %v, want %d %q", tt.path, tt.body, code, out, tt.code, tt.msg)
		}
	}
	// the rules or the account now refuse alice: renewal stops
	f.closed["alice"] = true
	if code, out, _ := do(s, "POST", "/renew", `{"jwt":"`+jwt+`","username":"alice"}`); code != 401 {
		t.Errorf("renewal of a closed account: %d %v", code, out)
	}
	s2, _ := newTestServer(t, false)
	for _, p := range []string{"/renew", "/verify"} {
		if code, out, _ := do(s2, "POST", p, `{}`); code != 501 || !strings.Contains(out["message"].(string), "not enabled") {
			t.Errorf("%s without tokens: %d %v", p, code, out)
		}
	}
	if _, out, _ := do(s2, "POST", "/auth", `{"username":"alice","password":"secret"}`); out["jwt"] != nil || out["auth"] != true {
		t.Errorf("auth without tokens: %v", out)
	}
}

func TestErrorsAreJSON(t *testing.T) {
	s, _ := newTestServer(t, true)
	for _, tt := range []struct {
		method, path, body string
		code               int
		key, want          string
	}{
		{"POST", "/auth", `{"username":`, 400, "error", "The request body is not valid JSON"},
		{"POST", "/auth", `["alice"]`, 400, "error", "The request body is not valid JSON"},
		{"POST", "/auth", `{"username":1,"password":"x"}`, 400, "error", "The request body is not valid JSON"},
		{"POST", "/auth", `{} {}`, 400, "error", "The request body is not valid JSON"},
		{"POST", "/auth", `{"password":"` + strings.Repeat("x", 70000) + `"}`, 400, "error", "The request body is not valid JSON"},
		{"GET", "/auth", ``, 405, "error", "The method is not allowed for the requested URL"},
		{"GET", "/service/bar", ``, 404, "error", "The requested endpoint does not exist"},
		{"GET", "/service/health", ``, 200, App, "OK"},
		{"GET", "/service/version", ``, 200, "version", "test"},
		{"GET", "/", ``, 200, "app", App},
	} {
		code, out, h := do(s, tt.method, tt.path, tt.body)
		if code != tt.code || out[tt.key] != tt.want || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s %.40s: %d %v %v", tt.method, tt.path, tt.body, code, out, h)
		}
	}
	if code, out, _ := do(s, "GET", "/service", ``); code != 200 || out["app"].(map[string]any)["name"] != App {
		t.Errorf("/service: %d %v", code, out)
	}
}
