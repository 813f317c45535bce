package call

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/oidc/verdict"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// The module line's token modes (pam-configure --tokens), docs/rules.md
// "Single sign-on tokens":
//
//	tokenline=only         the line before the password modules: a TOKEN
//	                       login is decided here, the password checked as
//	                       a token; any other login is PAM_IGNORE, its
//	                       password never read
//	tokenline=or-password  the same, but a refused token leaves the
//	                       password to the modules below (nothing kept)
//	tokens=or-password     the decision line below them: a TOKEN login
//	                       that reaches it authenticated with its Unix
//	                       password, which stands in for the token
const (
	TokensOnly       = "only"
	TokensOrPassword = "or-password"
)

// TokenChecker checks a token with the provider: internal/oidc's
// Verifier, a fake in unit tests.
type TokenChecker interface {
	Check(ctx context.Context, token, user string) (verdict.Valid, error)
}

// tokenPrompt asks for the token when no module before ours read a
// password.
const tokenPrompt = "Password: "

// tokenResult is what checking the password as a token came to.
type tokenResult struct {
	ok bool
	// why says what happened, for the log and the decision's reason
	why string
	// refused: the token was found not valid (or could not be checked):
	// in the token line of or-password nothing is kept, the password is
	// left to the modules below
	refused bool
}

// checkToken completes a TOKEN decision: the login's password must be a
// valid token for its user. Each attempt is an audit event; failures back
// off per user and remote host.
func (c *call) checkToken(login rules.Login) tokenResult {
	if c.args.Tokens == TokensOrPassword && c.args.TokenLine == "" && c.req.Fn == protocol.FnAuthenticate {
		// the decision line of or-password: the modules above it checked
		// the Unix password, which stands in for the token. The token line
		// counted it as a refused token: a login that succeeded is no
		// guess, or every Unix login would lock tokens out of its host
		keys := []string{"user:" + login.User}
		if login.RHost != "" {
			keys = append(keys, "rhost:"+login.RHost)
		}
		c.store.TokenSucceeded(keys...)
		return tokenResult{ok: true, why: "the Unix password stands in for the token (tokens=or-password)"}
	}
	refuse := func(reason string) tokenResult {
		c.auditEvent(audit.Event{Kind: audit.TokenRefused, User: login.User, PAMUser: login.PAMUser, Auth: string(login.Auth), Reason: reason})
		return tokenResult{why: "token refused: " + reason, refused: true}
	}
	token, err := c.password()
	if err != nil {
		return refuse(err.Error())
	}
	s := c.cfg.Settings.OIDC
	provider := s.Issuer
	if provider == "" {
		provider = s.Introspection
	}
	key := loginstate.TokenOK{Hash: verdict.Hash(token), User: login.User, Issuer: provider}
	if s.Cache > 0 {
		if _, ok := c.store.FindTokenOK(key, s.Cache); ok {
			c.auditEvent(audit.Event{Kind: audit.TokenOK, User: login.User, PAMUser: login.PAMUser, Auth: string(login.Auth),
				Reason: "valid: the provider said so less than OIDC_CACHE ago"})
			return tokenResult{ok: true, why: "a valid token (cached)"}
		}
	}
	keys := []string{"user:" + login.User}
	if login.RHost != "" {
		keys = append(keys, "rhost:"+login.RHost)
	}
	if until := c.store.TokenBackoff(keys...); !until.IsZero() {
		return refuse(fmt.Sprintf("too many refused tokens for this user or remote host: backing off until %s", until.UTC().Format(time.RFC3339)))
	}
	if !verdict.LooksLikeToken(token) {
		// never sent: a token is printable ASCII without blanks
		c.tokenFailed(keys)
		return refuse("the password does not look like a token")
	}
	checker, err := c.tokenChecker()
	if err != nil {
		return refuse(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(c.decisionTimeout(), 3*max(s.Timeout, time.Second)))
	defer cancel()
	valid, err := checker.Check(ctx, token, login.User)
	var r *verdict.RefusedError
	switch {
	case err == nil:
		c.store.TokenSucceeded(keys...)
		key.Exp = valid.Exp
		if s.Cache > 0 || s.Fallback == rules.OIDCFallbackCache {
			if err := c.store.SaveTokenOK(key); err != nil {
				c.Log.Error("keeping the token's check: %v", err)
			}
		}
		c.auditEvent(audit.Event{Kind: audit.TokenOK, User: login.User, PAMUser: login.PAMUser, Auth: string(login.Auth),
			Reason: "valid (" + valid.Via + ")"})
		return tokenResult{ok: true, why: "a valid token (" + valid.Via + ")"}
	case verdict.IsUnavailable(err):
		if s.Fallback == rules.OIDCFallbackCache {
			if _, ok := c.store.FindTokenOK(key, 0); ok {
				c.auditEvent(audit.Event{Kind: audit.TokenOK, User: login.User, PAMUser: login.PAMUser, Auth: string(login.Auth),
					Reason: fmt.Sprintf("the provider cannot be asked (%v); OIDC_FALLBACK:CACHE: it said this token was valid before, and it has not expired", err)})
				return tokenResult{ok: true, why: "the provider cannot be asked; a token it accepted before (OIDC_FALLBACK:CACHE)"}
			}
		}
		return refuse(fmt.Sprintf("the provider cannot be asked (%v); OIDC_FALLBACK:%s", err, s.Fallback))
	case errors.As(err, &r):
		c.store.ForgetTokenOK(key)
		c.tokenFailed(keys)
		return refuse(r.Reason)
	}
	c.store.ForgetTokenOK(key)
	return refuse(err.Error())
}

func (c *call) tokenFailed(keys []string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	if until, err := c.store.TokenFailed(ctx, keys...); err != nil {
		c.Log.Error("counting a refused token: %v", err)
	} else if !until.IsZero() {
		c.Log.Info("%s: refused tokens for %s: further tokens are refused unasked until %s", c.req.Fn,
			logging.Quote(keys[0][len("user:"):]), until.UTC().Format(time.RFC3339))
	}
}

// password is the login's password: PAM_AUTHTOK when a module before ours
// read it, else asked for (in auth only) and kept there for the modules
// after ours.
func (c *call) password() (string, error) {
	v, ok, err := c.PAM.GetItem(protocol.ItemAuthtok)
	if err != nil {
		return "", fmt.Errorf("reading the password: %v", err)
	}
	if ok {
		return v, nil
	}
	if c.req.Fn != protocol.FnAuthenticate {
		return "", fmt.Errorf("no password in the %s phase to check as a token", c.req.Fn)
	}
	typed, err := c.PAM.Converse(protocol.PromptEchoOff, tokenPrompt)
	if err != nil {
		return "", fmt.Errorf("the password could not be asked for (%v)", err)
	}
	if err := c.PAM.SetItem(protocol.ItemAuthtok, typed); err != nil {
		c.Log.Debug("keeping the password for the next modules: %v", err)
	}
	return typed, nil
}

// tokenChecker is Deps.Tokens, or the provider the OIDC_* settings name.
func (c *call) tokenChecker() (TokenChecker, error) {
	if c.Tokens != nil {
		return c.Tokens(c.cfg.Settings.OIDC)
	}
	return NewTokenChecker(c.cfg.Settings.OIDC)
}

// tokenLine runs the module line of tokenline=only|or-password in auth:
// a login no TOKEN rule names is PAM_IGNORE, its password never read;
// a TOKEN login is decided here, its password checked as a token.
func (c *call) tokenLine() int32 {
	if c.req.Fn != protocol.FnAuthenticate {
		return protocol.PAMIgnore
	}
	user, err := c.user()
	if err != nil || !c.req.Service.Valid || c.req.Service.S == "" {
		c.Log.Error("%s: tokenline: no user name or service (%v); denying", c.req.Fn, err)
		return protocol.PAMAuthErr
	}
	cfg := c.loadConfig()
	login := rules.Login{Service: c.req.Service.S, User: user, RHost: c.req.RHost.S, Auth: rules.AuthPassword,
		RUser: c.req.RUser.S, TTY: c.req.TTY.S}
	resolved, err := rules.ResolveUser(c.Users, login)
	if err != nil {
		c.Log.Error("%s: tokenline: %v; denying", c.req.Fn, err)
		return protocol.PAMAuthErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	r, err := rules.TokenRule(ctx, cfg, resolved, rules.Deps{Groups: c.Groups})
	if err != nil {
		c.Log.Error("%s: tokenline: whether a TOKEN rule names %s: %v; denying", c.req.Fn, logging.Quote(user), err)
		return protocol.PAMAuthErr
	}
	if r == nil {
		c.Log.Debug("%s: tokenline: no TOKEN rule names %s: left to the modules below", c.req.Fn, logging.Quote(user))
		return protocol.PAMIgnore
	}
	return c.decide()
}
