package call

import (
	"context"
	"errors"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// outcome is a decision on its way to the module: the rules' decision, and
// what the verdict and reason became once a person answered.
type outcome struct {
	rules.Decision
	approvedBy *uint32           // the desktop owner who allowed an ASK login
	grant      *loginstate.Grant // and allowed its host for hours (ASK_REMEMBER)
	// tokenRefused: a TOKEN login's token was refused (or could not be
	// checked)
	tokenRefused bool
}

// decide gives the login its one decision: made by the earliest phase that
// runs the module and reused by the later ones, as far as they are the same
// login: a decision made while a password was checked stands for a later
// phase only once that check is known to have succeeded (kinds).
func (c *call) decide() int32 {
	user, err := c.user()
	if err != nil {
		c.Log.Error("%s: no user name: %v; denying", c.req.Fn, err)
		return c.denyCode()
	}
	if !c.req.Service.Valid || c.req.Service.S == "" {
		c.Log.Error("%s: the application set no PAM service; denying", c.req.Fn)
		return c.denyCode()
	}
	cfg := c.loadConfig()
	if err := c.openState(); err != nil {
		c.Log.Error("%s: %v; denying", c.req.Fn, err)
		return c.denyCode()
	}
	handleID := "" // read from the handle only when a record of this login is there
	d, found := c.store.FindDecision(loginstate.Query{Caller: c.caller, Config: cfg.Fingerprint, User: user,
		Service: c.req.Service.S, RHost: c.req.RHost.S, HandleIDOf: func() string {
			id, err := c.PAM.LoginID()
			if err != nil {
				c.Log.Debug("the login id on the handle: %v", err)
			}
			handleID = id
			return id
		}})
	login := rules.Login{Service: c.req.Service.S, User: user, RHost: c.req.RHost.S, Auth: rules.AuthNone,
		RUser: c.req.RUser.S, TTY: c.req.TTY.S}
	kinds := c.kinds(login, d, found)
	c.mark("items")
	if found {
		switch {
		case c.req.Fn == protocol.FnAuthenticate || d.Confirmed && kinds.only(rules.AuthKind(d.Auth)):
			return c.reuse(d)
		case (d.Confirmed || c.confirms(d)) && kinds.has(rules.AuthKind(d.Auth)):
			var code int32
			if d.Confirmed {
				code = c.reuse(d) // for its kind; sshd named another too
			} else {
				code = c.confirm(d)
			}
			if code != protocol.PAMSuccess || kinds.only(rules.AuthKind(d.Auth)) {
				return code
			}
			kinds = kinds.without(rules.AuthKind(d.Auth)) // and it must pass as the other kind too
		default:
			c.Log.Info("%s: the decision %s of an earlier phase was made during an authentication that %s; deciding again",
				c.req.Fn, d.Verdict, c.authFate())
			c.dropApproval(d)
		}
		handleID = d.LoginID
	}

	c.setLoginID(handleID)
	fatal, refused := cfg.Fatal()
	if refused {
		c.auditEvent(audit.Event{Kind: audit.ConfigRefused, User: user, Reason: fatal.String()})
	}
	// the rules decide about the account NSS finds, not the client's
	// spelling of its name; NSS failing is a CLOSE with its reason
	resolved, err := rules.ResolveUser(c.Users, login)
	if err != nil {
		login.Auth = kinds[0]
		return c.commit(login, outcome{Decision: rules.Decision{Verdict: rules.Close, Err: err, Reason: err.Error()}})
	}
	login = resolved
	c.account, c.pamUser = login.User, login.PAMUser
	code := int32(protocol.PAMSuccess)
	for _, kind := range kinds {
		login.Auth = kind
		if broken, locked := cfg.Refuses(login); locked && !refused {
			c.auditEvent(audit.Event{Kind: audit.ConfigRefused, User: user, Auth: string(kind), Reason: broken.String()})
		}
		o := c.complete(login, c.evaluate(login))
		c.mark("decide")
		if o.tokenRefused && c.args.TokenLine != "" {
			// the token line keeps nothing: a retry on this handle is
			// checked afresh, and with or-password the modules below
			// check the password as a Unix one
			next := "refused"
			if c.args.TokenLine == TokensOrPassword {
				next = "left to the Unix password modules below (tokenline=or-password)"
			}
			c.Log.Info("%s: TOKEN login of %s from %s (login %s): %s; %s", c.req.Fn, userText(login.User, login.PAMUser),
				logging.Quote(login.RHost), c.loginID, o.Reason, next)
			return protocol.PAMAuthErr
		}
		if code = c.commit(login, o); code != protocol.PAMSuccess {
			break // the login must pass as every kind it may be
		}
	}
	return code
}

// reuse answers with the decision of an earlier phase of this login, and
// keeps it as this process's own, for a child it forks next (sshd's
// monitor decides nothing itself, then forks the session).
func (c *call) reuse(d loginstate.Decision) int32 {
	c.setLoginID(d.LoginID)
	c.Log.Debug("%s: %s login of %s: reusing the decision %s of an earlier phase (%s)",
		c.req.Fn, c.req.Service.S, logging.Quote(d.User), d.Verdict, d.Source)
	if d.Owner.Self != c.caller.Self {
		d.Owner = c.caller
		if err := c.store.SaveDecision(d); err != nil {
			c.Log.Debug("keeping the reused decision: %v", err)
		}
		c.mark("record")
	}
	return c.verdictCode(d)
}

// confirm takes a decision of an auth phase whose authentication is now
// known to have succeeded: it stands for this phase and the later ones,
// and the desktop owner's Allow made with it is kept.
func (c *call) confirm(d loginstate.Decision) int32 {
	c.setLoginID(d.LoginID)
	c.Log.Debug("%s: %s login of %s: reusing the decision %s of an earlier phase (%s): its authentication succeeded",
		c.req.Fn, c.req.Service.S, logging.Quote(d.User), d.Verdict, d.Source)
	if d.Approval != nil && d.Verdict == rules.Open.String() {
		if c.req.Auth == protocol.AuthUnknown && strings.EqualFold(d.Service, "sshd") {
			c.dropApproval(d) // maybe the key let this login in, not the approved password
		} else {
			c.keepApproval(rules.Login{Service: d.Service, User: d.User, RHost: d.RHost}, *d.Approval)
		}
	}
	d.Owner, d.Confirmed, d.Approval = c.caller, true, nil
	if err := c.store.SaveDecision(d); err != nil {
		c.Log.Error("keeping the confirmed decision: %v (later phases will decide again)", err)
	}
	c.mark("record")
	return c.verdictCode(d)
}

func (c *call) verdictCode(d loginstate.Decision) int32 {
	if d.Verdict == rules.Open.String() {
		return protocol.PAMSuccess
	}
	return c.denyCode()
}

// openState opens the run directory and names the calling login, as
// script mode does (loginstate.Opener).
func (c *call) openState() error {
	if c.store != nil {
		return nil
	}
	store, caller, err := loginstate.Opener{Dir: c.args.RunDir, Now: c.storeClock, Identify: c.Identify}.
		Open(c.peerPID, c.req.PID, c.req.Handle)
	if err != nil {
		return err
	}
	c.store, c.caller = store, caller
	return nil
}

// setLoginID takes the login's correlation id (from an earlier phase, or
// new) and keeps it on the handle.
func (c *call) setLoginID(id string) {
	if id == "" {
		id = audit.NewLoginID()
	}
	c.loginID = id
	if err := c.PAM.KeepLoginID(id); err != nil {
		c.Log.Debug("keeping the login id on the handle: %v", err)
	}
}

// evaluate lets the rules decide. No lock is held: a plugin may talk to the
// user for as long as the user takes. complete counts NUMBER again, under
// the lock, before anyone is let in.
func (c *call) evaluate(login rules.Login) rules.Decision {
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	deps := c.rulesDeps()
	if !c.Log.Debugging() {
		return rules.Decide(ctx, c.cfg, login, deps)
	}
	d := rules.Explain(ctx, c.cfg, login, deps)
	for _, s := range d.Trace {
		if s.Pos.IsZero() {
			c.Log.Debug("trace: %s", s.Text)
		} else {
			c.Log.Debug("trace: %s: %s", s.Pos, s.Text)
		}
	}
	return d
}

func (c *call) rulesDeps() rules.Deps {
	deps := rules.Deps{
		Groups:    c.Groups,
		Sessions:  liveSessions{c},
		Approvals: approvals{c},
	}
	// nil in the lean helper (lean.go): the rules then fail the
	// plugin's or OPA's rule closed
	deps.Plugins = c.plugins(deps)
	deps.OPA = c.opaDecider()
	return deps
}

// user is PAM_USER, asking the application when it is not set yet, as in
// login's auth phase.
func (c *call) user() (string, error) {
	if c.req.User.Valid && c.req.User.S != "" {
		return c.req.User.S, nil
	}
	u, err := c.PAM.GetUser()
	if err == nil && u == "" {
		err = errors.New("empty user name")
	}
	return u, err
}
