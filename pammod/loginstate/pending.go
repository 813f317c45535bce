package loginstate

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// PendingTTL bounds how long a login let in under a NUMBER limit is
// counted before logind lists its session: it finishes within sshd's
// LoginGraceTime (two minutes), or it failed and must stop holding a place.
const PendingTTL = 2 * time.Minute

// Pending is a login let in under a NUMBER limit that logind may not list
// yet: logind learns of a session only after the module said yes, so two
// logins at the same moment would both see room.
type Pending struct {
	Owner   Login     `json:"owner"`
	User    string    `json:"user"`
	Service string    `json:"service"`
	At      time.Time `json:"at"`
}

// LockNumber takes the lock that makes NUMBER's count-then-record atomic
// across concurrent logins, waiting until ctx ends. Hold it only around
// counting and AddPending, never while a person answers something.
func (s *Store) LockNumber(ctx context.Context) (unlock func(), err error) {
	return lock(ctx, filepath.Join(s.dir, numberLock))
}

// AddPending counts a login until its session is known.
func (s *Store) AddPending(p Pending) error {
	dir, err := s.sub(pendingDir)
	if err != nil {
		return err
	}
	p.At = s.now()
	return s.write(dir, p.Owner.key(p.Owner.Self), p, p.At)
}

// PendingUsers returns the users of pending logins, dropping the expired
// ones and those whose user logind lists now (listed).
func (s *Store) PendingUsers(listed func(user string) bool) ([]Pending, error) {
	dir := filepath.Join(s.dir, pendingDir)
	names, err := records(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Pending
	for _, name := range names {
		var p Pending
		if err := read(dir, name, &p); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				os.Remove(filepath.Join(dir, name)) // not a record: written whole or not at all
			}
			continue
		}
		if !s.fresh(p.At, PendingTTL) || listed(p.User) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// RemovePending stops counting caller's login: its session closed.
func (s *Store) RemovePending(caller Login) {
	dir := filepath.Join(s.dir, pendingDir)
	for _, p := range []Process{caller.Self, caller.Parent} {
		if !p.Known() {
			continue
		}
		var rec Pending
		if read(dir, caller.key(p), &rec) == nil && rec.Owner.Serves(caller) {
			os.Remove(filepath.Join(dir, caller.key(p)))
		}
	}
}
