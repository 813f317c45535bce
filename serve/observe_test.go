package serve

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/testenv"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/pamclient"
	"github.com/pam-accesscontrol/pam-accesscontrol/serve/token"
)

// countingPAM counts the transactions that reached PAM and keeps the
// secrets it was given, to see them zeroed.
type countingPAM struct {
	PAM
	mu      sync.Mutex
	n       int
	secrets [][]byte
}

func (c *countingPAM) Authenticate(ctx context.Context, r pamclient.Request) (pamclient.Result, error) {
	c.mu.Lock()
	c.n++
	c.secrets = append(append(c.secrets, r.Password), r.Answers...)
	c.mu.Unlock()
	return c.PAM.Authenticate(ctx, r)
}

func (c *countingPAM) Account(ctx context.Context, user, rhost string) (pamclient.Result, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.PAM.Account(ctx, user, rhost)
}

func (c *countingPAM) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// failingStore is a rate store that never answers.
type failingStore struct{}

func (failingStore) Take(context.Context, []string) (time.Duration, string, error) {
	return 0, "", fmt.Errorf("%w: connection refused", ErrStore)
}
func (failingStore) Fail(context.Context, []string) error  { return ErrStore }
func (failingStore) Clear(context.Context, []string) error { return ErrStore }
func (failingStore) Close() error                          { return nil }

// newObservedServer is newTestServer's users with /token and obs.
func newObservedServer(t *testing.T, obs Observe) (*Server, *countingPAM) {
	t.Helper()
	f := &fakePAM{passwords: map[string]string{"alice": "secret", "bob": "secret", "otp": "secret"}, closed: map[string]bool{"bob": true}}
	c := &countingPAM{PAM: f}
	k, err := token.ParseKey([]byte(strings.Repeat("k", 40)))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := token.New(k, token.Config{Issuer: App, TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	obs.WebService, obs.KubeService = "web", "kubernetes"
	cfg := Config{PAM: c, KubePAM: c, Tokens: tokens, Version: "test", Observe: obs,
		Groups: fakeGroups{"alice": {"alice", "admins"}, "otp": {"users"}},
		Users:  fakeUsers{"alice": "1000"}}
	return New(cfg), c
}

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// call is one request of a credential endpoint as user with password.
func call(s http.Handler, endpoint, user, password, from string) *httptest.ResponseRecorder {
	var r *http.Request
	switch endpoint {
	case "/token":
		r = httptest.NewRequest("GET", "/token", nil)
		r.Header.Set("Authorization", basic(user, password))
	case "/renew":
		r = httptest.NewRequest("POST", "/renew", strings.NewReader(fmt.Sprintf(`{"username":%q,"jwt":%q}`, user, password)))
	default:
		r = httptest.NewRequest("POST", endpoint, strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, password)))
	}
	r.RemoteAddr = from + ":4242"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// TestRateLimited: past the free failures, the user (from anywhere) and
// the address (for anyone) get 429 with Retry-After and a JSON error,
// and PAM never sees the request, even with the right password.
func TestRateLimited(t *testing.T) {
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 2, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	for _, endpoint := range []string{"/auth", "/token", "/renew"} {
		t.Run(endpoint, func(t *testing.T) {
			s, pam := newObservedServer(t, Observe{Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
			good := "secret"
			if endpoint == "/renew" {
				good, _ = s.cfg.Tokens.Issue("alice", nil)
			}
			for i := 0; i < 3; i++ {
				w := call(s, endpoint, "alice", "wrong", "192.0.2.1")
				if w.Code == 429 || w.Code == 200 {
					t.Fatalf("failure %d: %d %s", i, w.Code, w.Body)
				}
			}
			before := pam.calls()
			for _, tt := range []struct{ user, from, which string }{
				{"alice", "198.51.100.7", "user"}, // the user, from elsewhere
				{"otp", "192.0.2.1", "address"},   // the address, for another user
				{"alice", "192.0.2.1", "user"},    // both
			} {
				w := call(s, endpoint, tt.user, good, tt.from)
				var body map[string]any
				json.Unmarshal(w.Body.Bytes(), &body)
				msg, _ := body["error"].(string)
				if w.Code != 429 || w.Header().Get("Retry-After") != "60" || !strings.HasPrefix(msg, "Rate limit exceeded") ||
					!strings.Contains(msg, tt.which) || w.Header().Get("Content-Type") != "application/json" {
					t.Errorf("%+v: %d %v %s", tt, w.Code, w.Header(), w.Body)
				}
			}
			if n := pam.calls(); n != before {
				t.Errorf("PAM ran %d times for rate-limited requests", n-before)
			}
			// another user from another address is untouched
			if w := call(s, "/auth", "otp", "secret", "203.0.113.9"); w.Code != 401 || !strings.Contains(w.Body.String(), "challenge") {
				t.Errorf("otp elsewhere: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestRateSuccessClears: a good login clears the user's failures.
func TestRateSuccessClears(t *testing.T) {
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 2, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	s, _ := newObservedServer(t, Observe{Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
	for i := 0; i < 10; i++ {
		call(s, "/auth", "alice", "wrong", fmt.Sprintf("192.0.2.%d", 10+i%2))
		if w := call(s, "/auth", "alice", "secret", fmt.Sprintf("192.0.2.%d", 20+i)); w.Code != 200 {
			t.Fatalf("round %d: %d %s", i, w.Code, w.Body)
		}
	}
}

// TestRateStoreDown: no store, no PAM: 503 with Retry-After (fail closed).
func TestRateStoreDown(t *testing.T) {
	var logged []string
	s, pam := newObservedServer(t, Observe{Limits: NewLimiter(failingStore{}, func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) })})
	for _, endpoint := range []string{"/auth", "/token", "/auth"} {
		w := call(s, endpoint, "alice", "secret", "192.0.2.1")
		if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "rate limit store is unavailable") {
			t.Errorf("%s: %d %v %s", endpoint, w.Code, w.Header(), w.Body)
		}
	}
	if pam.calls() != 0 {
		t.Errorf("PAM ran %d times without a store", pam.calls())
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "503") {
		t.Errorf("logged %q, want one line", logged)
	}
}

// TestTokenEndpointsNotLimited: /verify and /authenticate check
// signatures, never limited (kube-apiserver is one address for all).
func TestTokenEndpointsNotLimited(t *testing.T) {
	p := Policy{Rate: 1, Burst: 1, FreeFailures: 0, Backoff: time.Hour, MaxBackoff: time.Hour, Forget: time.Hour}
	s, _ := newObservedServer(t, Observe{Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
	tok, _ := s.cfg.Tokens.IssueFor("alice", nil, time.Minute)
	for i := 0; i < 20; i++ {
		for _, tt := range []struct{ path, body string }{
			{"/verify", `{"jwt":"x.y.z"}`},
			{"/authenticate", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"forged"}}`},
			{"/authenticate", `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"` + tok + `"}}`},
		} {
			r := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code == 429 {
				t.Fatalf("%s limited", tt.path)
			}
		}
	}
}

// TestMetrics: what /metrics shows after a few requests.
func TestMetrics(t *testing.T) {
	m := NewMetrics(nil)
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 1, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	s, _ := newObservedServer(t, Observe{Metrics: m, Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
	call(s, "/auth", "alice", "secret", "192.0.2.1")
	call(s, "/auth", "otp", "secret", "192.0.2.2")
	call(s, "/token", "alice", "wrong", "192.0.2.3")
	call(s, "/token", "alice", "wrong", "192.0.2.3") // the user is blocked now
	call(s, "/token", "alice", "secret", "192.0.2.4")
	tok, _ := s.cfg.Tokens.IssueFor("alice", nil, time.Minute)
	r := httptest.NewRequest("POST", "/authenticate", strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+tok+`"}}`))
	s.ServeHTTP(httptest.NewRecorder(), r)
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/nope/alice", nil))

	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	out := w.Body.String()
	for _, want := range []string{
		`pamac_serve_requests_total{code="200",endpoint="/auth"} 1`,
		`pamac_serve_requests_total{code="401",endpoint="/auth"} 1`,
		`pamac_serve_requests_total{code="403",endpoint="/token"} 2`,
		`pamac_serve_requests_total{code="429",endpoint="/token"} 1`,
		`pamac_serve_requests_total{code="200",endpoint="/authenticate"} 1`,
		`pamac_serve_requests_total{code="404",endpoint="other"} 1`,
		`pamac_serve_decisions_total{endpoint="/auth",outcome="ok"} 1`,
		`pamac_serve_decisions_total{endpoint="/auth",outcome="challenge"} 1`,
		`pamac_serve_decisions_total{endpoint="/token",outcome="refused"} 2`,
		`pamac_serve_decisions_total{endpoint="/token",outcome="rate_limited"} 1`,
		`pamac_serve_decisions_total{endpoint="/authenticate",outcome="ok"} 1`,
		`pamac_serve_rate_limited_total{endpoint="/token",key="user"} 1`,
		`pamac_serve_pam_seconds_count{call="authenticate",service="web"} 2`,
		`pamac_serve_pam_seconds_count{call="authenticate",service="kubernetes"} 2`,
		`pamac_serve_pam_seconds_bucket{call="authenticate",service="web",le="+Inf"} 2`,
		"go_goroutines ",
	} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, grepLines(out, "pamac_"))
		}
	}
	for _, secret := range []string{"alice", "secret", "wrong", "192.0.2"} {
		if strings.Contains(out, secret) {
			t.Errorf("/metrics names %q", secret)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestStatsd: beesly's names reach a statsd collector.
func TestStatsd(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	st, err := NewStatsd(pc.LocalAddr().String(), "beesly")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, _ := newObservedServer(t, Observe{Metrics: NewMetrics(st)})
	call(s, "/auth", "alice", "secret", "192.0.2.1")
	call(s, "/auth", "alice", "wrong", "192.0.2.1")
	call(s, "/renew", "alice", mustIssue(t, s), "192.0.2.1")
	r := httptest.NewRequest("POST", "/verify", strings.NewReader(`{"jwt":"`+mustIssue(t, s)+`"}`))
	s.ServeHTTP(httptest.NewRecorder(), r)
	var got []string
	buf := make([]byte, 1500)
	for len(got) < 7 {
		pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		got = append(got, string(buf[:n]))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"beesly.pam_auth:", "|ms", "beesly.auth_success:1|c", "beesly.jwt_generated:1|c",
		"beesly.auth_failed:1|c", "beesly.jwt_renewed:1|c", "beesly.jwt_verified:1|c"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in %q", want, got)
		}
	}
}

func mustIssue(t *testing.T, s *Server) string {
	tok, err := s.cfg.Tokens.Issue("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAuditEvents: one event per decision with service, user, address,
// outcome and reason, in AUDIT_LOG, and never a password or a token.
func TestAuditEvents(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.jsonl")
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	if err := os.WriteFile(conf, []byte("DEFAULT:CLOSE\nAUDIT_LOG:"+log+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := NewAuditor(AuditConfig{Conf: conf, Spool: dir, insecureSkipOwnerCheck: true, Logf: t.Logf}, nil)
	p := Policy{Rate: 100, Burst: 100, FreeFailures: 0, Backoff: time.Minute, MaxBackoff: time.Hour, Forget: time.Hour}
	s, _ := newObservedServer(t, Observe{Audit: a, Limits: NewLimiter(newMemStore(p, 0, nil), nil)})
	const pw, wrong = "S3cr3t-pw-never-logged", "Wr0ng-pw-never-logged"
	s.cfg.PAM.(*countingPAM).PAM.(*fakePAM).passwords["alice"] = pw
	tok, _ := s.cfg.Tokens.IssueFor("alice", nil, time.Minute)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, func() *http.Request {
		r := httptest.NewRequest("POST", "/auth", strings.NewReader(`{"username":"alice","password":"`+pw+`"}`))
		r.RemoteAddr = "192.0.2.1:1"
		return r
	}())
	var issued map[string]any
	json.Unmarshal(rec.Body.Bytes(), &issued)
	jwt, _ := issued["jwt"].(string)
	call(s, "/token", "alice", wrong, "192.0.2.2")
	call(s, "/token", "alice", wrong, "192.0.2.2")
	call(s, "/renew", "otp", mustIssue(t, s), "192.0.2.3")
	r := httptest.NewRequest("POST", "/authenticate", strings.NewReader(`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"`+tok+`"}}`))
	r.RemoteAddr = "192.0.2.9:1"
	s.ServeHTTP(httptest.NewRecorder(), r)
	a.Close()

	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{pw, wrong, tok, jwt, strings.Split(tok, ".")[2], base64.StdEncoding.EncodeToString([]byte("alice:" + wrong))} {
		if secret != "" && strings.Contains(string(raw), secret) {
			t.Errorf("the audit log holds a secret %.20q...", secret)
		}
	}
	type ev struct{ Event, Phase, Service, User, RHost, Verdict, Reason, Login string }
	var got []ev
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		var e ev
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	want := []ev{
		{"serve_decision", "/auth", "web", "alice", "192.0.2.1", "ok", "authenticated, token issued", ""},
		{"serve_decision", "/token", "kubernetes", "alice", "192.0.2.2", "refused", "failed in authenticate: Authentication failure", ""},
		{"serve_decision", "/token", "kubernetes", "alice", "192.0.2.2", "rate_limited", "too many requests or failures for this user", ""},
		{"serve_decision", "/renew", "web", "otp", "192.0.2.3", "refused", "the token's subject is another user", ""},
		{"serve_decision", "/authenticate", "", "alice", "192.0.2.9", "ok", "token valid", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(got), len(want), raw)
	}
	for i := range want {
		if got[i].Login == "" {
			t.Errorf("event %d has no id", i)
		}
		got[i].Login = ""
		if got[i] != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// TestSecretsZeroed: the password and the answers PAM was given are zero
// once the request is answered, whatever the answer.
func TestSecretsZeroed(t *testing.T) {
	s, pam := newObservedServer(t, Observe{})
	call(s, "/auth", "alice", "secret", "192.0.2.1")
	call(s, "/auth", "alice", "wrong", "192.0.2.1")
	call(s, "/token", "alice", "secret", "192.0.2.1")
	r := httptest.NewRequest("POST", "/auth", strings.NewReader(`{"username":"otp","password":"secret","answers":["123456","\u00e9t\u00e9"]}`))
	s.ServeHTTP(httptest.NewRecorder(), r)
	if len(pam.secrets) != 6 {
		t.Fatalf("%d secrets seen", len(pam.secrets))
	}
	for i, b := range pam.secrets {
		for _, c := range b {
			if c != 0 {
				t.Errorf("secret %d not zeroed: %q", i, b)
				break
			}
		}
		if len(b) == 0 {
			t.Errorf("secret %d empty", i)
		}
	}
}

// TestUnquote: secrets decode as encoding/json decodes strings.
func TestUnquote(t *testing.T) {
	for _, lit := range []string{`""`, `"secret"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u20ac"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"p\u0061ss"`, `"日本語"`, `"\u0000"`} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatal(err)
		}
		var s secret
		if err := json.Unmarshal([]byte(lit), &s); err != nil {
			t.Errorf("%s: %v", lit, err)
			continue
		}
		if string(s) != want {
			t.Errorf("%s: %q, want %q", lit, s, want)
		}
	}
	var s secret
	for _, bad := range []string{`1`, `true`, `["x"]`, `{"a":1}`} {
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
	if err := json.Unmarshal([]byte(`null`), &s); err != nil || s != nil {
		t.Errorf("null: %v %q", err, s)
	}
}

// TestAuditWebhook: with WEBHOOK set, each decision is POSTed (signed)
// through the outbox by the service's own deliverer.
func TestAuditWebhook(t *testing.T) {
	testenv.Root(t) // the webhook on this host must be on root's port (internal/localpeer)
	got := make(chan []byte, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !webhook.Verify([]byte("k3y"), body, r.Header.Get(webhook.SignatureHeader)) {
			t.Errorf("bad signature on %s", body)
		}
		got <- body
	}))
	defer hook.Close()
	dir := t.TempDir()
	key := filepath.Join(dir, "webhook.key")
	conf := filepath.Join(dir, "pam-accesscontrol.conf")
	if err := os.WriteFile(key, []byte("k3y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("DEFAULT:CLOSE\nWEBHOOK:"+hook.URL+"/events\nWEBHOOK_SECRET:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := NewAuditor(AuditConfig{Conf: conf, Spool: filepath.Join(dir, "spool"), Logf: t.Logf}, nil)
	defer a.Close()
	s, _ := newObservedServer(t, Observe{Audit: a})
	call(s, "/auth", "alice", "wrong-and-secret", "192.0.2.1")
	select {
	case body := <-got:
		var e map[string]any
		json.Unmarshal(body, &e)
		if e["event"] != "serve_decision" || e["user"] != "alice" || e["rhost"] != "192.0.2.1" || e["verdict"] != "refused" || e["phase"] != "/auth" {
			t.Errorf("webhook event %s", body)
		}
		if strings.Contains(string(body), "wrong-and-secret") {
			t.Errorf("the webhook event holds the password")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook event")
	}
}

// BenchmarkAuthenticateObserved: /authenticate (no PAM) with metrics and
// the audit trail, against none, for the 20,000 a second it must keep.
func BenchmarkAuthenticateObserved(b *testing.B) {
	for _, observed := range []bool{false, true} {
		b.Run(fmt.Sprintf("observed=%v", observed), func(b *testing.B) {
			var obs Observe
			if observed {
				dir := b.TempDir()
				conf := filepath.Join(dir, "c.conf")
				os.WriteFile(conf, []byte("DEFAULT:CLOSE\nAUDIT_LOG:"+filepath.Join(dir, "audit.jsonl")+"\n"), 0o600)
				m := NewMetrics(nil)
				obs = Observe{Metrics: m, Audit: NewAuditor(AuditConfig{Conf: conf, Spool: dir, insecureSkipOwnerCheck: true}, m)}
				defer obs.Audit.Close()
			}
			s, _ := newObservedServer(&testing.T{}, obs)
			tok, _ := s.cfg.Tokens.IssueFor("alice", nil, time.Minute)
			body := `{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"` + tok + `"}}`
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					s.ServeHTTP(w, httptest.NewRequest("POST", "/authenticate", strings.NewReader(body)))
					if w.Code != 200 {
						panic(w.Body.String())
					}
				}
			})
		})
	}
}

// TestAuditProblemsThrottled: an AUDIT_LOG the service cannot write is
// one log line, not one per event; an event after Close is dropped, not a
// panic.
func TestAuditProblemsThrottled(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.conf")
	if err := os.WriteFile(conf, []byte("DEFAULT:CLOSE\nAUDIT_LOG:"+filepath.Join(dir, "no-such-dir-is-a-file", "audit.jsonl")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "no-such-dir-is-a-file"), nil, 0o600)
	var mu sync.Mutex
	var lines []string
	a := NewAuditor(AuditConfig{Conf: conf, Spool: dir, insecureSkipOwnerCheck: true, Logf: func(f string, args ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(f, args...))
		mu.Unlock()
	}}, nil)
	s, _ := newObservedServer(t, Observe{Audit: a})
	for i := 0; i < 50; i++ {
		call(s, "/auth", "alice", "wrong", "192.0.2.1")
		time.Sleep(time.Millisecond)
	}
	a.Close()
	a.Close()
	if w := call(s, "/auth", "alice", "wrong", "192.0.2.1"); w.Code != 401 {
		t.Errorf("a decision after Close: %d %s", w.Code, w.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 1 || !strings.Contains(lines[0], "audit log") {
		t.Errorf("logged %d lines, want one: %.300q", len(lines), lines)
	}
}
