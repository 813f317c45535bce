package loginstate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const opaDir = "opa"

// OPACacheMaxTTL bounds how long any cached OPEN is kept on disk, whatever
// OPA_CACHE says (rules allow at most a week).
const OPACacheMaxTTL = 7 * 24 * time.Hour

// OPAOpen is the last OPEN that OPA gave for a user at a service from a
// remote host (OPA_CACHE, LemonLDAP::NG's offline mode). Unlike a
// decision it serves later logins, not one login's phases: so it names
// exactly whose it is, and serves no one else.
type OPAOpen struct {
	Config  string    `json:"config"` // the config's fingerprint
	User    string    `json:"user"`
	Service string    `json:"service"`
	RHost   string    `json:"rhost"`
	Auth    string    `json:"auth"`
	At      time.Time `json:"at"`
	// NoPrompts: OPA's display cycle asked the login that got this OPEN
	// nothing. Only such an OPEN may stand in for OPA (an OPEN given after
	// an OTP prompt must not let a later login skip the prompt); a record
	// without it, as older versions wrote, does not. What the user
	// answered is never kept.
	NoPrompts bool `json:"no_prompts"`
}

// name is the record's file: a hash of everything it is keyed by, so that
// one user's record is never another's file (names may hold any byte).
func (o OPAOpen) name() string {
	h := sha256.New()
	for _, f := range []string{o.Config, o.User, o.Service, o.RHost, o.Auth} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (o OPAOpen) sameKey(p OPAOpen) bool {
	return o.Config != "" && o.Config == p.Config && o.User == p.User && o.Service == p.Service &&
		o.RHost == p.RHost && o.Auth == p.Auth
}

// SaveOPAOpen records that OPA answered OPEN for k now (At is the store's
// clock), with k.NoPrompts as given. A config with no fingerprint (not
// read by Load) is not cached.
func (s *Store) SaveOPAOpen(k OPAOpen) error {
	if k.Config == "" {
		return errors.New("a config without a fingerprint is not cached")
	}
	dir, err := s.sub(opaDir)
	if err != nil {
		return err
	}
	s.prune(dir, OPACacheMaxTTL)
	k.At = s.now()
	return s.write(dir, k.name(), k, k.At)
}

// FindOPAOpen returns the record of the OPEN OPA last gave for exactly k
// (when, and whether it was given without prompts), if that is less than
// ttl ago by the store's clock.
func (s *Store) FindOPAOpen(k OPAOpen, ttl time.Duration) (OPAOpen, bool) {
	if k.Config == "" || ttl <= 0 {
		return OPAOpen{}, false
	}
	var o OPAOpen
	if read(filepath.Join(s.dir, opaDir), k.name(), &o) != nil || !o.sameKey(k) || !s.fresh(o.At, ttl) {
		return OPAOpen{}, false
	}
	return o, true
}

// ForgetOPAOpen drops k's record: OPA answered something other than OPEN.
func (s *Store) ForgetOPAOpen(k OPAOpen) error {
	err := os.Remove(filepath.Join(s.dir, opaDir, k.name()))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
