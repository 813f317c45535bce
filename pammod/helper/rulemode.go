package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules/starhost"
)

// decisionTimeout bounds one decision's work (NSS, logind) inside the
// module's own deadline, so that the helper answers, with a log line saying
// what was slow, rather than being killed.
func decisionTimeout(moduleTimeout time.Duration) time.Duration {
	return max(min(30*time.Second, moduleTimeout-time.Second), time.Second/2)
}

// deniedMessage is what the user sees on CLOSE. It names no rule: the
// reason is in the log, for the admin, not for whoever tries to log in.
const deniedMessage = "Access denied by pam-accesscontrol."

// ruleCall is one PAM call in rule mode (no script on the module line).
type ruleCall struct {
	conn  *protocol.Conn
	call  protocol.Call
	args  moduleArgs
	log   *logging.Logger
	store *store

	loginID string    // the audit trail's correlation id of this login
	after   *delivery // webhook events to send once the result is out
}

func (c *ruleCall) run() int32 {
	switch c.call.Fn {
	case protocol.FnAuthenticate, protocol.FnAcctMgmt:
		return c.decide()
	case protocol.FnOpenSession:
		code := c.decide()
		if code == protocol.PAMSuccess {
			cfg, _ := rules.Load(rules.LoadOptions{Path: c.args.Conf})
			c.auditEvent(cfg, audit.Event{Kind: audit.SessionOpen})
			c.mailSession(cfg, mail.NewSession)
		}
		return code
	case protocol.FnCloseSession:
		c.closeSession()
		c.store.forget(c.call)
		newNumberGuard(c.args.RunDir).remove(c.call)
		if ap, last := newApprovals(c.args.RunDir, &logind.Client{}).release(c.call); last {
			c.informClosed(ap)
		}
		return protocol.PAMSuccess
	case protocol.FnChauthtok:
		return protocol.PAMIgnore // rules do not govern password changes
	}
	return protocol.PAMSuccess // setcred (answered by the shim itself), end
}

// decide gives the login its one decision: made by the earliest phase that
// runs the module and reused by the later ones.
func (c *ruleCall) decide() int32 {
	user, err := c.user()
	if err != nil {
		c.log.Error("%s: no user name: %v; denying", c.call.Fn, err)
		return c.denyCode()
	}
	if !c.call.Service.Valid || c.call.Service.S == "" {
		c.log.Error("%s: the application set no PAM service; denying", c.call.Fn)
		return c.denyCode()
	}

	// read first for DEBUG:TRUE, which also covers the reuse below
	cfg, _ := rules.Load(rules.LoadOptions{Path: c.args.Conf})
	if cfg.Settings.Debug {
		c.log.SetDebug(true)
	}
	for _, p := range cfg.Problems {
		c.log.Debug("config: %s", p)
	}

	if r, ok := c.store.load(c.call, user); ok {
		c.adoptLoginID(r.Login)
		c.log.Debug("%s: %s login of %s: reusing the decision %s of an earlier phase (%s)",
			c.call.Fn, c.call.Service.S, logging.Quote(user), r.Verdict, r.Source)
		if r.Verdict == rules.Open.String() {
			return protocol.PAMSuccess
		}
		return c.denyCode()
	}

	c.adoptLoginID("")
	if fatal, refused := cfg.Fatal(); refused {
		c.auditEvent(cfg, audit.Event{Kind: audit.ConfigRefused, User: user, Reason: fatal.String()})
	}
	login := rules.Login{Service: c.call.Service.S, User: user, RHost: c.call.RHost.S, Auth: rules.AuthNone,
		RUser: c.call.RUser.S, TTY: c.call.TTY.S}
	if login.IsSSHD() {
		// An sshd login whose first call here is not auth had no PAM
		// authentication: public key, certificate, GSSAPI.
		login.Auth = rules.AuthKey
		if c.call.Fn == protocol.FnAuthenticate {
			login.Auth = rules.AuthPassword
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), decisionTimeout(c.args.Timeout))
	defer cancel()
	guard := newNumberGuard(c.args.RunDir)
	lc := &logind.Client{Debugf: c.log.Debug}
	approved := newApprovals(c.args.RunDir, lc)
	deps := rules.Deps{
		Groups:    nss.Groups{},
		Sessions:  liveSessions{logind: lc, guard: guard},
		Approvals: approved,
	}
	deps.Plugins = &starhost.Plugins{
		Host:     &starhost.Host{Log: c.scriptLog},
		Files:    cfg.Plugins,
		Groups:   deps.Groups,
		Sessions: deps.Sessions,
		Converse: c.converse,
	}
	// NUMBER decisions run one at a time (number.go); the lock is not held
	// while a desktop owner thinks about an ASK.
	numbered := hasNumber(cfg, login)
	unlock := func() {}
	if numbered {
		if unlock, err = guard.lock(ctx); err != nil {
			c.log.Error("%s: %v; denying", c.call.Fn, err)
			return c.denyCode()
		}
	}
	defer func() { unlock() }()
	var d rules.Decision
	if c.log.Debugging() {
		d = rules.Explain(ctx, cfg, login, deps)
		for _, s := range d.Trace {
			if s.Pos.IsZero() {
				c.log.Debug("trace: %s", s.Text)
			} else {
				c.log.Debug("trace: %s: %s", s.Pos, s.Text)
			}
		}
	} else {
		d = rules.Decide(ctx, cfg, login, deps)
	}

	verdict := d.Verdict
	var asked askOutcome
	switch verdict {
	case rules.Ask, rules.Pin, rules.PinGPG:
		// a person answers now: the NUMBER lock is not held meanwhile
		unlock()
		unlock = func() {}
		if verdict == rules.Ask {
			asked = c.ask(cfg, login, d.Reason, lc)
			verdict, d.Reason = asked.verdict, asked.reason
		} else {
			var outcome string
			verdict, outcome = c.pin(cfg, login, verdict == rules.PinGPG)
			d.Reason = d.Reason + "; " + outcome
		}
		if verdict == rules.Open && numbered {
			// the limits may have filled while the person was answering
			verdict, d.Reason, unlock = c.recheckNumber(cfg, login, deps, guard, d.Reason)
		}
	}
	if asked.approved && verdict == rules.Open {
		if err := approved.add(c.call, user, asked.desktopUID); err != nil {
			c.log.Error("remembering the approval: %v (the next login from there is asked again)", err)
		}
	}
	if numbered && verdict == rules.Open {
		if err := guard.add(c.call, user); err != nil {
			// uncounted, this login could let the next one past the limit
			verdict = rules.Close
			d.Reason += fmt.Sprintf("; but it cannot be counted for NUMBER (%v), so it is refused", err)
		}
	}
	c.logDecision(login, d, verdict)
	c.auditEvent(cfg, audit.Event{Kind: audit.Decision, User: user, Auth: string(login.Auth),
		Verdict: verdict.String(), Rule: d.Source(), Reason: d.Reason})
	err = c.store.save(c.call, record{User: user, Service: login.Service, RHost: login.RHost,
		Auth: string(login.Auth), Verdict: verdict.String(), Source: d.Source(), At: time.Now(), Login: c.loginID})
	if err != nil {
		c.log.Error("keeping the decision for later phases: %v (they will decide again)", err)
	}
	if verdict == rules.Open {
		return protocol.PAMSuccess
	}
	c.tellUser()
	return c.denyCode()
}

// recheckNumber runs the NUMBER gate again, under the lock, after the
// desktop owner allowed a login.
func (c *ruleCall) recheckNumber(cfg *rules.Config, login rules.Login, deps rules.Deps, guard *numberGuard,
	reason string) (rules.Verdict, string, func()) {
	ctx, cancel := context.WithTimeout(context.Background(), decisionTimeout(c.args.Timeout))
	defer cancel()
	unlock, err := guard.lock(ctx)
	if err != nil {
		return rules.Close, reason + fmt.Sprintf("; but NUMBER cannot be checked again (%v)", err), func() {}
	}
	d := rules.RecheckNumber(ctx, cfg, login, deps)
	if d.Verdict != rules.Open {
		return rules.Close, reason + "; but meanwhile " + d.Reason, unlock
	}
	return rules.Open, reason, unlock
}

// converse is one message of the PAM conversation, for plugins.
func (c *ruleCall) converse(style int, msg string) (string, error) {
	resp, err := c.conn.Converse([]protocol.ConvMessage{{Style: int32(style), Text: msg}})
	if err != nil {
		return "", err
	}
	return resp[0].S, nil
}

// scriptLog is where a plugin's syslog() and print() go.
func (c *ruleCall) scriptLog(priority int, msg string) {
	if priority <= 3 {
		c.log.Error("plugin: %s", msg)
		return
	}
	c.log.Info("plugin: %s", msg)
}

// user is PAM_USER, asking the application (and so maybe the user) when
// it is not set yet, as in login's auth phase.
func (c *ruleCall) user() (string, error) {
	if c.call.User.Valid && c.call.User.S != "" {
		return c.call.User.S, nil
	}
	u, err := c.conn.GetUser(protocol.Opt{})
	if err == nil && u == "" {
		err = errors.New("empty user name")
	}
	return u, err
}

// denyCode is CLOSE as rules.md says: PAM_AUTH_ERR in auth,
// PAM_PERM_DENIED in account and session.
func (c *ruleCall) denyCode() int32 {
	if c.call.Fn == protocol.FnAuthenticate {
		return protocol.PAMAuthErr
	}
	return protocol.PAMPermDenied
}

// tellUser shows the refusal, unless the application asked for silence.
// Greeters display error messages, so a display manager's user sees why
// the session does not start.
func (c *ruleCall) tellUser() {
	if c.call.Flags&protocol.FlagSilent != 0 {
		return
	}
	_, err := c.conn.Converse([]protocol.ConvMessage{{Style: protocol.ErrorMsg, Text: deniedMessage}})
	if err != nil {
		c.log.Debug("could not show the refusal: %v", err)
	}
}

// logDecision writes the one syslog line of this decision, and the
// original's monthly log line.
func (c *ruleCall) logDecision(login rules.Login, d rules.Decision, verdict rules.Verdict) {
	rhost := login.RHost
	if rhost == "" {
		rhost = "LOCAL"
	}
	c.log.Info("%s: %s for %s from %s (service %s, auth %s, login %s) by %s: %s",
		c.call.Fn, verdict, logging.Quote(login.User), logging.Quote(rhost), logging.Quote(login.Service),
		login.Auth, c.loginID, d.Source(), d.Reason)
	outcome := "access denied"
	if verdict == rules.Open {
		outcome = "access granted"
	}
	kind := verdict.String()
	if d.Rule != nil {
		kind = d.Rule.Option.String()
	}
	err := logging.AppendMonthly(c.args.LogDir, logging.MonthlyEntry{Time: time.Now(), Service: login.Service,
		Kind: kind, User: login.User, RHost: login.RHost, Outcome: outcome})
	if err != nil {
		c.log.Error("monthly log: %v", err)
	}
}
