package loginstate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DecisionTTL bounds how long the decision of one phase of a login serves
// its later phases. They follow within seconds (sshd's LoginGraceTime is
// two minutes); a stale record must never decide.
const DecisionTTL = 10 * time.Minute

// Decision is one login's decision, kept for its later phases.
type Decision struct {
	Owner   Login     `json:"owner"`
	Config  string    `json:"config"`             // the fingerprint of the config it was decided under
	User    string    `json:"user"`               // as NSS names the account (rules.ResolveUser)
	PAMUser string    `json:"pam_user,omitempty"` // PAM_USER as given, when NSS names the account otherwise: the later phases know the login by it
	Service string    `json:"service"`
	RHost   string    `json:"rhost"`
	Auth    string    `json:"auth"`
	Verdict string    `json:"verdict"`
	Source  string    `json:"source"`
	LoginID string    `json:"login"` // the correlation id of the audit trail, also kept on the PAM handle
	At      time.Time `json:"at"`
	// Confirmed: the login's authentication is known to have succeeded.
	// A decision made in an auth phase is not, when made: the password may
	// be wrong, and sshd then lets the same handle log in by key. A later
	// phase takes it only once the application's pam_authenticate is known
	// to have succeeded (pammod/call), and then keeps it confirmed.
	Confirmed bool `json:"confirmed,omitempty"`
	// Approval is the desktop owner's Allow of an ASK made in an auth
	// phase: recorded (AddApproval, AddGrant) once the authentication is
	// confirmed, never when it failed.
	Approval *PendingApproval `json:"approval,omitempty"`
}

// PendingApproval is an Allow waiting for its login's authentication.
type PendingApproval struct {
	DesktopUID uint32 `json:"desktop_uid"`
	Grant      *Grant `json:"grant,omitempty"` // ASK_REMEMBER's "allow this host for hours"
}

// Query is what a later phase knows of its login, to find its decision.
type Query struct {
	Caller  Login
	Config  string // the fingerprint of the config loaded now
	User    string // PAM_USER as given
	Service string
	RHost   string
	// HandleID is the correlation id this helper left on the PAM handle in
	// an earlier phase ("" when the handle has none). A process that runs
	// the phase itself, or got the handle from the process that decided,
	// holds the id; a new handle at a reused address does not.
	HandleID string
	// HandleIDOf, when set, gives HandleID instead: asked once, and only
	// when a record of the caller's login is there. Reading the handle
	// costs the module a round trip, which a login's first phase, with no
	// record yet, is spared.
	HandleIDOf func() string
}

// SaveDecision keeps d for the later phases of d.Owner's login: filed under
// the owner and under its parent, where a phase run by either finds it.
func (s *Store) SaveDecision(d Decision) error {
	dir, err := s.sub(decisionsDir)
	if err != nil {
		return err
	}
	s.prune(dir, DecisionTTL)
	d.At = s.now()
	var parent []string
	if d.Owner.Parent.Known() {
		parent = append(parent, d.Owner.key(d.Owner.Parent))
	}
	return s.write(dir, d.Owner.key(d.Owner.Self), d, d.At, parent...)
}

// FindDecision returns the decision that serves q: written by q's login
// (Login.Serves), under the same config, for the same user, service and
// remote host, within DecisionTTL, and held on the handle when the handle
// came from the writer.
func (s *Store) FindDecision(q Query) (Decision, bool) {
	dir := filepath.Join(s.dir, decisionsDir)
	for _, p := range []Process{q.Caller.Self, q.Caller.Parent} {
		if !p.Known() {
			continue
		}
		var d Decision
		if read(dir, q.Caller.key(p), &d) != nil || !d.Owner.Serves(q.Caller) {
			continue
		}
		if q.HandleIDOf != nil {
			q.HandleID, q.HandleIDOf = q.HandleIDOf(), nil
		}
		if s.serves(d, q) {
			return d, true
		}
	}
	return Decision{}, false
}

func (s *Store) serves(d Decision, q Query) bool {
	if !d.Owner.Serves(q.Caller) || !s.fresh(d.At, DecisionTTL) || d.Config == "" || d.Config != q.Config ||
		d.asGiven() != q.User || d.Service != q.Service || d.RHost != q.RHost {
		return false
	}
	return handleMatches(d.Owner, q.Caller, d.LoginID, q.HandleID)
}

// asGiven is the decided login's PAM_USER.
func (d Decision) asGiven() string {
	if d.PAMUser != "" {
		return d.PAMUser
	}
	return d.User
}

// handleMatches says whether the id on the caller's PAM handle fits a
// record of owner's with id recordID. A process that wrote the record, or
// a child it forked after that, holds the id on its handle; only a parent
// whose child wrote it lacks it. A new handle at a freed address holds none.
func handleMatches(owner, caller Login, recordID, handleID string) bool {
	parentOfOwner := owner.Self != caller.Self && owner.Parent == caller.Self
	if parentOfOwner {
		return handleID == "" || handleID == recordID
	}
	return handleID != "" && handleID == recordID
}

// ForgetDecision removes the decisions that serve caller: its session closed.
func (s *Store) ForgetDecision(caller Login) {
	dir := filepath.Join(s.dir, decisionsDir)
	for _, p := range []Process{caller.Self, caller.Parent} {
		if !p.Known() {
			continue
		}
		name := caller.key(p)
		var d Decision
		err := read(dir, name, &d)
		if err == nil && d.Owner.Serves(caller) || err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(dir, name))
		}
	}
}
