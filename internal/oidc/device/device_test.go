package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
)

// clock is a virtual clock: Sleep advances it and records each wait.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

// provider answers the device endpoint with devReply and the token
// endpoint with the replies in turn (the last one repeats).
type provider struct {
	devStatus int
	devReply  string
	replies   []reply
	mu        sync.Mutex
	requests  []*http.Request
	forms     []string
}

type reply struct {
	status int
	body   string
}

func (p *provider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	p.requests = append(p.requests, r)
	p.forms = append(p.forms, r.PostForm.Encode())
	n := len(p.requests)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/device":
		st := p.devStatus
		if st == 0 {
			st = 200
		}
		w.WriteHeader(st)
		fmt.Fprint(w, p.devReply)
	case "/token":
		tokens := 0
		for _, q := range p.requests[:n] {
			if q.URL.Path == "/token" {
				tokens++
			}
		}
		rep := p.replies[min(tokens, len(p.replies))-1]
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	default:
		http.NotFound(w, r)
	}
}

const okDevice = `{"device_code":"DC","user_code":"ABCD-EFGH","verification_uri":"https://idp.example/device",` +
	`"verification_uri_complete":"https://idp.example/device?user_code=ABCD-EFGH","expires_in":300,"interval":5}`

var (
	pending  = reply{400, `{"error":"authorization_pending"}`}
	slowDown = reply{400, `{"error":"slow_down"}`}
	granted  = reply{200, `{"access_token":"AT","token_type":"Bearer","expires_in":3600,"refresh_token":"RT","scope":"openid pam"}`}
)

func newClient(t *testing.T, p *provider) (*Client, *clock) {
	t.Helper()
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	post, err := oidc.New(oidc.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &Client{DeviceEndpoint: srv.URL + "/device", TokenEndpoint: srv.URL + "/token",
		Cred: oidc.Credentials{ID: "pam-access", Secret: "s3cr:et"}, Post: post, Now: clk.Now, Sleep: clk.Sleep}, clk
}

func TestPoll(t *testing.T) {
	for _, tc := range []struct {
		name    string
		device  string
		replies []reply
		maxWait time.Duration
		wantErr error
		errText string
		waits   string // the intervals waited, in seconds
	}{
		{name: "approved at once", replies: []reply{granted}, waits: "5"},
		{name: "pending then approved", replies: []reply{pending, pending, granted}, waits: "5 5 5"},
		{name: "slow_down adds 5 s to this and every later wait",
			replies: []reply{pending, slowDown, pending, slowDown, granted}, waits: "5 5 10 10 15"},
		{name: "denied", replies: []reply{pending, {400, `{"error":"access_denied"}`}}, wantErr: ErrDenied, waits: "5 5"},
		{name: "expired_token", replies: []reply{{400, `{"error":"expired_token"}`}}, wantErr: ErrExpired, waits: "5"},
		{name: "the code's lifetime passes while pending", device: strings.Replace(okDevice, `"expires_in":300`, `"expires_in":22`, 1),
			replies: []reply{pending}, wantErr: ErrExpired, waits: "5 5 5 5"},
		{name: "MaxWait bounds the polling", replies: []reply{pending}, maxWait: 31 * time.Second,
			wantErr: ErrTimeout, waits: "5 5 5 5 5 5"},
		{name: "no interval: 5 s", device: strings.Replace(okDevice, `,"interval":5`, ``, 1), replies: []reply{granted}, waits: "5"},
		{name: "interval as a string", device: strings.Replace(okDevice, `"interval":5`, `"interval":"7"`, 1), replies: []reply{granted}, waits: "7"},
		{name: "huge interval is capped", device: strings.Replace(okDevice, `"expires_in":300,"interval":5`, `"expires_in":900,"interval":1000`, 1),
			replies: []reply{granted}, waits: "60"},
		{name: "a 5xx backs off and goes on", replies: []reply{{502, `<html>bad gateway</html>`}, granted}, waits: "5 10"},
		{name: "invalid_client ends it", replies: []reply{{401, `{"error":"invalid_client","error_description":"bad secret"}`}},
			errText: "invalid_client (bad secret)", waits: "5"},
		{name: "a 4xx without an OAuth error ends it", replies: []reply{{404, `not found`}}, errText: "HTTP 404", waits: "5"},
		{name: "a 200 without a token", replies: []reply{{200, `{"token_type":"Bearer"}`}}, errText: "no access_token", waits: "5"},
		{name: "a 200 that is not JSON", replies: []reply{{200, `<html>`}}, errText: "not JSON", waits: "5"},
		{name: "a negative expires_in", replies: []reply{{200, `{"access_token":"x","expires_in":-5}`}}, errText: "expires_in", waits: "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := tc.device
			if dev == "" {
				dev = okDevice
			}
			p := &provider{devReply: dev, replies: tc.replies}
			c, clk := newClient(t, p)
			c.MaxWait = tc.maxWait
			a, err := c.Start(context.Background(), "openid pam")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := c.Poll(context.Background(), a)
			var got []string
			for _, w := range clk.waits {
				got = append(got, fmt.Sprint(w.Seconds()))
			}
			if g := strings.Join(got, " "); g != tc.waits {
				t.Errorf("waits = %q, want %q", g, tc.waits)
			}
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.errText != "":
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want one saying %q", err, tc.errText)
				}
			case err != nil:
				t.Fatal(err)
			default:
				want := Token{AccessToken: "AT", TokenType: "Bearer", RefreshToken: "RT", Scope: "openid pam", ExpiresAt: clk.Now().Add(time.Hour)}
				if *tok != want {
					t.Errorf("token = %+v, want %+v", *tok, want)
				}
			}
			if tok != nil && err != nil {
				t.Error("both a token and an error")
			}
		})
	}
}

func TestStartRequest(t *testing.T) {
	p := &provider{devReply: okDevice, replies: []reply{granted}}
	c, _ := newClient(t, p)
	a, err := c.Start(context.Background(), "openid pam")
	if err != nil {
		t.Fatal(err)
	}
	if a.UserCode != "ABCD-EFGH" || a.VerificationURI != "https://idp.example/device" ||
		a.VerificationURIComplete != "https://idp.example/device?user_code=ABCD-EFGH" || a.Interval != 5*time.Second {
		t.Errorf("authorization = %+v", a)
	}
	if _, err := c.Poll(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	// client_secret_basic: id and secret form-encoded, then joined (RFC 6749 §2.3.1)
	for i, r := range p.requests {
		id, secret, ok := r.BasicAuth()
		if !ok || id != "pam-access" || secret != "s3cr%3Aet" {
			t.Errorf("request %d: basic auth %q %q %v", i, id, secret, ok)
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("request %d: %s %s", i, r.Method, r.Header.Get("Content-Type"))
		}
	}
	if p.forms[0] != "scope=openid+pam" {
		t.Errorf("device request form = %q", p.forms[0])
	}
	if p.forms[1] != "device_code=DC&grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code" {
		t.Errorf("token request form = %q", p.forms[1])
	}
}

func TestClientAuth(t *testing.T) {
	for _, tc := range []struct {
		name, secret string
		auth         oidc.AuthMethod
		form         string
	}{
		{"public client", "", "", "client_id=pam-access&scope=pam"},
		{"client_secret_post", "pw", oidc.ClientSecretPost, "client_id=pam-access&client_secret=pw&scope=pam"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &provider{devReply: okDevice}
			c, _ := newClient(t, p)
			c.Cred.Secret, c.Cred.Method = tc.secret, tc.auth
			if _, err := c.Start(context.Background(), "pam"); err != nil {
				t.Fatal(err)
			}
			if _, _, ok := p.requests[0].BasicAuth(); ok {
				t.Error("basic auth sent as well")
			}
			if p.forms[0] != tc.form {
				t.Errorf("form = %q, want %q", p.forms[0], tc.form)
			}
		})
	}
}

func TestStartRefusesBadReplies(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"unauthorized_client", 400, `{"error":"unauthorized_client"}`, "unauthorized_client"},
		{"no device_code", 200, `{"user_code":"U","verification_uri":"https://x/","expires_in":300}`, "no device_code"},
		{"no user_code", 200, `{"device_code":"D","verification_uri":"https://x/","expires_in":300}`, "no user_code"},
		{"a javascript: URL", 200, `{"device_code":"D","user_code":"U","verification_uri":"javascript:alert(1)","expires_in":300}`, "not an http(s) URL"},
		{"no expires_in", 200, `{"device_code":"D","user_code":"U","verification_uri":"https://x/"}`, "expires_in"},
		{"negative interval", 200, `{"device_code":"D","user_code":"U","verification_uri":"https://x/","expires_in":300,"interval":-1}`, "interval"},
		{"HTML", 200, `<html>`, "not JSON"},
		{"huge", 200, `{"x":"` + strings.Repeat("a", oidc.MaxAnswer) + `"}`, "more than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &provider{devStatus: tc.status, devReply: tc.body}
			c, _ := newClient(t, p)
			a, err := c.Start(context.Background(), "pam")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %+v, %v; want an error saying %q", a, err, tc.want)
			}
		})
	}
}

func TestVerificationURIGoogle(t *testing.T) {
	p := &provider{devReply: `{"device_code":"D","user_code":"U","verification_url":"https://g.example/device","expires_in":300}`}
	c, _ := newClient(t, p)
	a, err := c.Start(context.Background(), "pam")
	if err != nil || a.VerificationURI != "https://g.example/device" || a.VerificationURIComplete != "" {
		t.Fatalf("Start = %+v, %v", a, err)
	}
}

func TestPollTransportErrorsBackOff(t *testing.T) {
	p := &provider{devReply: okDevice}
	c, clk := newClient(t, p)
	a, err := c.Start(context.Background(), "pam")
	if err != nil {
		t.Fatal(err)
	}
	c.TokenEndpoint = "http://127.0.0.1:1/token" // nothing listens: refused
	_, err = c.Poll(context.Background(), a)
	if !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want the code's expiry after backing off", err)
	}
	var got []string
	for _, w := range clk.waits {
		got = append(got, fmt.Sprint(w.Seconds()))
	}
	if g := strings.Join(got, " "); g != "5 10 20 40 60 60 60" {
		t.Errorf("waits = %q", g)
	}
}

func TestPollStopsWithContext(t *testing.T) {
	p := &provider{devReply: okDevice, replies: []reply{pending}}
	c, _ := newClient(t, p)
	c.Sleep = nil // the real clock
	a, err := c.Start(context.Background(), "pam")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Poll(ctx, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Poll took %s after its context ended", d)
	}
}

func TestRefresh(t *testing.T) {
	p := &provider{devReply: okDevice, replies: []reply{granted}}
	c, _ := newClient(t, p)
	tok, err := c.Refresh(context.Background(), "RT0", "")
	if err != nil || tok.AccessToken != "AT" {
		t.Fatalf("Refresh = %+v, %v", tok, err)
	}
	if p.forms[0] != "grant_type=refresh_token&refresh_token=RT0" {
		t.Errorf("form = %q", p.forms[0])
	}
	p.replies = []reply{{400, `{"error":"invalid_grant"}`}}
	p.requests = nil
	if _, err := c.Refresh(context.Background(), "RT0", ""); err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v", err)
	}
}
