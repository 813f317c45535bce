package call

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// deniedMessage is what the user sees on CLOSE. It names no rule: the
// reason is in the log, for the admin, not for whoever tries to log in.
const deniedMessage = "Access denied by pam-accesscontrol."

// commit makes the outcome final: the approval and the decision kept for
// later, the log line, the audit event, and the refusal shown.
func (c *call) commit(login rules.Login, o outcome) int32 {
	if o.Verdict.Pending() { // never left pending: nothing opens but OPEN
		o.Verdict, o.Reason = rules.Close, o.Reason+"; left unanswered"
	}
	// an Allow made while a password is checked waits for the check to
	// succeed (confirm); one made later is kept now
	var pending *loginstate.PendingApproval
	confirmed := c.req.Fn != protocol.FnAuthenticate
	if o.approvedBy != nil && o.Verdict == rules.Open {
		pending = &loginstate.PendingApproval{DesktopUID: *o.approvedBy, Grant: o.grant}
		if confirmed {
			c.keepApproval(login, *pending)
			pending = nil
		}
	}
	c.logDecision(login, o)
	c.auditEvent(audit.Event{Kind: audit.Decision, User: login.User, PAMUser: login.PAMUser, Auth: string(login.Auth),
		Verdict: o.Verdict.String(), Rule: o.Source(), Reason: o.Reason})
	c.mark("log")
	// the later phases find it by PAM_USER as given
	err := c.store.SaveDecision(loginstate.Decision{Owner: c.caller, Config: c.cfg.Fingerprint, User: login.User,
		PAMUser: login.PAMUser, Service: login.Service, RHost: login.RHost, Auth: string(login.Auth), Verdict: o.Verdict.String(),
		Source: o.Source(), LoginID: c.loginID, Confirmed: confirmed, Approval: pending})
	if err != nil {
		c.Log.Error("keeping the decision for later phases: %v (they will decide again)", err)
	}
	c.mark("record")
	if o.Verdict == rules.Open {
		return protocol.PAMSuccess
	}
	c.tellUser()
	return c.denyCode()
}

// tellUser shows the refusal, unless the application asked for silence.
// Greeters display error messages, so a display manager's user sees why
// the session does not start.
func (c *call) tellUser() {
	if c.silent() {
		return
	}
	if _, err := c.PAM.Converse(protocol.ErrorMsg, deniedMessage); err != nil {
		c.Log.Debug("could not show the refusal: %v", err)
	}
}

// userText names a login's user in a log line: as NSS names the
// account, and as the application gave it when that differs.
func userText(user, pamUser string) string {
	if pamUser == "" {
		return logging.Quote(user)
	}
	return logging.Quote(user) + " (PAM_USER " + logging.Quote(pamUser) + ")"
}

// logDecision writes the one syslog line of this decision, and the
// original's monthly log line.
func (c *call) logDecision(login rules.Login, o outcome) {
	rhost := login.RHost
	if rhost == "" {
		rhost = "LOCAL"
	}
	fields := logging.Fields{"PAMAC_LOGIN": c.loginID, "PAMAC_VERDICT": o.Verdict.String(), "PAMAC_RULE": o.Source(),
		"PAMAC_USER": login.User, "PAMAC_RHOST": login.RHost, "PAMAC_SERVICE": login.Service,
		"PAMAC_AUTH": string(login.Auth), "PAMAC_FUNCTION": c.req.Fn.String()}
	if login.PAMUser != "" {
		fields["PAMAC_PAM_USER"] = login.PAMUser
	}
	c.Log.Decision(fields, "%s: %s for %s from %s (service %s, auth %s, login %s) by %s: %s",
		c.req.Fn, o.Verdict, userText(login.User, login.PAMUser), logging.Quote(rhost), logging.Quote(login.Service),
		login.Auth, c.loginID, o.Source(), o.Reason)
	outcome := "access denied"
	if o.Verdict == rules.Open {
		outcome = "access granted"
	}
	kind := o.Verdict.String()
	if o.Rule != nil {
		kind = o.Rule.Option.String()
	}
	err := logging.AppendMonthly(c.args.LogDir, logging.MonthlyEntry{Time: c.Now(), Service: login.Service,
		Kind: kind, User: login.User, RHost: login.RHost, Outcome: outcome})
	if err != nil {
		c.Log.Error("monthly log: %v", err)
	}
}
