package call

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail/notice"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/outbox"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/rfc5424"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// OutboxDir is the outbox under a spool directory.
func OutboxDir(spool string) string { return filepath.Join(spool, "outbox") }

// auditEvent sends one event where the config says: AUDIT_LOG (written
// now), WEBHOOK and SYSLOG_SERVER (through the outbox). The login's
// correlation id, phase and who are filled in.
func (c *call) auditEvent(e audit.Event) {
	if c.cfg == nil {
		return
	}
	e.Time = c.Now()
	e.Login = c.loginID
	e.Phase = c.req.Fn.String()
	e.PID = int(c.req.PID)
	if e.Service == "" {
		e.Service = c.req.Service.S
	}
	if e.User == "" {
		e.User = c.req.User.S
		if c.account != "" {
			e.User = c.account
		}
	}
	if e.PAMUser == "" && c.pamUser != "" && e.User == c.account {
		e.PAMUser = c.pamUser
	}
	if e.RHost == "" {
		e.RHost = c.req.RHost.S
	}
	switch e.Kind {
	case audit.Decision: // its own line (logDecision)
	case audit.OPAFallback, audit.OPACache: // rules/opa's own line says it
	default:
		c.logEvent(e)
	}
	s := c.cfg.Settings
	if s.AuditLog == "" && s.Webhook == "" && s.SyslogServer == "" {
		return
	}
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	if s.AuditLog != "" {
		if err := audit.AppendFile(s.AuditLog, e); err != nil {
			c.Log.Error("audit log %s: %v", s.AuditLog, err)
		}
	}
	if s.Webhook != "" {
		if body, err := json.Marshal(e); err != nil {
			c.Log.Error("webhook: %v (the event is not sent)", err)
		} else {
			c.send(outbox.Item{Kind: outbox.Webhook, Dest: s.Webhook, KeyFile: s.WebhookKey, Body: body})
		}
	}
	if s.SyslogServer != "" {
		c.send(outbox.Item{Kind: outbox.Syslog, Dest: s.SyslogServer, CAFile: s.SyslogCA,
			CertFile: s.SyslogCert, CertKeyFile: s.SyslogKey,
			Timeout: s.SyslogTimeout.Seconds(), Body: []byte(rfc5424.Format(e))})
	}
}

// logEvent is the local syslog line of an event other than a decision.
func (c *call) logEvent(e audit.Event) {
	rhost := e.RHost
	if rhost == "" {
		rhost = "LOCAL"
	}
	line := fmt.Sprintf("%s: %s of %s from %s (service %s, login %s)", c.req.Fn, e.Kind,
		userText(e.User, e.PAMUser), logging.Quote(rhost), logging.Quote(e.Service), e.Login)
	if e.Verdict != "" {
		line += ": " + e.Verdict
	}
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	c.Log.Info("%s", line)
}

// send puts a message for a remote receiver in the outbox; a deliverer
// sends it once the module has its answer.
func (c *call) send(it outbox.Item) {
	dir := OutboxDir(c.args.Spool)
	if err := outbox.Put(dir, it); err != nil {
		c.Log.Error("%s to %s: %v (not sent)", it.Kind, it.Dest, err)
		return
	}
	c.outbox = dir
}

// mailSession mails the addresses that mail-notification.conf names for
// this PAM service that a session opened or closed (kind), as the original
// did. Through the outbox: a slow or dead relay never delays the login,
// and a mail problem is a log line, never a refusal.
func (c *call) mailSession(kind string) {
	m, err := rules.LoadMailMap(c.args.Conf, rules.MailNotificationFile, c.args.insecureSkipOwnerCheck)
	if errors.Is(err, rules.ErrNoMailMap) {
		return
	}
	if err != nil {
		c.Log.Error("mail notification: %v; no mail sent", err)
		return
	}
	service := c.req.Service.S
	to := m.Recipients(service)
	if len(to) == 0 {
		return
	}
	relay := mailRelay(c.cfg, m)
	if relay == "" {
		c.Log.Error("mail notification: %s names recipients for %s, but no MAILSERVER is set; no mail sent",
			m.Path, logging.Quote(service))
		return
	}
	body, err := json.Marshal(notice.Notice{Kind: kind, Time: c.Now(), Service: service,
		User: c.req.User.S, RHost: c.req.RHost.S})
	if err != nil {
		c.Log.Error("mail notification: %v", err)
		return
	}
	s := c.cfg.Settings
	c.send(outbox.Item{Kind: outbox.Mail, Dest: relay, From: s.MailFrom, To: to,
		StartTLS: s.MailStartTLS, CAFile: s.MailCA, Timeout: MailTimeout.Seconds(), Body: body})
}
