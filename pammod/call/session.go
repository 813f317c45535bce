package call

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
)

// openSession audits a session the rules let open, and mails about it.
func (c *call) openSession() {
	c.store.MoveApprovals(c.caller) // this process holds the login now
	c.auditEvent(audit.Event{Kind: audit.SessionOpen})
	c.mailSession(notice.NewSession)
}

// closeSession audits the end of a session and forgets its login: its
// decision, its place under NUMBER, and its approval, telling the desktop
// owner when it was the last approved session of that user from that host.
func (c *call) closeSession() {
	c.loadConfig()
	if err := c.openState(); err != nil {
		c.Log.Error("close_session: %v; nothing of this login is forgotten", err)
		c.setLoginID("")
		c.auditEvent(audit.Event{Kind: audit.SessionClose})
		c.mailSession(notice.CloseSession)
		return
	}
	id, _ := c.PAM.LoginID()
	if id == "" {
		if d, ok := c.store.FindDecision(loginstate.Query{Caller: c.caller, Config: c.cfg.Fingerprint, User: c.req.User.S,
			Service: c.req.Service.S, RHost: c.req.RHost.S}); ok {
			id = d.LoginID
		}
	}
	c.setLoginID(id)
	c.auditEvent(audit.Event{Kind: audit.SessionClose})
	c.mailSession(notice.CloseSession)
	c.store.ForgetDecision(c.caller)
	c.store.RemovePending(c.caller)
	if ap, last := c.store.ReleaseApproval(c.caller); last {
		c.informClosed(ap)
	}
}
