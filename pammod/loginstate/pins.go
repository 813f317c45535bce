package loginstate

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// At most PINsPerWindow PINs are mailed to one user in PINWindow: whoever
// knows a user name could otherwise fill that user's mailbox, one login
// attempt a PIN.
const (
	PINsPerWindow = 5
	PINWindow     = 15 * time.Minute
)

type pinCount struct {
	Mailed []time.Time `json:"mailed"`
}

// TakePIN reserves one PIN for user and records it before it is mailed,
// holding the user's lock until done is called with whether the PIN went
// out (one that did not is given back). Over the limit, or when the
// reservation cannot be recorded, it returns an error: a PIN that cannot
// be counted is not mailed.
func (s *Store) TakePIN(ctx context.Context, user string) (done func(mailed bool), err error) {
	dir, err := s.sub(pinsDir)
	if err != nil {
		return nil, err
	}
	s.prune(dir, PINWindow)
	// the name is hex: a user name may hold any byte but "/" and NUL
	name := hex.EncodeToString([]byte(user))
	unlock, err := lock(ctx, filepath.Join(dir, name+lockSuffix))
	if err != nil {
		return nil, err
	}
	var c pinCount
	if err := read(dir, name, &c); err != nil && !os.IsNotExist(err) {
		unlock()
		return nil, err
	}
	var recent []time.Time
	for _, t := range c.Mailed {
		if s.fresh(t, PINWindow) {
			recent = append(recent, t)
		}
	}
	if len(recent) >= PINsPerWindow {
		unlock()
		return nil, fmt.Errorf("%d PINs were mailed to this user in the last %v; the next one after %s",
			len(recent), PINWindow, recent[0].Add(PINWindow).Format("15:04:05"))
	}
	now := s.now()
	if err := s.write(dir, name, pinCount{Mailed: append(recent, now)}, now); err != nil {
		unlock()
		return nil, fmt.Errorf("counting the PIN: %w", err)
	}
	return func(mailed bool) {
		defer unlock()
		if !mailed {
			s.write(dir, name, pinCount{Mailed: recent}, now) // given back; if this fails, it counts
		}
	}, nil
}
