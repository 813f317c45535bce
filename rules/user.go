package rules

import (
	"errors"
	"fmt"
)

// Users finds the account a login's user name names. The product asks
// NSS (internal/nss: getpwnam_r), so a rule sees the account's own name
// however the client spelt it: with a case-insensitive NSS (SSSD's AD
// provider, winbind) `ssh ALICE@host` logs in as alice, and must not
// dodge `SSHD CLOSE USER alice`.
type Users interface {
	// UserName returns the name NSS gives the account that name resolves
	// to (pw_name); found false when NSS knows no such user. An error is
	// NSS failing, not a missing user.
	UserName(name string) (pwName string, found bool, err error)
}

// ResolveUser names the login's user as NSS does: User becomes pw_name,
// and PAMUser keeps the name as the application gave it (PAM_USER) when
// it differs. A user NSS does not know keeps the name as given, so that
// `CLOSE USER bob` still closes an unknown bob. NSS failing is an error:
// the login is denied.
func ResolveUser(users Users, l Login) (Login, error) {
	if users == nil {
		return l, errors.New("no user source to look the user up in")
	}
	l.PAMUser = ""
	name, found, err := users.UserName(l.User)
	switch {
	case err != nil:
		return l, fmt.Errorf("looking up user %s in NSS: %w", quote(l.User), err)
	case !found:
		return l, nil
	case name == "":
		return l, fmt.Errorf("NSS gives user %s an empty name", quote(l.User))
	case name != l.User:
		l.PAMUser, l.User = l.User, name
	}
	return l, nil
}

// AsGiven is the user's name as the application gave it (PAM_USER).
func (l Login) AsGiven() string {
	if l.PAMUser != "" {
		return l.PAMUser
	}
	return l.User
}

// userMatches reports whether name, an entry of a USER rule of option
// opt, names the login's user, and by which name. Every rule matches the
// name NSS gives the account, so that what the client typed cannot change
// which OPEN, ASK or PIN applies; a CLOSE rule also matches the name as
// given, since a CLOSE that matches more keeps more out and lets no one in.
func (l Login) userMatches(opt Option, name string) bool {
	return name == l.User || opt == OptClose && l.PAMUser != "" && name == l.PAMUser
}

// describeUser names the login's user for a trace or a reason: the NSS
// name, and the name as given when it differs.
func (l Login) describeUser() string {
	if l.PAMUser != "" {
		return quote(l.User) + " (PAM_USER " + quote(l.PAMUser) + ")"
	}
	return quote(l.User)
}
