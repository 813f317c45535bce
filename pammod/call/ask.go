package call

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/audit"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// ask puts an ASK login to the owner of the local desktop. Nobody to ask
// before the question goes out (no desktop, a greeter or lock screen, no
// notifier, no bus) means ASK_FALLBACK. Once it went out to the verified
// owner, only their Allow opens: a denial, their countdown, a crash, no
// reply, a garbled one or our own deadline all close, whatever the
// fallback, and so does someone else holding the notifier's name.
func (c *call) ask(login rules.Login, d rules.Decision) outcome {
	base := d.Reason
	closed := func(why string) outcome {
		d.Verdict, d.Reason = rules.Close, base+"; "+why
		return outcome{Decision: d}
	}
	fallback := func(why string) outcome {
		v := c.cfg.Settings.AskFallback
		d.Verdict, d.Reason = v, fmt.Sprintf("%s; %s, so ASK_FALLBACK:%s", base, why, v)
		return outcome{Decision: d}
	}
	if c.Asker == nil {
		return fallback("no desktop can be reached from here")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	owner, ok, err := c.Asker.DesktopOwner(ctx)
	if err != nil {
		return fallback(fmt.Sprintf("the local desktop's owner cannot be found (%v)", err))
	}
	if !ok {
		why := "nobody is at the local desktop"
		if owner.Absent != "" {
			why += ": " + owner.Absent
		}
		return fallback(why)
	}

	who := logging.Quote(owner.User)
	remember := c.cfg.Settings.AskRemember
	if net.ParseIP(login.RHost) == nil {
		// a grant is for one host, by its address: a name is what its
		// reverse DNS says, which whoever owns the address may choose
		remember = 0
	}
	if g, ok := c.store.Granted(owner.UID, login.User, login.RHost, remember); ok {
		until := g.Until.Format("2006-01-02 15:04")
		c.auditEvent(audit.Event{Kind: audit.AskGranted, User: login.User, Verdict: rules.Open.String(),
			Reason: fmt.Sprintf("allowed by %s for this host until %s", owner.User, until)})
		d.Verdict, d.Reason = rules.Open, fmt.Sprintf("%s; allowed by the desktop owner %s for this host until %s (ASK_REMEMBER)", base, who, until)
		uid := owner.UID
		return outcome{Decision: d, approvedBy: &uid}
	}

	timeout := c.cfg.Settings.AskTimeout
	c.auditEvent(audit.Event{Kind: audit.AskQuestion, User: login.User, Reason: "asking " + owner.User})
	// a little longer than the countdown, for the answer to travel, but
	// inside the module's own deadline
	wait := min(timeout+2*time.Second, c.args.Timeout-time.Second)
	askCtx, cancelAsk := context.WithTimeout(context.Background(), wait)
	defer cancelAsk()
	answer, err := c.Asker.Ask(askCtx, owner, dbusapi.Request{User: login.User, RHost: login.RHost,
		Service: login.Service, Timeout: uint32(timeout / time.Second), Remember: uint32(remember / time.Hour)})
	said := string(answer)
	if err != nil {
		said = "no answer: " + err.Error()
	}
	c.auditEvent(audit.Event{Kind: audit.AskAnswer, User: login.User, Verdict: said, Reason: "asked " + owner.User})
	switch {
	case errors.Is(err, dbusapi.ErrWrongOwner):
		// an attack, not an absence: never ASK_FALLBACK:OPEN
		return closed(fmt.Sprintf("%s cannot be asked (%v)", who, err))
	case errors.Is(err, dbusapi.ErrUnanswered):
		return closed(fmt.Sprintf("%s gave no answer: %v", who, err))
	case err != nil:
		return fallback(fmt.Sprintf("%s cannot be asked (%v)", who, err))
	case answer == dbusapi.Allow:
		d.Verdict, d.Reason = rules.Open, base+"; allowed by the desktop owner "+who
		uid := owner.UID
		return outcome{Decision: d, approvedBy: &uid}
	case answer == dbusapi.AllowRemember && remember > 0:
		d.Verdict, d.Reason = rules.Open, fmt.Sprintf("%s; allowed by the desktop owner %s, and this host for %d h", base, who, int(remember.Hours()))
		uid := owner.UID
		g := loginstate.Grant{OwnerUID: owner.UID, OwnerName: owner.User, User: login.User, RHost: login.RHost,
			Until: c.Now().Add(remember), LoginID: c.loginID}
		return outcome{Decision: d, approvedBy: &uid, grant: &g}
	case answer == dbusapi.Deny:
		return closed("denied by the desktop owner " + who)
	}
	return closed(fmt.Sprintf("the desktop owner %s did not answer in %v", who, timeout))
}

// keepApproval keeps the desktop owner's Allow of login, once its
// authentication succeeded: the approval, so that the same user from the
// same host is not asked again while this login lives, and the owner's
// "allow this host for hours" (ASK_REMEMBER). One that cannot be kept costs
// the next login a question, not this one its answer.
func (c *call) keepApproval(login rules.Login, a loginstate.PendingApproval) {
	err := c.store.AddApproval(loginstate.Approval{Owner: c.caller, User: login.User, RHost: login.RHost,
		Service: login.Service, DesktopUID: a.DesktopUID})
	if err != nil {
		c.Log.Error("remembering the approval: %v (the next login from there is asked again)", err)
	}
	g := a.Grant
	if g == nil {
		return
	}
	if err := c.store.AddGrant(*g); err != nil {
		c.Log.Error("keeping the desktop owner's grant for %s from %s: %v (the next login is asked)", logging.Quote(login.User), logging.Quote(login.RHost), err)
		return
	}
	c.auditEvent(audit.Event{Kind: audit.AskGrant, User: login.User, Verdict: rules.Open.String(),
		Reason: fmt.Sprintf("%s allowed this host for %d h, until %s", g.OwnerName, int(g.Until.Sub(c.Now()).Round(time.Hour).Hours()), g.Until.Format("2006-01-02 15:04"))})
}

// dropApproval forgets the desktop owner's Allow that an unconfirmed
// decision holds: its authentication failed, and the login that gets in
// now (by key) is not the one they allowed.
func (c *call) dropApproval(d loginstate.Decision) {
	if d.Approval == nil {
		return
	}
	c.Log.Info("%s: the desktop owner's Allow for %s from %s is not kept: the authentication it was given in did not succeed",
		c.req.Fn, logging.Quote(d.User), logging.Quote(d.RHost))
}

// informClosed tells the desktop owner who approved a login that the last
// approved session of that user from that host has ended.
func (c *call) informClosed(ap loginstate.Approval) {
	if c.Asker == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := c.Asker.Inform(ctx, ap.DesktopUID, dbusapi.Event{Kind: dbusapi.EventClosed, User: ap.User, RHost: ap.RHost, Service: ap.Service})
	if err != nil {
		c.Log.Info("close_session: could not tell uid %d that %s from %s logged out: %v",
			ap.DesktopUID, logging.Quote(ap.User), logging.Quote(ap.RHost), err)
		return
	}
	c.Log.Info("close_session: told uid %d that %s from %s logged out", ap.DesktopUID, logging.Quote(ap.User), logging.Quote(ap.RHost))
}
