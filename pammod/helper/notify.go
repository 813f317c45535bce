package main

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/outbox"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// mailSession mails the addresses that mail-notification.conf names for
// this PAM service that a session opened or closed (kind), as the
// original did. The mail goes through the outbox: a slow or dead relay
// never delays the login, and a mail problem is a log line, never a
// refusal.
func (c *ruleCall) mailSession(cfg *rules.Config, kind string) {
	m, err := rules.LoadMailMap(c.args.Conf, rules.MailNotificationFile, false)
	if errors.Is(err, rules.ErrNoMailMap) {
		return
	}
	if err != nil {
		c.log.Error("mail notification: %v; no mail sent", err)
		return
	}
	service := c.call.Service.S
	to := m.Recipients(service)
	if len(to) == 0 {
		return
	}
	relay := mailRelay(cfg, m)
	if relay == "" {
		c.log.Error("mail notification: %s names recipients for %s, but no MAILSERVER is set; no mail sent",
			m.Path, logging.Quote(service))
		return
	}
	body, err := json.Marshal(mail.Notice{Kind: kind, Time: time.Now(), Service: service,
		User: c.call.User.S, RHost: c.call.RHost.S})
	if err != nil {
		c.log.Error("mail notification: %v", err)
		return
	}
	c.send(outbox.Item{Kind: outbox.Mail, Dest: relay, From: cfg.Settings.MailFrom, To: to,
		StartTLS: cfg.Settings.MailStartTLS, CAFile: cfg.Settings.MailCA, Timeout: mailTimeout.Seconds(), Body: body})
}

// mailRelay is MAILSERVER from the main config, or else the SERVER: line
// that the original's man page put in the mail file itself.
func mailRelay(cfg *rules.Config, m *rules.MailMap) string {
	if cfg != nil && cfg.Settings.MailServer != "" {
		return cfg.Settings.MailServer
	}
	return m.Server
}
