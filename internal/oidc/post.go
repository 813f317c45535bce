package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Credentials of the client at the provider (OIDC_CLIENT_ID and the
// content of OIDC_CLIENT_SECRET). The secret never appears in an error.
type Credentials struct {
	ID     string
	Secret string
	Method AuthMethod
}

// PostForm POSTs form to endpoint, authenticated as cred says, and returns
// the status and the (bounded) body. Transport failures and timeouts are
// *UnavailableError; the status is the caller's to judge (a token endpoint
// answers 400 for authorization_pending).
func (c *Client) PostForm(ctx context.Context, what, endpoint string, form url.Values, cred Credentials) (int, []byte, error) {
	if err := CheckURL(endpoint); err != nil {
		return 0, nil, fmt.Errorf("%s: %w", what, err)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if cred.Method == ClientSecretPost {
		f.Set("client_id", cred.ID)
		if cred.Secret != "" {
			f.Set("client_secret", cred.Secret)
		}
	}
	req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(f.Encode()))
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if cred.Method != ClientSecretPost && cred.ID != "" {
		// RFC 6749 2.3.1: both form-encoded before Basic
		req.SetBasicAuth(url.QueryEscape(cred.ID), url.QueryEscape(cred.Secret))
	}
	return c.do(ctx, what, req)
}

// oauthError is the RFC 6749 error of an answer, when it has one, for a
// log line.
func oauthError(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	if e.Description != "" {
		return fmt.Sprintf(" (%s: %s)", clip(e.Error, 60), clip(e.Description, 200))
	}
	return fmt.Sprintf(" (%s)", clip(e.Error, 60))
}

// StatusError is the error for an answer of endpoint with that status
// and body that is not what the caller wanted (5xx and 429 are
// *UnavailableError).
func StatusError(what, endpoint string, status int, body []byte) error {
	return statusError(what, endpoint, status, body)
}
