package call

import (
	"context"
	"fmt"
	"slices"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// complete finishes what the rules left to a person, then counts a login
// let in under a NUMBER limit. The NUMBER lock is held only while counting
// and recording: never while someone types or thinks.
func (c *call) complete(login rules.Login, d rules.Decision) outcome {
	o := outcome{Decision: d}
	if d.Verdict == rules.Token {
		t := c.checkToken(login)
		if !t.ok {
			o.Verdict, o.Reason, o.tokenRefused = rules.Close, d.Reason+"; "+t.why, t.refused
			return o
		}
		d.Verdict, d.Reason = d.Then, d.Reason+"; "+t.why
		o.Decision = d
	}
	switch d.Verdict {
	case rules.Ask:
		o = c.ask(login, d)
	case rules.Pin, rules.PinGPG:
		v, what := c.pin(login, d.Verdict == rules.PinGPG)
		o.Verdict, o.Reason = v, d.Reason+"; "+what
	}
	if o.Verdict == rules.Open && rules.NumberApplies(c.cfg, login) {
		o.Verdict, o.Reason = c.admit(login, o.Reason)
	}
	return o
}

// admit counts the login under the NUMBER lock and records it as pending
// until logind lists its session, so that concurrent logins cannot all see
// the same free place.
func (c *call) admit(login rules.Login, reason string) (rules.Verdict, string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.decisionTimeout())
	defer cancel()
	unlock, err := c.store.LockNumber(ctx)
	if err != nil {
		return rules.Close, reason + fmt.Sprintf("; but NUMBER cannot be counted (%v)", err)
	}
	defer unlock()
	d := rules.RecheckNumber(ctx, c.cfg, login, c.rulesDeps())
	if d.Verdict != rules.Open {
		return rules.Close, reason + "; but meanwhile " + d.Reason
	}
	err = c.store.AddPending(loginstate.Pending{Owner: c.caller, User: login.User, Service: login.Service})
	if err != nil {
		// uncounted, this login could let the next one past the limit
		return rules.Close, reason + fmt.Sprintf("; but it cannot be counted for NUMBER (%v), so it is refused", err)
	}
	return rules.Open, reason
}

// liveSessions is rules.Sessions for NUMBER: logind's sessions and the
// logins let in that logind does not list yet.
type liveSessions struct{ c *call }

func (s liveSessions) Sessions(ctx context.Context) ([]rules.Session, error) {
	if s.c.Sessions == nil {
		return nil, fmt.Errorf("no session source")
	}
	live, err := s.c.Sessions.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := s.c.store.PendingUsers(func(user string) bool {
		return slices.ContainsFunc(live, func(x rules.Session) bool { return x.Live() && x.User == user })
	})
	if err != nil {
		return nil, fmt.Errorf("pending logins: %w", err)
	}
	for _, p := range pending {
		live = append(live, rules.Session{User: p.User, Service: p.Service, Class: "user", State: "pending"})
	}
	return live, nil
}

// approvals is rules.Approvals: an approval counts while its own login
// lives, and logind lists its sshd session.
type approvals struct{ c *call }

func (a approvals) Approved(ctx context.Context, user, rhost string) (bool, error) {
	return a.c.store.Approved(user, rhost, a.c.alive, func() (bool, error) {
		if a.c.Sessions == nil {
			return false, nil
		}
		live, err := a.c.Sessions.Sessions(ctx)
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(live, func(s rules.Session) bool {
			return s.Live() && s.User == user && s.RHost == rhost && s.Service == "sshd"
		}), nil
	})
}

// alive says whether a login's process still runs; without a way to tell,
// none does.
func (c *call) alive(p loginstate.Process) bool { return c.Alive != nil && c.Alive(p) }
