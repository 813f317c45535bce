package checkconfig

import (
	"fmt"
	"slices"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// checkOIDCSetup warns where TOKEN rules cannot work as written: settings
// missing (their users are denied), a client secret file that is not
// root's alone, OIDC settings no rule uses, and a cache longer than a
// revoked token should keep working. It never contacts the provider.
func checkOIDCSetup(cfg *rules.Config) []rules.Problem {
	if len(cfg.Files) == 0 {
		return nil
	}
	o := cfg.Settings.OIDC
	var out []rules.Problem
	warn := func(pos rules.Pos, format string, args ...any) {
		out = append(out, rules.Problem{Pos: pos, Severity: rules.Warning, Message: fmt.Sprintf(format, args...)})
	}
	i := slices.IndexFunc(cfg.Rules, func(r *rules.Rule) bool { return r.Option == rules.OptToken })
	if i < 0 {
		if o.Issuer != "" {
			warn(o.IssuerPos, "OIDC_ISSUER is set, but no rule has the option TOKEN: no token is ever checked")
		}
		return out
	}
	r := cfg.Rules[i]
	if missing := o.Missing(); missing != "" {
		warn(r.Pos, "TOKEN checks single sign-on tokens, but %s is not set: the users it names are denied", missing)
	}
	if o.ClientSecret != "" {
		if _, err := oidc.ReadSecret(o.ClientSecret); err != nil {
			warn(r.Pos, "%v: no token can be checked, and the users TOKEN names are denied", err)
		}
	}
	if o.Scope == "" {
		warn(r.Pos, "TOKEN without OIDC_SCOPE accepts any token the provider issued to OIDC_CLIENT_ID for the user, whatever it was "+
			"meant for: set OIDC_SCOPE to the scope your tokens for logins carry")
	}
	return out
}
