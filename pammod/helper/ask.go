package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// askOutcome is what the desktop owner's answer makes of an ASK.
type askOutcome struct {
	verdict    rules.Verdict
	reason     string
	desktopUID uint32 // who allowed it, when verdict is Open by approval
	approved   bool
}

// ask puts an ASK login to the owner of the local desktop through their
// notifier. Nobody to ask (no desktop, a greeter or lock screen, no
// notifier, a D-Bus error) means ASK_FALLBACK; a denial, no answer in
// ASK_TIMEOUT, or a process of another user holding the notifier's name
// means CLOSE.
func (c *ruleCall) ask(cfg *rules.Config, login rules.Login, base string, lc *logind.Client) askOutcome {
	fallback := func(why string) askOutcome {
		v := cfg.Settings.AskFallback
		return askOutcome{verdict: v, reason: fmt.Sprintf("%s; %s, so ASK_FALLBACK:%s", base, why, v)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), decisionTimeout(c.args.Timeout))
	defer cancel()
	owner, ok, err := lc.DesktopOwner(ctx)
	if err != nil {
		return fallback(fmt.Sprintf("the local desktop's owner cannot be found (%v)", err))
	}
	if !ok {
		return fallback("nobody is at the local desktop")
	}

	timeout := cfg.Settings.AskTimeout
	c.auditEvent(cfg, audit.Event{Kind: audit.AskQuestion, User: login.User, Reason: "asking " + owner.User})
	// a little longer than the countdown, for the answer to travel, but
	// inside the module's own deadline
	wait := min(timeout+2*time.Second, c.args.Timeout-time.Second)
	askCtx, cancelAsk := context.WithTimeout(context.Background(), wait)
	defer cancelAsk()
	d, err := dbusapi.Ask(askCtx, owner.UID, dbusapi.Request{User: login.User, RHost: login.RHost,
		Service: login.Service, Timeout: uint32(timeout / time.Second)})
	who := logging.Quote(owner.User)
	answer := string(d)
	if err != nil {
		answer = "no answer: " + err.Error()
	}
	c.auditEvent(cfg, audit.Event{Kind: audit.AskAnswer, User: login.User, Verdict: answer, Reason: "asked " + owner.User})
	switch {
	case errors.Is(err, dbusapi.ErrWrongOwner):
		// someone else holds the owner's notifier name: an attack, not
		// an absence, so never ASK_FALLBACK:OPEN
		return askOutcome{verdict: rules.Close, reason: fmt.Sprintf("%s; %s cannot be asked (%v)", base, who, err)}
	case err != nil:
		return fallback(fmt.Sprintf("%s cannot be asked (%v)", who, err))
	case d == dbusapi.Allow:
		return askOutcome{verdict: rules.Open, reason: base + "; allowed by the desktop owner " + who,
			desktopUID: owner.UID, approved: true}
	case d == dbusapi.Deny:
		return askOutcome{verdict: rules.Close, reason: base + "; denied by the desktop owner " + who}
	}
	return askOutcome{verdict: rules.Close, reason: fmt.Sprintf("%s; the desktop owner %s did not answer in %v", base, who, timeout)}
}

// informClosed tells the desktop owner who approved a login that the last
// approved session of that user from that host has ended.
func (c *ruleCall) informClosed(ap approval) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := dbusapi.Inform(ctx, ap.DesktopUID, dbusapi.Event{Kind: dbusapi.EventClosed, User: ap.User, RHost: ap.RHost, Service: ap.Service})
	if err != nil {
		c.log.Info("close_session: could not tell uid %d that %s from %s logged out: %v",
			ap.DesktopUID, logging.Quote(ap.User), logging.Quote(ap.RHost), err)
		return
	}
	c.log.Info("close_session: told uid %d that %s from %s logged out", ap.DesktopUID, logging.Quote(ap.User), logging.Quote(ap.RHost))
}
