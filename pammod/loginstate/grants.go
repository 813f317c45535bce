package loginstate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Grant is the desktop owner's "allow this host for N hours" (ASK_REMEMBER):
// SSH logins of User from RHost get in without a question while Until has
// not passed and the same owner is at the desktop.
type Grant struct {
	OwnerUID  uint32    `json:"owner_uid"`
	OwnerName string    `json:"owner"`
	User      string    `json:"user"`
	RHost     string    `json:"rhost"`
	Until     time.Time `json:"until"`
	At        time.Time `json:"at"`
	LoginID   string    `json:"login"` // the login whose question it answered
}

// grantName files a grant under its owner, user and host (a hash: user and
// host are what the client said).
func grantName(uid uint32, user, rhost string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s\x00%s", uid, user, rhost))
	return hex.EncodeToString(sum[:16])
}

// AddGrant keeps g, replacing the owner's earlier grant for that user and
// host; At is set by the store's clock.
func (s *Store) AddGrant(g Grant) error {
	if g.User == "" || g.RHost == "" {
		return errors.New("a grant needs a user and a remote host")
	}
	dir, err := s.sub(grantsDir)
	if err != nil {
		return err
	}
	g.At = s.now()
	return s.write(dir, grantName(g.OwnerUID, g.User, g.RHost), g, g.At)
}

// Granted returns the owner's grant for user from rhost that still holds:
// not past its Until, nor past maxAge since it was given (the admin may
// have lowered ASK_REMEMBER since), and not dated in the future.
func (s *Store) Granted(uid uint32, user, rhost string, maxAge time.Duration) (Grant, bool) {
	if maxAge <= 0 || user == "" || rhost == "" {
		return Grant{}, false
	}
	var g Grant
	if read(filepath.Join(s.dir, grantsDir), grantName(uid, user, rhost), &g) != nil {
		return Grant{}, false
	}
	now := s.now()
	if g.OwnerUID != uid || g.User != user || g.RHost != rhost || !now.Before(g.Until) || !s.fresh(g.At, maxAge) {
		return Grant{}, false
	}
	return g, true
}

// Grants lists the grants that have not expired, soonest to end first;
// expired ones are removed.
func (s *Store) Grants() ([]Grant, error) {
	dir := filepath.Join(s.dir, grantsDir)
	names, err := records(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Grant
	now := s.now()
	for _, name := range names {
		var g Grant
		if err := read(dir, name, &g); err != nil || !now.Before(g.Until) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out, nil
}

// RevokeGrants removes the grants that match and returns them.
func (s *Store) RevokeGrants(match func(Grant) bool) ([]Grant, error) {
	all, err := s.Grants()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, grantsDir)
	var revoked []Grant
	for _, g := range all {
		if !match(g) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, grantName(g.OwnerUID, g.User, g.RHost))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return revoked, err
		}
		revoked = append(revoked, g)
	}
	return revoked, nil
}
