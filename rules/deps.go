package rules

import (
	"context"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/session"
)

// Groups resolves a user's groups. The product's implementation asks NSS
// (internal/nss), so LDAP, SSSD and AD groups count; tests use a map.
type Groups interface {
	// UserGroups returns the names of all groups of user, the primary group
	// included. An unknown user is an error: a decision that needs the
	// groups of someone NSS cannot find is denied.
	UserGroups(user string) ([]string, error)
}

// Session is one live login session, as systemd-logind lists it.
type Session = session.Session

// Sessions lists live sessions. The product asks systemd-logind; explain
// reads a JSON file; tests use a slice.
type Sessions interface {
	Sessions(ctx context.Context) ([]Session, error)
}

// Approvals knows which SSH logins the desktop owner already approved.
type Approvals interface {
	// Approved reports whether user has a live, approved sshd session from
	// rhost, so that a new one is let in without asking again.
	Approved(ctx context.Context, user, rhost string) (bool, error)
}

// Answer is a plugin's opinion on a login.
type Answer int

const (
	NoOpinion Answer = iota // None
	AnswerOpen
	AnswerClose
	AnswerAsk
)

func (a Answer) String() string {
	switch a {
	case AnswerOpen:
		return "OPEN"
	case AnswerClose:
		return "CLOSE"
	case AnswerAsk:
		return "ASK"
	}
	return "None"
}

// Plugins runs rule plugins (plugins/<name>.star's decide(ctx)).
type Plugins interface {
	Decide(ctx context.Context, rule *Rule, login Login) (Answer, error)
}

// Deps are what a decision needs from outside the config. A nil Groups
// fails any decision that needs group membership; a nil Sessions counts no
// sessions; nil Approvals knows no approvals; nil Plugins makes every
// matching plugin rule fail closed.
type Deps struct {
	Groups    Groups
	Sessions  Sessions
	Approvals Approvals
	Plugins   Plugins
}
