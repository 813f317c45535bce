package loginstate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const enginesDir = "engines"

// Engine is the process that runs a login's pam_python scripts in a real
// interpreter (pammod/pyengine): module state lives there for the life of
// the PAM handle, across the login's phases and sshd's fork, so a later
// phase must find the same process, and no other login may.
type Engine struct {
	Owner   Login     `json:"owner"`
	LoginID string    `json:"login"` // kept on the PAM handle too
	Socket  string    `json:"socket"`
	Process Process   `json:"process"` // the interpreter
	Path    string    `json:"path"`    // the interpreter's path, as the module line names it
	At      time.Time `json:"at"`
}

// EngineSocket is a new path for an engine's socket, in a directory only
// root can enter.
func (s *Store) EngineSocket() (string, error) {
	dir, err := s.sub(enginesDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, randomName()+".sock"), nil
}

// SaveEngine keeps e for the later phases of its login, filed like a
// decision under the owner and its parent.
func (s *Store) SaveEngine(e Engine) error {
	dir, err := s.sub(enginesDir)
	if err != nil {
		return err
	}
	e.At = s.now()
	if err := s.write(dir, e.Owner.key(e.Owner.Self), e, e.At); err != nil {
		return err
	}
	if !e.Owner.Parent.Known() {
		return nil
	}
	// the parent's slot may hold the engine the parent itself uses (a
	// sibling of ours started it, or the parent adopted it): never take
	// it from a live one
	var there Engine
	if read(dir, e.Owner.key(e.Owner.Parent), &there) == nil && there.Socket != e.Socket && (Identifier{}).Alive(there.Process) {
		return nil
	}
	return s.write(dir, e.Owner.key(e.Owner.Parent), e, e.At)
}

// AnyHandle, as FindEngine's handleID, matches a record of the caller's
// login (Login.Serves) whatever its handle holds: for pam_end, when libpam
// lets no module read its data. At worst it ends an engine too early,
// which denies; it never lets a login in.
const AnyHandle = "\x00any"

// FindEngine returns the engine of caller's login, by the same rule as
// decisions (Login.Serves, and the id on the handle).
func (s *Store) FindEngine(caller Login, handleID string) (Engine, bool) {
	dir := filepath.Join(s.dir, enginesDir)
	for _, p := range []Process{caller.Self, caller.Parent} {
		if !p.Known() {
			continue
		}
		var e Engine
		if read(dir, caller.key(p), &e) != nil {
			continue
		}
		if !e.Owner.Serves(caller) {
			continue
		}
		if handleID == AnyHandle || handleMatches(e.Owner, caller, e.LoginID, handleID) {
			return e, true
		}
	}
	return Engine{}, false
}

// ForgetEngine removes the records of an engine that ended, and its socket.
func (s *Store) ForgetEngine(e Engine) {
	dir := filepath.Join(s.dir, enginesDir)
	for _, p := range []Process{e.Owner.Self, e.Owner.Parent} {
		if !p.Known() {
			continue
		}
		var rec Engine
		err := read(dir, e.Owner.key(p), &rec)
		if err == nil && rec.Socket == e.Socket || err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(dir, e.Owner.key(p)))
		}
	}
	if filepath.Dir(e.Socket) == dir {
		os.Remove(e.Socket)
	}
}
