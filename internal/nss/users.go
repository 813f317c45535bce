//go:build cgo && !osusergo

package nss

import "errors"

// Users implements rules.Users with getpwnam_r: the name NSS gives the
// account a login's user name finds. A case-insensitive NSS (SSSD's AD
// provider, winbind) finds alice's entry for "ALICE", and the rules must
// see "alice".
type Users struct{}

// UserName returns pw_name of the entry getpwnam_r finds for name; found
// is false when NSS has no such user. Any other failure (the directory
// unreachable) is an error.
func (Users) UserName(name string) (string, bool, error) {
	p, err := LookupUser(name, 0, true)
	if errors.Is(err, ErrNoUser) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return p.Name, true, nil
}
