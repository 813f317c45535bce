//go:build !lean

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/mail"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/outbox"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/remotelog"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// Bounds of the deliverer: each attempt (unless the item says otherwise),
// and one whole run, after which what is left waits for the next login.
const (
	deliverTimeout = 5 * time.Second
	deliverRun     = 2 * time.Minute
)

// runDeliver is `--deliver OUTBOX`: send what waits, then exit. One line
// per receiver that failed, and per message dropped.
func runDeliver(args []string) int {
	log := logging.Open()
	defer log.Close()
	if len(args) != 1 {
		return 64
	}
	var syslog remotelog.Sender
	defer syslog.Close()
	send := func(it outbox.Item) error {
		timeout := deliverTimeout
		if it.Timeout > 0 {
			timeout = time.Duration(it.Timeout * float64(time.Second))
		}
		switch it.Kind {
		case outbox.Webhook:
			key, err := readKey(it.KeyFile)
			if err != nil {
				return err
			}
			return webhook.Post(it.Dest, key, it.Body, timeout)
		case outbox.Syslog:
			if err := call.CheckSettingFiles("SYSLOG_CA", it.CAFile, "SYSLOG_CERT", it.CertFile, "SYSLOG_KEY", it.CertKeyFile); err != nil {
				return err
			}
			return syslog.Send(it.Dest, remotelog.Options{CAFile: it.CAFile, CertFile: it.CertFile, KeyFile: it.CertKeyFile,
				Timeout: timeout}, string(it.Body))
		case outbox.Mail:
			var n mail.Notice
			if err := json.Unmarshal(it.Body, &n); err != nil {
				return err
			}
			if err := call.CheckSettingFiles("MAIL_CA", it.CAFile); err != nil {
				return err
			}
			return mail.Send(it.Dest, mail.Options{From: it.From, StartTLS: it.StartTLS, CAFile: it.CAFile, Timeout: timeout}, it.To, n)
		}
		return fmt.Errorf("unknown kind of message %q", it.Kind)
	}
	rep, err := outbox.Deliver(args[0], send, time.Now().Add(deliverRun))
	if errors.Is(err, outbox.ErrBusy) || errors.Is(err, fs.ErrNotExist) {
		return 0 // another deliverer is at it; nothing was ever put
	}
	if err != nil {
		log.Error("deliverer: %v", err)
		return 1
	}
	for receiver, err := range rep.Failed {
		log.Error("%s: %v (kept for the next try)", receiver, err)
	}
	for _, why := range rep.Dropped {
		log.Error("deliverer: dropped a message: %s", why)
	}
	if len(rep.Failed) > 0 {
		return 1
	}
	return 0
}

// readKey reads a webhook's HMAC key, which must be root's alone.
func readKey(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	// whoever reads the key can sign events the receiver believes
	data, err := trust.ReadFile(path, rules.MaxFileSize, trust.Private)
	if err != nil {
		return nil, fmt.Errorf("WEBHOOK_SECRET: %w", err)
	}
	return []byte(strings.TrimSpace(string(data))), nil
}
