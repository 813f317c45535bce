// Package oidc talks to an OpenID Connect provider: discovery
// (/.well-known/openid-configuration), token introspection (RFC 7662) and
// local verification of JWT access tokens against the provider's JWKS.
// It is the network side of the TOKEN rule option and of
// `pam-accesscontrol enroll`; the rules engine stays free of network code.
//
// Everything a provider says is untrusted input: every answer is bounded in
// size and time, every URL it names must be https (or http on a loopback
// address, which only tests use), redirects are never followed, no proxy
// from the environment is used, and a provider on this host must hold its
// port as root (localpeer), as OPA must.
package oidc

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/oidcurl"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/verdict"
)

// MaxAnswer bounds one answer of the provider (discovery, introspection,
// JWKS, token endpoint): more is garbage, and must not exhaust a login's
// memory.
const MaxAnswer = 256 << 10

// DefaultTimeout bounds each request when Options.Timeout is not set.
const DefaultTimeout = 5 * time.Second

// Options say how to reach the provider.
type Options struct {
	// CA is a PEM bundle (OIDC_CA) that replaces the system's roots; it
	// must be root's (capool reads it as trust.File says), since it
	// vouches for the provider.
	CA string
	// Timeout bounds each request, connect to last byte (OIDC_TIMEOUT).
	Timeout time.Duration
}

// Client is an HTTP client for one provider, each request bounded by the
// timeout and MaxAnswer.
type Client struct {
	http    *http.Client
	timeout time.Duration
}

// New builds the client for OIDC_CA and OIDC_TIMEOUT.
func New(o Options) (*Client, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CA != "" {
		pool, err := capool.Load(o.CA) // root's file, as trust.File says
		if err != nil {
			return nil, fmt.Errorf("OIDC_CA: %w", err)
		}
		cfg.RootCAs = pool
	}
	d := &net.Dialer{Timeout: timeout}
	tr := &http.Transport{
		Proxy:             nil, // never through a proxy the environment names
		DisableKeepAlives: true,
		// a provider on this host must be root's: while it is down, any
		// local user could listen on its port and accept every token
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return localpeer.Dial(ctx, d, network, addr)
		},
		TLSClientConfig:        cfg,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Client{timeout: timeout, http: &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return errors.New("the provider answered with a redirect, which is not followed")
		},
	}}, nil
}

// Timeout is the bound on each request.
func (c *Client) Timeout() time.Duration { return c.timeout }

// UnavailableError: the provider could not be asked
// (verdict.UnavailableError).
type UnavailableError = verdict.UnavailableError

// IsUnavailable says whether err means the provider could not be asked.
func IsUnavailable(err error) bool { return verdict.IsUnavailable(err) }

// CheckURL refuses a URL the provider must not be reached at
// (oidcurl.Check: https, or http on loopback for tests).
func CheckURL(raw string) error { return oidcurl.Check(raw) }

// Loopback says whether host names this host's loopback.
func Loopback(host string) bool { return oidcurl.Loopback(host) }

// get fetches url, bounded, and returns its body when the answer is 200.
func (c *Client) get(ctx context.Context, what, u string) ([]byte, error) {
	if err := CheckURL(u); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	status, body, err := c.do(ctx, what, req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, statusError(what, u, status, body)
	}
	return body, nil
}

// do sends req within the timeout and reads at most MaxAnswer of the
// answer, whatever its status. Transport failures and timeouts are
// *UnavailableError.
func (c *Client) do(ctx context.Context, what string, req *http.Request) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return 0, nil, &UnavailableError{Err: fmt.Errorf("%s: no answer from %s within %v", what, req.URL.Host, c.timeout)}
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may carry a token in a query
		}
		return 0, nil, &UnavailableError{Err: fmt.Errorf("%s: asking %s: %w", what, req.URL.Host, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, &UnavailableError{Err: fmt.Errorf("%s: no whole answer from %s within %v", what, req.URL.Host, c.timeout)}
		}
		return 0, nil, &UnavailableError{Err: fmt.Errorf("%s: reading the answer of %s: %w", what, req.URL.Host, err)}
	}
	if len(body) > MaxAnswer {
		return 0, nil, fmt.Errorf("%s: %s answered more than %d KiB", what, req.URL.Host, MaxAnswer>>10)
	}
	return resp.StatusCode, body, nil
}

// statusError is the error for an answer that is not 200: 5xx and 429 say
// the provider cannot answer now (OIDC_FALLBACK's to decide), anything
// else is a refusal.
func statusError(what, u string, status int, body []byte) error {
	err := fmt.Errorf("%s: %s answered HTTP %d%s", what, hostOf(u), status, oauthError(body))
	if status >= 500 || status == http.StatusTooManyRequests {
		return &UnavailableError{Err: err}
	}
	return err
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Host
	}
	return "the provider"
}

// clip shortens what a provider said for a log line.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
