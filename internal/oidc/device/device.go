// Package device is the OAuth 2.0 device authorization grant (RFC 8628)
// and the refresh grant (RFC 6749 §6), as `pam-accesscontrol enroll` uses
// them to enroll a server with an OpenID Connect provider: the server has
// no browser, so an administrator approves it on another device with the
// user code this package obtains.
//
// The package only speaks the protocol: where the endpoints are (discovery)
// and where the tokens are kept (internal/oidc/enrollment) are other
// packages' business. Every wait is bounded: each request by the HTTP
// timeout, the polling by the code's lifetime and MaxWait.
package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
)

// GrantType is the token request's grant_type for a device code (RFC 8628
// §3.4).
const GrantType = "urn:ietf:params:oauth:grant-type:device_code"

// Defaults the RFC sets, and our bounds.
const (
	// DefaultInterval is the polling interval when the provider names
	// none (RFC 8628 §3.2).
	DefaultInterval = 5 * time.Second
	// SlowDownStep is what slow_down adds to the interval (§3.5).
	SlowDownStep = 5 * time.Second
	// MaxInterval caps the interval, whatever the provider asks: an
	// administrator waits for the enrollment at the terminal.
	MaxInterval = 60 * time.Second
	// DefaultMaxWait bounds the whole polling when the caller sets no
	// MaxWait: the provider's expires_in bounds it too, whichever is
	// first.
	DefaultMaxWait = 15 * time.Minute
)

// Errors that end the polling, for callers to tell apart (errors.Is).
var (
	// ErrDenied: the administrator refused the request (access_denied).
	ErrDenied = errors.New("the request was denied at the provider (access_denied)")
	// ErrExpired: the device code expired before anyone approved it
	// (expired_token, or its lifetime passed while polling).
	ErrExpired = errors.New("the device code expired before it was approved (expired_token)")
	// ErrTimeout: MaxWait passed before the provider answered.
	ErrTimeout = errors.New("gave up waiting for the approval")
)

// Poster sends one authenticated form POST, bounded in time and size
// (internal/oidc's Client: no proxy, no redirect, a provider on this
// host must be root's). Transport failures are *oidc.UnavailableError.
type Poster interface {
	PostForm(ctx context.Context, what, endpoint string, form url.Values, cred oidc.Credentials) (int, []byte, error)
}

// Client runs the grant for one OAuth client.
type Client struct {
	// DeviceEndpoint is the device_authorization_endpoint, TokenEndpoint
	// the token_endpoint (from discovery, or given).
	DeviceEndpoint, TokenEndpoint string
	// Cred is the client: its secret sent as Cred.Method says, or, for
	// a public client (no secret), only its client_id in the form.
	Cred oidc.Credentials
	// Post sends the requests.
	Post Poster
	// MaxWait bounds Poll; 0 is DefaultMaxWait.
	MaxWait time.Duration
	// Now and Sleep are the clock, for tests; nil: the real one.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Authorization is the provider's answer to the device authorization
// request (RFC 8628 §3.2): what the administrator needs, and the device
// code the polling needs.
type Authorization struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // "" when the provider gave none
	ExpiresAt               time.Time
	Interval                time.Duration
}

// Token is what the token endpoint gave (RFC 6749 §5.1).
type Token struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	IDToken      string
	// Scope is what was granted; the provider may leave it out when it
	// is what was asked (§5.1), and the caller then keeps what it asked.
	Scope string
	// ExpiresAt is zero when the provider gave no expires_in.
	ExpiresAt time.Time
}

// ProtocolError is an error reply (RFC 6749 §5.2) that ends a request.
type ProtocolError struct {
	Endpoint    string
	Status      int
	Code        string // error
	Description string // error_description
}

func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Endpoint, e.Status)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	return s
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Start asks the provider for a device code and a user code for scope
// (RFC 8628 §3.1).
func (c *Client) Start(ctx context.Context, scope string) (*Authorization, error) {
	form := url.Values{}
	if scope != "" {
		form.Set("scope", scope)
	}
	var r struct {
		DeviceCode              string      `json:"device_code"`
		UserCode                string      `json:"user_code"`
		VerificationURI         string      `json:"verification_uri"`
		VerificationURL         string      `json:"verification_url"` // Google's name for it
		VerificationURIComplete string      `json:"verification_uri_complete"`
		ExpiresIn               json.Number `json:"expires_in"`
		Interval                json.Number `json:"interval"`
		Error                   string      `json:"error"`
		Description             string      `json:"error_description"`
	}
	status, err := c.post(ctx, "device authorization", c.DeviceEndpoint, form, &r)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK || r.Error != "" {
		return nil, protocolError(c.DeviceEndpoint, status, r.Error, r.Description)
	}
	if r.VerificationURI == "" {
		r.VerificationURI = r.VerificationURL
	}
	switch {
	case r.DeviceCode == "":
		return nil, fmt.Errorf("%s: the reply has no device_code", c.DeviceEndpoint)
	case r.UserCode == "":
		return nil, fmt.Errorf("%s: the reply has no user_code", c.DeviceEndpoint)
	case !isWebURL(r.VerificationURI):
		return nil, fmt.Errorf("%s: the reply's verification_uri %q is not an http(s) URL", c.DeviceEndpoint, r.VerificationURI)
	}
	if r.VerificationURIComplete != "" && !isWebURL(r.VerificationURIComplete) {
		r.VerificationURIComplete = "" // shown to the admin: only a web address
	}
	expires, err := seconds(r.ExpiresIn)
	if err != nil || expires <= 0 {
		return nil, fmt.Errorf("%s: the reply's expires_in %q is not a positive number of seconds", c.DeviceEndpoint, r.ExpiresIn)
	}
	interval, err := seconds(r.Interval)
	switch {
	case err != nil || interval < 0:
		return nil, fmt.Errorf("%s: the reply's interval %q is not a number of seconds", c.DeviceEndpoint, r.Interval)
	case interval == 0:
		interval = DefaultInterval
	case interval > MaxInterval:
		interval = MaxInterval
	}
	return &Authorization{
		DeviceCode: r.DeviceCode, UserCode: r.UserCode,
		VerificationURI: r.VerificationURI, VerificationURIComplete: r.VerificationURIComplete,
		ExpiresAt: c.now().Add(expires), Interval: interval,
	}, nil
}

// Poll asks the token endpoint for the tokens of a until the administrator
// approved or denied it, it expired, MaxWait passed or ctx ended, as RFC
// 8628 §3.4–3.5 say: it waits the interval before each request,
// authorization_pending goes on, slow_down adds 5 s to the interval for
// this and every later request, access_denied is ErrDenied, expired_token
// (or the code's lifetime passing) is ErrExpired. A request that gets no
// answer (a timeout, a refused connection, a 5xx) is tried again with the
// interval doubled, as §3.5 asks, within the same bounds.
func (c *Client) Poll(ctx context.Context, a *Authorization) (*Token, error) {
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	giveUp := c.now().Add(maxWait)
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	form := url.Values{"grant_type": {GrantType}, "device_code": {a.DeviceCode}}
	for {
		now := c.now()
		switch {
		case !now.Add(interval).Before(a.ExpiresAt):
			return nil, ErrExpired
		case !now.Add(interval).Before(giveUp):
			return nil, fmt.Errorf("%w after %s", ErrTimeout, maxWait)
		}
		if err := c.sleep(ctx, interval); err != nil {
			return nil, err
		}
		tok, code, err := c.token(ctx, form)
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err == nil:
			return tok, nil
		case code == "authorization_pending":
		case code == "slow_down":
			interval = min(interval+SlowDownStep, MaxInterval)
		case code == "access_denied":
			return nil, ErrDenied
		case code == "expired_token":
			return nil, ErrExpired
		case code == "" && transient(err):
			interval = min(2*interval, MaxInterval)
		default:
			return nil, err
		}
	}
}

// Refresh trades a refresh token for new tokens (RFC 6749 §6). A provider
// that rotates refresh tokens returns a new one; one that does not
// returns none, and the caller keeps the old one.
func (c *Client) Refresh(ctx context.Context, refreshToken, scope string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	tok, _, err := c.token(ctx, form)
	return tok, err
}

// token makes one token request; on an error reply it returns the
// reply's error code too.
func (c *Client) token(ctx context.Context, form url.Values) (*Token, string, error) {
	var r struct {
		AccessToken  string      `json:"access_token"`
		TokenType    string      `json:"token_type"`
		RefreshToken string      `json:"refresh_token"`
		IDToken      string      `json:"id_token"`
		Scope        string      `json:"scope"`
		ExpiresIn    json.Number `json:"expires_in"`
		Error        string      `json:"error"`
		Description  string      `json:"error_description"`
	}
	status, err := c.post(ctx, "token", c.TokenEndpoint, form, &r)
	if err != nil {
		return nil, "", err
	}
	if status != http.StatusOK || r.Error != "" {
		return nil, r.Error, protocolError(c.TokenEndpoint, status, r.Error, r.Description)
	}
	if r.AccessToken == "" {
		return nil, "", fmt.Errorf("%s: the reply has no access_token", c.TokenEndpoint)
	}
	tok := &Token{AccessToken: r.AccessToken, TokenType: r.TokenType, RefreshToken: r.RefreshToken,
		IDToken: r.IDToken, Scope: r.Scope}
	if r.ExpiresIn != "" {
		d, err := seconds(r.ExpiresIn)
		if err != nil || d <= 0 {
			return nil, "", fmt.Errorf("%s: the reply's expires_in %q is not a positive number of seconds", c.TokenEndpoint, r.ExpiresIn)
		}
		tok.ExpiresAt = c.now().Add(d)
	}
	return tok, "", nil
}

// httpStatusError is a reply with no OAuth error in it (a proxy's 502, an
// HTML page): for Poll, a 5xx is worth another try.
type httpStatusError struct{ ProtocolError }

// protocolError is the error for a reply that is not a success: a
// ProtocolError when it names an OAuth error code, else an
// httpStatusError.
func protocolError(endpoint string, status int, code, desc string) error {
	pe := ProtocolError{Endpoint: endpoint, Status: status, Code: code, Description: desc}
	if code != "" {
		return &pe
	}
	return &httpStatusError{pe}
}

// transient: the request got no usable answer (no connection, no answer
// in time, a 5xx or 429 without an OAuth error), and the RFC asks the
// client to back off and try again.
func transient(err error) bool {
	var se *httpStatusError
	if errors.As(err, &se) {
		return se.Status >= 500 || se.Status == http.StatusTooManyRequests
	}
	return oidc.IsUnavailable(err)
}

// post sends form to endpoint as the client and reads a JSON reply into
// out. A reply that is not JSON is an error only for a 200: an error page
// is reported by its status.
func (c *Client) post(ctx context.Context, what, endpoint string, form url.Values, out any) (int, error) {
	cred := c.Cred
	if cred.Secret == "" {
		// a public client names itself in the form (RFC 8628 §3.1)
		form.Set("client_id", cred.ID)
		cred = oidc.Credentials{}
	}
	status, body, err := c.Post.PostForm(ctx, what, endpoint, form, cred)
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(body, out); err != nil && status == http.StatusOK {
		return 0, fmt.Errorf("%s: the reply of %s is not JSON: %v", what, endpoint, err)
	}
	return status, nil
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// seconds reads a JSON number of seconds; "" is 0. Some providers send a
// string ("300"), which json.Number takes as well.
func seconds(n json.Number) (time.Duration, error) {
	if n == "" {
		return 0, nil
	}
	f, err := n.Float64()
	if err != nil || f > 1e9 {
		return 0, fmt.Errorf("bad number of seconds %q", n)
	}
	return time.Duration(f * float64(time.Second)), nil
}
