//go:build !lean

package main

import (
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// The full helper (pam-accesscontrol-helper-full) runs everything: the
// calls the lean helper hands it, the daemon, the deliverer.

// command runs `--deliver OUTBOX` and `--daemon [--socket PATH]`.
func command(args []string) int {
	if args[0] == "--deliver" {
		return runDeliver(args[1:])
	}
	return runDaemon(args)
}

// ownCall: the full helper runs every call it is given, and loads its
// config itself.
func ownCall(*logging.Logger) (*rules.Config, bool) { return nil, true }

// pinSender mails the PINs of PIN and PINGPG rules.
func pinSender(args moduleArgs, log *logging.Logger) call.PINSender {
	return call.MailPINs{Conf: args.Conf, Debug: log.Debug}
}
