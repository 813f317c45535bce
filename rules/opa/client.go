// Package opa asks Open Policy Agent about logins, the way Styra's PAM
// module pam_authz does (three cycles: display, pull, authz), so that
// pam_authz's Rego policies work unchanged, with what pam-accesscontrol's
// rules know added under one more input key.
//
// Everything OPA says is untrusted input: answers are bounded in size and
// checked for type, a pull reads only root's files under OPA_PULL_FILES,
// an OPA on this host is asked only on a socket or port of root's, and a
// failure of any kind (unreachable, slow, HTTP errors, garbage, a port
// someone else holds) is OPA_FALLBACK's to decide, or the offline cache's.
// It is the rules engine's OPA adapter: it implements the port rules.OPA
// (Decider) and takes from rules only the port's types (Rule, Login,
// OPAAnswer, Option, Groups, Sessions) and OPA's settings (OPASettings,
// CheckOPAURL). Nothing else under rules/ may import it
// (rules/imports_test.go), so that the engine itself stays free of network
// code; the helper (pammod/call) and explain wire it in.
package opa

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/capool"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/localpeer"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// MaxAnswer bounds one answer from OPA: a policy server that sends more is
// answering garbage, and must not exhaust a login's memory.
const MaxAnswer = 1 << 20

// Querier evaluates a data path with an input: Client against a real OPA,
// a fake in tests.
type Querier interface {
	// Query POSTs {"input": input} to /v1/data/<path> and returns the
	// "result" of the answer, or ErrUndefined when OPA has no value there.
	Query(ctx context.Context, path string, input any) (json.RawMessage, error)
}

// ErrUndefined: OPA answered, but the data path has no value (no such
// policy loaded, or its bundle not activated yet).
var ErrUndefined = errors.New("OPA has no value at that data path (is the policy or its bundle loaded?)")

// Client talks to one OPA server over HTTP, HTTPS or a unix socket, each
// request bounded by the timeout.
type Client struct {
	base    string // scheme://host[:port], "http://unix" for a socket
	url     string // as the setting says, for messages
	http    *http.Client
	timeout time.Duration
}

// NewClient builds the client for OPA_URL, OPA_CA and OPA_TIMEOUT.
func NewClient(s rules.OPASettings) (*Client, error) {
	if err := rules.CheckOPAURL(s.URL); err != nil {
		return nil, fmt.Errorf("OPA_URL: %w", err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	tr := &http.Transport{
		Proxy:                  nil, // never through a proxy the environment names
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  timeout,
		TLSHandshakeTimeout:    timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	c := &Client{url: s.URL, timeout: timeout}
	if sock, ok := strings.CutPrefix(s.URL, "unix:"); ok {
		sock = strings.TrimPrefix(sock, "//")
		c.base = "http://unix"
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			if err := CheckSocket(sock); err != nil {
				return nil, err
			}
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}
	} else {
		c.base = strings.TrimSuffix(s.URL, "/")
		d := &net.Dialer{Timeout: timeout}
		// An OPA on this host (127.0.0.1:8181, localhost) must be root's,
		// as its unix socket would have to be: while it is down, any local
		// user could listen there and decide logins. HTTPS too: without
		// OPA_CA any CA of the system's would do, and with it the key is
		// as safe as the user the server runs as.
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return localpeer.Dial(ctx, d, network, addr)
		}
		if strings.HasPrefix(s.URL, "https://") {
			cfg := &tls.Config{MinVersion: tls.VersionTLS12}
			if s.CA != "" {
				// the CA vouches for OPA: only root may choose it, as
				// MAIL_CA and SYSLOG_CA
				pool, err := capool.Load(s.CA)
				if err != nil {
					return nil, fmt.Errorf("OPA_CA: %w", err)
				}
				cfg.RootCAs = pool
			}
			tr.TLSClientConfig = cfg
		}
	}
	c.http = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("OPA answered with a redirect, which is not followed")
	}}
	return c, nil
}

// CheckSocket refuses a unix socket that someone other than root could
// have put there (trust.Socket): whoever answers on it decides logins.
func CheckSocket(path string) error {
	if err := trust.Socket(path); err != nil {
		return fmt.Errorf("OPA socket: %w", err)
	}
	return nil
}

// Timeout is the bound on each request.
func (c *Client) Timeout() time.Duration { return c.timeout }

// URL is OPA_URL as written.
func (c *Client) URL() string { return c.url }

// Query implements Querier, within the client's timeout.
func (c *Client) Query(ctx context.Context, path string, input any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(map[string]any{"input": input})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/data/"+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("no answer from %s within %v", c.url, c.timeout)
		}
		return nil, fmt.Errorf("asking %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("no whole answer from %s within %v", c.url, c.timeout)
		}
		return nil, fmt.Errorf("reading the answer of %s: %w", c.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered HTTP %d%s", c.url, resp.StatusCode, opaError(data))
	}
	if len(data) > MaxAnswer {
		return nil, fmt.Errorf("%s answered more than %d KiB", c.url, MaxAnswer>>10)
	}
	return ParseResult(data)
}

// ParseResult takes "result" out of an answer of OPA's data API.
func ParseResult(data []byte) (json.RawMessage, error) {
	var answer map[string]json.RawMessage
	if err := json.Unmarshal(data, &answer); err != nil || answer == nil {
		return nil, fmt.Errorf("OPA's answer is not a JSON object (%s)", snippet(data))
	}
	result, ok := answer["result"]
	if !ok || string(result) == "null" {
		return nil, ErrUndefined
	}
	return result, nil
}

// opaError is the message of an error answer, when it has one.
func opaError(data []byte) string {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) != nil || e.Message == "" {
		return ""
	}
	return fmt.Sprintf(" (%s: %s)", e.Code, clip(e.Message, 200))
}

func snippet(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	return fmt.Sprintf("%q", clip(string(data), 60))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
