package rules

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/oidcurl"
)

// OIDCFallback is what a TOKEN login gets when the provider cannot be
// asked (unreachable, or no answer within OIDC_TIMEOUT).
type OIDCFallback int

const (
	// OIDCFallbackClose (the default): the login is refused.
	OIDCFallbackClose OIDCFallback = iota
	// OIDCFallbackCache: a token the provider said was valid before (the
	// cache's record, kept until the token's exp) stands while the
	// provider cannot be asked, as OPA_CACHE's offline grants do; any
	// other token is refused. Revocation cannot be seen meanwhile.
	OIDCFallbackCache
)

func (f OIDCFallback) String() string {
	if f == OIDCFallbackCache {
		return "CACHE"
	}
	return "CLOSE"
}

// OIDCSettings say how TOKEN rules check a single sign-on token with an
// OpenID Connect provider (docs/rules.md, "Single sign-on tokens").
type OIDCSettings struct {
	// Issuer is OIDC_ISSUER: the provider's issuer URL, whose discovery
	// document names its endpoints; "" when unset.
	Issuer    string
	IssuerPos Pos
	// Introspection is OIDC_INTROSPECTION: the introspection endpoint,
	// in place of the one discovery names.
	Introspection string
	ClientID      string // OIDC_CLIENT_ID
	// ClientSecret is OIDC_CLIENT_SECRET: the root-only file that holds
	// the client's secret (never the secret itself).
	ClientSecret string
	// Scope is OIDC_SCOPE: a scope the token must carry; "" for none.
	Scope string
	CA    string // OIDC_CA: the CA bundle for https; "" for the system's
	// Timeout bounds each request to the provider (OIDC_TIMEOUT, 1–60 s,
	// default 5).
	Timeout time.Duration
	// UserClaim is OIDC_USER_CLAIM: the claim that must equal the user;
	// "" for sub.
	UserClaim string
	// Cache is OIDC_CACHE: how long the provider's "valid" stands for the
	// same token (never past its exp); 0 (OFF) asks every time. Default 60 s.
	Cache time.Duration
	// Fallback is OIDC_FALLBACK.
	Fallback OIDCFallback
}

// maxOIDCCache bounds OIDC_CACHE: a revoked token works at most this long.
const maxOIDCCache = 3600

// parseOIDCSetting reads the OIDC_* settings.
func (p *parser) parseOIDCSetting(pos Pos, key, value string) {
	o := &p.cfg.Settings.OIDC
	upper := strings.ToUpper(value)
	switch key {
	case "OIDC_ISSUER":
		if err := oidcurl.CheckIssuer(value); err != nil {
			p.cfg.problem(pos, Ignored, "OIDC_ISSUER: %v", err)
			return
		}
		o.Issuer, o.IssuerPos = value, pos
	case "OIDC_INTROSPECTION":
		if err := oidcurl.Check(value); err != nil {
			p.cfg.problem(pos, Ignored, "OIDC_INTROSPECTION: %v", err)
			return
		}
		o.Introspection = value
	case "OIDC_CLIENT_ID":
		if !printableWord(value) {
			p.cfg.problem(pos, Ignored, "OIDC_CLIENT_ID must be the client's id, printable characters, not %q", value)
			return
		}
		o.ClientID = value
	case "OIDC_CLIENT_SECRET":
		if path, ok := p.file(pos, key, value, "the root-only file holding the client secret"); ok {
			o.ClientSecret = path
		}
	case "OIDC_SCOPE":
		if !printableWord(value) || strings.ContainsAny(value, "\"\\") {
			p.cfg.problem(pos, Ignored, "OIDC_SCOPE must be one scope, like pam, not %q", value)
			return
		}
		o.Scope = value
	case "OIDC_CA":
		if path, ok := p.file(pos, key, value, "a PEM file of CA certificates"); ok {
			o.CA = path
		}
	case "OIDC_TIMEOUT":
		if d, ok := p.seconds(pos, key, value, 60); ok {
			o.Timeout = d
		}
	case "OIDC_USER_CLAIM":
		if !claimName(value) {
			p.cfg.problem(pos, Ignored, "OIDC_USER_CLAIM must be a claim name like preferred_username, not %q", value)
			return
		}
		o.UserClaim = value
	case "OIDC_CACHE":
		if upper == "OFF" || value == "0" {
			o.Cache = 0
			return
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > maxOIDCCache {
			p.cfg.problem(pos, Ignored, "OIDC_CACHE must be OFF or a whole number of seconds from 1 to %d, not %q", maxOIDCCache, value)
			return
		}
		o.Cache = time.Duration(n) * time.Second
	case "OIDC_FALLBACK":
		switch upper {
		case "CLOSE":
			o.Fallback = OIDCFallbackClose
		case "CACHE":
			o.Fallback = OIDCFallbackCache
		case "OPEN":
			p.cfg.problem(pos, Ignored, "OIDC_FALLBACK:OPEN would let anything typed as a password in while the provider is down; "+
				"write CLOSE, or CACHE to let tokens the provider accepted before stand until they expire")
		default:
			p.cfg.problem(pos, Ignored, "OIDC_FALLBACK must be CLOSE or CACHE, not %q", value)
		}
	}
}

func printableWord(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func claimName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r)) {
			return false
		}
	}
	return true
}

// OIDCMissing says what a TOKEN rule lacks to be checked: the settings
// without which no token can be (an issuer or introspection endpoint, the
// client id and its secret); "" when nothing is missing.
func (o OIDCSettings) Missing() string {
	var m []string
	if o.Issuer == "" && o.Introspection == "" {
		m = append(m, "OIDC_ISSUER (or OIDC_INTROSPECTION)")
	}
	if o.ClientID == "" {
		m = append(m, "OIDC_CLIENT_ID")
	}
	if o.ClientSecret == "" {
		m = append(m, "OIDC_CLIENT_SECRET")
	}
	return strings.Join(m, ", ")
}

// TokenRule returns the first TOKEN rule that names the login (its
// service and its target, surely or not), or nil: whether the password of
// this login may be sent to the provider at all. It asks only NSS for
// groups, never a plugin or OPA, so the PAM helper's token line can tell
// at no cost whether a login is a TOKEN one.
func TokenRule(ctx context.Context, cfg *Config, login Login, deps Deps) (*Rule, error) {
	e := newEvaluator(ctx, cfg, login, deps, false)
	for _, r := range cfg.Rules {
		if r.Option != OptToken || !r.Service.Matches(login) {
			continue
		}
		m, _, err := e.targetMatches(r)
		if err != nil {
			return nil, err
		}
		if m != matchNo {
			return r, nil
		}
	}
	return nil, nil
}

// errTokenSettings is the error of a TOKEN decision whose settings are
// incomplete.
func errTokenSettings(r *Rule, missing string) error {
	return fmt.Errorf("%s: a TOKEN rule applies, but %s is not set: no token can be checked", r.Pos, missing)
}

// withToken makes a decision that lets the login in (or leaves it to a
// person) a TOKEN one when a TOKEN rule names the login: the token must
// be valid first, then the decision stands as it was (Then). A CLOSE is
// never made one: nothing is sent to the provider for a login refused
// anyway.
func (e *evaluator) withToken(d Decision) Decision {
	r := e.tokenRule
	if r == nil || d.Verdict == Close {
		if r != nil {
			e.step(r.Pos, "no token is asked for: the login is refused anyway")
		}
		return d
	}
	if missing := e.cfg.Settings.OIDC.Missing(); missing != "" {
		return e.fail(errTokenSettings(r, missing))
	}
	d.Then, d.Verdict = d.Verdict, Token
	if d.Rule == nil {
		d.Rule = r
	}
	d.Reason = fmt.Sprintf("TOKEN rule %s (%s): a valid single sign-on token as the password, then %s", r.Pos, e.tokenWhy, d.Reason)
	e.step(r.Pos, "decision TOKEN: the password must be a valid token from %s, then %s", e.cfg.Settings.OIDC.provider(), d.Then)
	d.Trace = e.trace
	return d
}

// provider names the provider for a trace.
func (o OIDCSettings) provider() string {
	if o.Issuer != "" {
		return o.Issuer
	}
	return o.Introspection
}
