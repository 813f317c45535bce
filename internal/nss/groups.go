//go:build cgo && !osusergo

// Package nss resolves users and groups through the C library's Name
// Service Switch, so that LDAP, SSSD, FreeIPA and AD accounts count exactly
// as they do for the login itself. It must be built with cgo: Go's pure
// fallback parses /etc/group and would miss every network group (see
// nocgo.go, which refuses to build).
package nss

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
)

// Groups implements rules.Groups with getpwnam_r and getgrouplist.
type Groups struct{}

// UserGroups returns the names of all groups of name, its primary group
// first. A gid with no group entry has no name a rule could use, so it is
// left out.
func (Groups) UserGroups(name string) ([]string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("no such user in NSS")
		}
		return nil, fmt.Errorf("NSS user lookup: %w", err)
	}
	gids, err := u.GroupIds() // getgrouplist: the primary gid is included
	if err != nil {
		return nil, fmt.Errorf("NSS group list: %w", err)
	}
	names := make([]string, 0, len(gids))
	for _, gid := range primaryFirst(gids, u.Gid) {
		n, err := strconv.ParseUint(gid, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("NSS group id %q: %w", gid, err)
		}
		// our own getgrgid_r loop: a group with thousands of members needs
		// a buffer far larger than os/user's first one
		g, err := LookupGroup("", uint32(n), false)
		if errors.Is(err, ErrNoGroup) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("NSS group %s: %w", gid, err)
		}
		names = append(names, g.Name)
	}
	return names, nil
}

func primaryFirst(gids []string, primary string) []string {
	out := []string{primary}
	for _, g := range gids {
		if g != primary {
			out = append(out, g)
		}
	}
	return out
}
