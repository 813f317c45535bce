package kubecred

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// serverURL checks --server: https, or plain http to a loopback address
// only (the password crosses the connection, as serve itself insists),
// with no credentials, query or fragment of its own. The result has no
// trailing slash: it names the cache file and /token is appended.
func serverURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("--server %q: %v", s, err)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("--server %q: want https://HOST[:PORT][/PATH], serve's address, without user, query or fragment", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if a, err := netip.ParseAddr(host); host != "localhost" && (err != nil || !a.IsLoopback()) {
			return "", fmt.Errorf("--server %q: plain http would carry your password in the clear; use https (http only to a loopback address)", s)
		}
	default:
		return "", fmt.Errorf("--server %q: the scheme must be https", s)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// client is the HTTP client for serve: the system's roots, or only the
// CA of caFile; TLS 1.2 at least; no request waits longer than timeout.
func client(caFile string, timeout time.Duration) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s: no PEM certificate in it", caFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		// a redirect would send the password on to wherever it points
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// fetch trades user and password for a token at server's GET /token
// (minutes > 0: token-expires-in), and reads its expiry from the token's
// exp claim (serve's tokens are JWTs; the signature is the API server's
// to check, this only needs to know when to ask again).
func fetch(ctx context.Context, c *http.Client, server, user string, password []byte, minutes int, now time.Time) (string, time.Time, error) {
	u := server + "/token"
	if minutes > 0 {
		u += "?token-expires-in=" + strconv.Itoa(minutes)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", time.Time{}, err
	}
	// Basic authentication from bytes that are zeroed after use (the
	// header's string copy cannot be)
	cred := make([]byte, 0, len(user)+1+len(password))
	cred = append(append(append(cred, user...), ':'), password...)
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(cred)))
	base64.StdEncoding.Encode(enc, cred)
	req.Header.Set("Authorization", "Basic "+string(enc))
	clear(cred)
	clear(enc)
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", time.Time{}, fmt.Errorf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("GET %s: %v", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", time.Time{}, refusal(resp, body, user)
	}
	token := string(bytes.TrimSuffix(body, []byte("\n")))
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", time.Time{}, fmt.Errorf("GET %s: the answer is not a token", u)
	}
	exp, err := expiry(token)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("GET %s: %v", u, err)
	}
	if !exp.After(now) {
		return "", time.Time{}, fmt.Errorf("GET %s: the token expired at %s, before it arrived (is this machine's clock right?)", u, exp.UTC().Format(time.RFC3339))
	}
	return token, exp, nil
}

// refusal says why serve did not hand out a token.
func refusal(resp *http.Response, body []byte, user string) error {
	var e struct {
		Error     string `json:"error"`
		Challenge []any  `json:"challenge"`
	}
	json.Unmarshal(body, &e)
	why := e.Error
	if why == "" {
		why = strings.TrimSpace(string(body))
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s may not have a Kubernetes token: a wrong password, or the rules refuse this login (%s)", user, why)
	case resp.StatusCode == http.StatusUnauthorized && len(e.Challenge) > 0:
		return fmt.Errorf("the Kubernetes PAM service asks more than the password (%d more prompts); kube-credential answers the password alone", len(e.Challenge))
	case resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("too many attempts; the server says to retry after %s seconds (%s)", resp.Header.Get("Retry-After"), why)
	case resp.StatusCode == http.StatusNotImplemented:
		return fmt.Errorf("the server hands out no Kubernetes tokens (%s): it needs --signing-key and the kubernetes PAM service", why)
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, why)
}

// expiry is a JWT's exp claim.
func expiry(token string) (time.Time, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("the token is not a JWT: its expiry cannot be read")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, fmt.Errorf("the token's claims: %v", err)
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	if err := d.Decode(&claims); err != nil {
		return time.Time{}, fmt.Errorf("the token's claims: %v", err)
	}
	if claims.Exp == nil {
		return time.Time{}, errors.New("the token has no exp claim: its expiry cannot be read")
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, fmt.Errorf("the token's exp claim %q is not a time", claims.Exp.String())
	}
	// a fractional exp (beesly's) counts from its whole second: expiring
	// early is harmless, late is not
	return time.Unix(int64(f), 0), nil
}
