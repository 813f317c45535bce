package main

import (
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// loginDataKey keeps the login's correlation id on the PAM handle, for the
// session's close, which may come long after the decision record is gone.
const loginDataKey = "login"

// auditEvent writes one event to AUDIT_LOG, when the config names one.
// The login's correlation id, phase and who are filled in.
func (c *ruleCall) auditEvent(cfg *rules.Config, e audit.Event) {
	if cfg == nil || (cfg.Settings.AuditLog == "" && cfg.Settings.Webhook == "") {
		return
	}
	e.Time = time.Now()
	e.Login = c.loginID
	e.Phase = c.call.Fn.String()
	e.PID = int(c.call.PID)
	if e.Service == "" {
		e.Service = c.call.Service.S
	}
	if e.User == "" {
		e.User = c.call.User.S
	}
	if e.RHost == "" {
		e.RHost = c.call.RHost.S
	}
	if cfg.Settings.AuditLog != "" {
		if err := audit.AppendFile(cfg.Settings.AuditLog, e); err != nil {
			c.log.Error("audit log %s: %v", cfg.Settings.AuditLog, err)
		}
	}
	if cfg.Settings.Webhook != "" {
		c.queueWebhook(cfg, e)
	}
}

// adoptLoginID takes the login's correlation id from an earlier phase (the
// decision record, or this handle's data), or makes one, and keeps it on
// this handle.
func (c *ruleCall) adoptLoginID(fromRecord string) {
	switch {
	case fromRecord != "":
		c.loginID = fromRecord
	default:
		if v, err := c.conn.GetData(loginDataKey); err == nil && v.Valid {
			c.loginID = v.S
		} else {
			c.loginID = audit.NewLoginID()
		}
	}
	if err := c.conn.SetData(loginDataKey, optString(c.loginID)); err != nil {
		c.log.Debug("keeping the login id on the handle: %v", err)
	}
}

// closeSession audits the end of a session.
func (c *ruleCall) closeSession() {
	cfg, _ := rules.Load(rules.LoadOptions{Path: c.args.Conf})
	if r, ok := c.store.load(c.call, c.call.User.S); ok {
		c.adoptLoginID(r.Login)
	} else {
		c.adoptLoginID("")
	}
	c.auditEvent(cfg, audit.Event{Kind: audit.SessionClose})
}

func optString(s string) protocol.Opt { return protocol.Some(s) }
