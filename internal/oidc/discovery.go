package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/oidcurl"
)

// WellKnown is the discovery document's path under the issuer (OpenID
// Connect Discovery 1.0, section 4).
const WellKnown = "/.well-known/openid-configuration"

// Metadata is what the provider's discovery document says, as far as
// pam-accesscontrol uses it.
type Metadata struct {
	Issuer                      string   `json:"issuer"`
	IntrospectionEndpoint       string   `json:"introspection_endpoint"`
	IntrospectionAuthMethods    []string `json:"introspection_endpoint_auth_methods_supported"`
	TokenEndpoint               string   `json:"token_endpoint"`
	TokenAuthMethods            []string `json:"token_endpoint_auth_methods_supported"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	JWKSURI                     string   `json:"jwks_uri"`
	GrantTypes                  []string `json:"grant_types_supported"`
	Scopes                      []string `json:"scopes_supported"`
}

// DiscoveryURL is where the discovery document of issuer is.
func DiscoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + WellKnown
}

// Discover fetches and checks the discovery document of issuer: the
// issuer it names must be issuer exactly (section 4.3: otherwise a
// provider could speak for another), and every endpoint it names must
// pass CheckURL.
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	if err := CheckIssuer(issuer); err != nil {
		return nil, err
	}
	body, err := c.get(ctx, "discovery", DiscoveryURL(issuer))
	if err != nil {
		return nil, err
	}
	return ParseMetadata(issuer, body)
}

// CheckIssuer refuses an OIDC_ISSUER that cannot be one: an https URL
// (http on loopback for tests) without query or fragment.
func CheckIssuer(issuer string) error {
	if err := oidcurl.CheckIssuer(issuer); err != nil {
		return fmt.Errorf("issuer: %w", err)
	}
	return nil
}

// ParseMetadata checks a discovery document fetched for issuer.
func ParseMetadata(issuer string, body []byte) (*Metadata, error) {
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("discovery: the document of %s is not a JSON object of the expected form (%s)", issuer, clip(err.Error(), 120))
	}
	if m.Issuer != issuer {
		return nil, fmt.Errorf("discovery: the provider at %s says its issuer is %q, not %q (they must be equal exactly)", DiscoveryURL(issuer), clip(m.Issuer, 200), issuer)
	}
	for _, e := range []struct{ name, url string }{
		{"introspection_endpoint", m.IntrospectionEndpoint},
		{"token_endpoint", m.TokenEndpoint},
		{"device_authorization_endpoint", m.DeviceAuthorizationEndpoint},
		{"jwks_uri", m.JWKSURI},
	} {
		if e.url == "" {
			continue
		}
		if err := CheckURL(e.url); err != nil {
			return nil, fmt.Errorf("discovery: %s: %w", e.name, err)
		}
	}
	return &m, nil
}

// AuthMethod is how the client authenticates to an endpoint.
type AuthMethod string

const (
	// ClientSecretBasic: HTTP Basic with the URL-encoded id and secret
	// (RFC 6749 2.3.1), the default of RFC 8414.
	ClientSecretBasic AuthMethod = "client_secret_basic"
	// ClientSecretPost: client_id and client_secret in the form.
	ClientSecretPost AuthMethod = "client_secret_post"
)

// IntrospectionAuth is the method to authenticate with at the
// introspection endpoint: client_secret_basic unless the provider lists
// methods without it and with client_secret_post.
func (m *Metadata) IntrospectionAuth() AuthMethod {
	return pickAuth(m.IntrospectionAuthMethods)
}

// TokenAuth is IntrospectionAuth for the token endpoint.
func (m *Metadata) TokenAuth() AuthMethod {
	return pickAuth(m.TokenAuthMethods)
}

func pickAuth(supported []string) AuthMethod {
	if len(supported) > 0 && !slices.Contains(supported, string(ClientSecretBasic)) && slices.Contains(supported, string(ClientSecretPost)) {
		return ClientSecretPost
	}
	return ClientSecretBasic
}
