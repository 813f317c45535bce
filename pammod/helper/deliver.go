package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/webhook"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// deliverTimeout bounds each POST of the deliverer.
const deliverTimeout = 5 * time.Second

// delivery is the webhook work a call leaves for after its result.
type delivery struct {
	spool, url, keyFile string
}

func spoolDir(runDir string) string { return filepath.Join(runDir, "webhook") }

// queueWebhook spools an event; the deliverer sends it once the login has
// its answer.
func (c *ruleCall) queueWebhook(cfg *rules.Config, e audit.Event) {
	if e.Host == "" {
		e.Host, _ = os.Hostname()
	}
	body, err := json.Marshal(e)
	if err == nil {
		err = webhook.Enqueue(spoolDir(c.args.RunDir), body)
	}
	if err != nil {
		c.log.Error("webhook: %v (the event is not sent)", err)
		return
	}
	c.after = &delivery{spool: spoolDir(c.args.RunDir), url: cfg.Settings.Webhook, keyFile: cfg.Settings.WebhookKey}
}

// start runs the deliverer as its own process, in its own session, with
// nothing of the helper's: the helper exits at once and the module does
// not wait for the network.
func (d *delivery) start(log *logging.Logger) {
	self, err := os.Executable()
	if err != nil {
		log.Error("webhook: %v", err)
		return
	}
	cmd := exec.Command(self, "--deliver", d.spool, d.url, d.keyFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	if err := cmd.Start(); err != nil {
		log.Error("webhook: starting the deliverer: %v", err)
		return
	}
	cmd.Process.Release()
}

// runDeliver is `--deliver SPOOL URL KEYFILE`: send what waits, then exit.
func runDeliver(args []string) int {
	log := logging.Open()
	defer log.Close()
	if len(args) != 3 {
		return 64
	}
	spool, url, keyFile := args[0], args[1], args[2]
	var key []byte
	if keyFile != "" {
		if err := rules.CheckTrusted(keyFile); err != nil {
			log.Error("webhook: key %v; not sending", err)
			return 1
		}
		data, err := os.ReadFile(keyFile)
		if err != nil {
			log.Error("webhook: key: %v; not sending", err)
			return 1
		}
		key = []byte(strings.TrimSpace(string(data)))
	}
	if _, err := webhook.Deliver(spool, url, key, deliverTimeout); err != nil {
		log.Error("webhook %s: %v (kept for the next login)", url, err)
		return 1
	}
	return 0
}
