package token

import (
	"encoding/json"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/oidcurl"
)

// WellKnown is where the discovery document is served (OpenID Connect
// Discovery 1.0, section 4: the issuer's URL and this path).
const WellKnown = "/.well-known/openid-configuration"

// JWKSPath is where the JWKS is served.
const JWKSPath = "/.well-known/jwks.json"

// Discovery is the OpenID Connect discovery document that lets a relying
// party (pam-accesscontrol's TOKEN rule with OIDC_ISSUER, kube-apiserver's
// OIDC authenticator) find the JWKS and check the service's tokens locally.
// It is nil, and nothing is served, unless the key is asymmetric (an HMAC
// secret cannot be published, so nobody else could check its tokens) and
// the issuer is a URL a relying party may fetch it at: https, or http on
// a loopback address (oidcurl.CheckIssuer, the rule the TOKEN check
// applies), without a query.
//
// It names only what the service does: its issuer and JWKS, the one
// signing algorithm, public subjects and the claims its tokens carry. The
// service has no OAuth authorization, token or introspection endpoint
// (its tokens come from beesly's POST /auth and pam_hook's GET /token),
// so response_types_supported is empty and those endpoints are absent;
// a relying party verifies the JWTs against the JWKS, and revocation is
// the tokens' short lifetime (--token-ttl).
func (i *Issuer) Discovery() []byte {
	if i.JWKS() == nil || oidcurl.CheckIssuer(i.cfg.Issuer) != nil {
		return nil
	}
	out, _ := json.Marshal(struct {
		Issuer          string   `json:"issuer"`
		JWKSURI         string   `json:"jwks_uri"`
		ResponseTypes   []string `json:"response_types_supported"`
		GrantTypes      []string `json:"grant_types_supported"`
		SubjectTypes    []string `json:"subject_types_supported"`
		SigningAlgs     []string `json:"id_token_signing_alg_values_supported"`
		ClaimsSupported []string `json:"claims_supported"`
	}{
		Issuer:          i.cfg.Issuer,
		JWKSURI:         strings.TrimSuffix(i.cfg.Issuer, "/") + JWKSPath,
		ResponseTypes:   []string{},
		GrantTypes:      []string{},
		SubjectTypes:    []string{"public"},
		SigningAlgs:     []string{i.key.alg},
		ClaimsSupported: []string{"iss", "aud", "sub", "iat", "exp", "jti", "groups", "username"},
	})
	return out
}
