package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/outbox"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// loginDataKey keeps the login's correlation id on the PAM handle, for the
// session's close, which may come long after the decision record is gone.
const loginDataKey = "login"

// auditEvent sends one event where the config says: AUDIT_LOG (written
// now), WEBHOOK and SYSLOG_SERVER (through the outbox). The login's
// correlation id, phase and who are filled in.
func (c *ruleCall) auditEvent(cfg *rules.Config, e audit.Event) {
	if cfg == nil {
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
	if e.Kind != audit.Decision { // a decision has its own line (logDecision)
		c.logEvent(e)
	}
	s := cfg.Settings
	if s.AuditLog == "" && s.Webhook == "" && s.SyslogServer == "" {
		return
	}
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if s.AuditLog != "" {
		if err := audit.AppendFile(s.AuditLog, e); err != nil {
			c.log.Error("audit log %s: %v", s.AuditLog, err)
		}
	}
	if s.Webhook != "" {
		if body, err := json.Marshal(e); err != nil {
			c.log.Error("webhook: %v (the event is not sent)", err)
		} else {
			c.send(outbox.Item{Kind: outbox.Webhook, Dest: s.Webhook, KeyFile: s.WebhookKey, Body: body})
		}
	}
	if s.SyslogServer != "" {
		c.send(outbox.Item{Kind: outbox.Syslog, Dest: s.SyslogServer, CAFile: s.SyslogCA,
			CertFile: s.SyslogCert, CertKeyFile: s.SyslogKey,
			Timeout: s.SyslogTimeout.Seconds(), Body: []byte(remotelog.Format(e))})
	}
}

// logEvent is the local syslog line of an event other than a decision,
// whose who and where auditEvent has filled in.
func (c *ruleCall) logEvent(e audit.Event) {
	rhost := e.RHost
	if rhost == "" {
		rhost = "LOCAL"
	}
	line := fmt.Sprintf("%s: %s of %s from %s (service %s, login %s)", c.call.Fn, e.Kind,
		logging.Quote(e.User), logging.Quote(rhost), logging.Quote(e.Service), e.Login)
	if e.Verdict != "" {
		line += ": " + e.Verdict
	}
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	c.log.Info("%s", line)
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
	c.mailSession(cfg, mail.CloseSession)
}

func optString(s string) protocol.Opt { return protocol.Some(s) }
