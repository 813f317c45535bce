package loginstate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// ApprovalTTL bounds how long an approval counts before logind lists the
// session it let in: the login ends within sshd's LoginGraceTime, or it
// failed and its approval must not let the next one in.
const ApprovalTTL = 2 * time.Minute

// Approval is one SSH login the desktop owner allowed.
type Approval struct {
	Owner      Login     `json:"owner"`
	User       string    `json:"user"`
	RHost      string    `json:"rhost"`
	Service    string    `json:"service"`
	DesktopUID uint32    `json:"desktop_uid"` // who allowed it, to be told when it ends
	At         time.Time `json:"at"`
}

// AddApproval records an approval (At is set by the store's clock).
func (s *Store) AddApproval(a Approval) error {
	dir, err := s.sub(approvedDir)
	if err != nil {
		return err
	}
	a.At = s.now()
	return s.write(dir, randomName(), a, a.At)
}

// Approved reports whether user has an approved login from rhost that
// still lives: its own process (the one that holds its session, see
// MoveApprovals) runs, and logind lists a live session of that user from
// that host (liveSession asks logind, once, and only when such an approval
// exists). An approval whose process is gone is removed: its login ended
// without telling us; so is one older than ApprovalTTL with no session.
func (s *Store) Approved(user, rhost string, alive func(Process) bool, liveSession func() (bool, error)) (bool, error) {
	dir := filepath.Join(s.dir, approvedDir)
	names, err := records(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	asked, live := false, false
	approved := false
	for _, name := range names {
		var a Approval
		if read(dir, name, &a) != nil || a.User != user || a.RHost != rhost {
			continue
		}
		if !alive(a.Owner.Self) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if !asked {
			if live, err = liveSession(); err != nil {
				return false, err
			}
			asked = true
		}
		if !live && !s.fresh(a.At, ApprovalTTL) {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		approved = approved || live
	}
	return approved, nil
}

// MoveApprovals gives the approvals of caller's login to caller: the
// process that opens the session (sshd's monitor) holds the login from
// then on, where the one that was approved (its keyboard-interactive
// child) is about to exit.
func (s *Store) MoveApprovals(caller Login) {
	dir := filepath.Join(s.dir, approvedDir)
	names, err := records(dir)
	if err != nil {
		return
	}
	for _, name := range names {
		var a Approval
		if read(dir, name, &a) != nil || a.Owner.Self == caller.Self || !a.Owner.Serves(caller) {
			continue
		}
		a.Owner = caller
		s.write(dir, name, a, a.At)
	}
}

// ReleaseApproval forgets the approvals of caller's login, whose session
// closed. It returns one when it was the last approval of that user from
// that host, so that the desktop owner can be told.
func (s *Store) ReleaseApproval(caller Login) (Approval, bool) {
	dir := filepath.Join(s.dir, approvedDir)
	names, err := records(dir)
	if err != nil {
		return Approval{}, false
	}
	var released *Approval
	var others []Approval
	for _, name := range names {
		var a Approval
		if read(dir, name, &a) != nil {
			continue
		}
		if a.Owner.Serves(caller) {
			os.Remove(filepath.Join(dir, name))
			released = &a
			continue
		}
		others = append(others, a)
	}
	if released == nil {
		return Approval{}, false
	}
	for _, a := range others {
		if a.User == released.User && a.RHost == released.RHost {
			return Approval{}, false // another approved session of theirs lives on
		}
	}
	return *released, true
}
