//go:build !lean

package call

import (
	"fmt"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// NewTokenChecker is the provider of the OIDC_* settings: its client,
// with the secret read from its root-only file.
func NewTokenChecker(s rules.OIDCSettings) (TokenChecker, error) {
	if missing := s.Missing(); missing != "" {
		return nil, fmt.Errorf("%s is not set", missing)
	}
	secret, err := oidc.ReadSecret(s.ClientSecret)
	if err != nil {
		return nil, err
	}
	cl, err := oidc.New(oidc.Options{CA: s.CA, Timeout: s.Timeout})
	if err != nil {
		return nil, err
	}
	return oidc.NewVerifier(cl, oidc.TokenSettings{Issuer: s.Issuer, Introspection: s.Introspection, ClientID: s.ClientID,
		ClientSecret: secret, Scope: s.Scope, UserClaim: s.UserClaim}, nil)
}
