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

// OPA asks Open Policy Agent about a login that an OPA rule names: the
// port whose adapter is rules/opa (the display, pull and authz cycles,
// OPA_FALLBACK and the offline cache). It answers with an option that joins the decision order
// as a rule of that option would. An error is not OPA's failure (that is
// OPA_FALLBACK's, inside the answer) but one that refuses the login, such
// as an OPA rule with no OPA_URL.
type OPA interface {
	Decide(ctx context.Context, rule *Rule, login Login) (OPAAnswer, error)
}

// OPAAnswer is what an OPA rule contributes to a decision.
type OPAAnswer struct {
	Option Option // OptOpen, OptClose, OptAsk or OptPin
	// Why says where the option came from in one line: OPA's answer, the
	// cached OPEN, or OPA_FALLBACK and the failure.
	Why string
	// Trace is the exchange with OPA for explain and DEBUG (the input sent,
	// secrets masked, and the answer).
	Trace []string
}

// Deps are what a decision needs from outside the config. A nil Groups
// fails any decision that needs group membership; a nil Sessions counts no
// sessions; nil Approvals knows no approvals; nil Plugins makes every
// matching plugin rule fail closed; nil OPA makes every matching OPA rule
// fail closed.
type Deps struct {
	Groups    Groups
	Sessions  Sessions
	Approvals Approvals
	Plugins   Plugins
	OPA       OPA
}
