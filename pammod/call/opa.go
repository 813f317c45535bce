//go:build !lean

package call

import (
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/opa"
)

// opaDecider is rules.OPA for this call: OPA's prompts go through the PAM
// conversation (in evaluate, which holds no lock), the offline cache lives
// in the run directory, and falling back or using the cache is an audit
// event. OPA's sessions are logind's, as the user's own live sessions;
// logins not yet listed there are NUMBER's business, not the policy's.
func (c *call) opaDecider() rules.OPA {
	return &opa.Decider{
		Settings:    c.cfg.Settings.OPA,
		ServerGroup: c.cfg.Settings.ServerGroup,
		Config:      c.cfg.Fingerprint,
		Converse:    c.PAM.Converse,
		Silent:      c.silent(),
		Env:         c.PAM.GetEnv,
		Groups:      c.Groups,
		Sessions:    c.Sessions,
		Cache:       opaCache{c.store},
		Log:         c.Log,
		Event: func(kind, verdict, reason string) {
			c.auditEvent(audit.Event{Kind: kind, Verdict: verdict, Reason: reason})
		},
	}
}

// opaCache is opa.Cache over the login state store.
type opaCache struct{ s *loginstate.Store }

func record(k opa.CacheKey) loginstate.OPAOpen {
	return loginstate.OPAOpen{Config: k.Config, User: k.User, Service: k.Service, RHost: k.RHost, Auth: k.Auth}
}

func (c opaCache) LastOpen(k opa.CacheKey, ttl time.Duration) (opa.CachedOpen, bool) {
	o, ok := c.s.FindOPAOpen(record(k), ttl)
	return opa.CachedOpen{At: o.At, NoPrompts: o.NoPrompts}, ok
}

func (c opaCache) SaveOpen(k opa.CacheKey, noPrompts bool) error {
	r := record(k)
	r.NoPrompts = noPrompts
	return c.s.SaveOPAOpen(r)
}

func (c opaCache) Forget(k opa.CacheKey) error { return c.s.ForgetOPAOpen(record(k)) }
