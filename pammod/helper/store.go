package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// decisionTTL bounds how long a decision made in one phase of a login is
// reused by its later phases. They follow within seconds (sshd's
// LoginGraceTime is two minutes); a stale record must never decide.
const decisionTTL = 10 * time.Minute

// record is one login's decision, kept for its later phases.
type record struct {
	User    string    `json:"user"`
	Service string    `json:"service"`
	RHost   string    `json:"rhost"`
	Auth    string    `json:"auth"`
	Verdict string    `json:"verdict"`
	Source  string    `json:"source"`
	Login   string    `json:"login"` // the correlation id of the audit trail
	At      time.Time `json:"at"`
}

// store keeps records under RunDir/decisions, one file per login and
// process. Each helper runs once per PAM call, so state between the calls
// of one login has to live outside the helper, and outside the host
// process too: sshd runs keyboard-interactive authentication and account
// in a forked child and the session in its parent, so a record written in
// the child must be found by the parent. A login is named by its PAM
// handle's address (the same in both, since fork copies memory) and the
// pid: the record is saved under the caller's pid and its parent's, and
// looked up under both, so a child finds what its parent decided (xrdp
// authenticates, then forks for the session) and a parent what its child
// decided (sshd's keyboard-interactive child).
type store struct {
	dir string
	now func() time.Time
}

func newStore(runDir string) *store {
	return &store{dir: filepath.Join(runDir, "decisions"), now: time.Now}
}

func (s *store) path(pid int32, handle string) (string, error) {
	name, err := loginKey(pid, handle)
	return filepath.Join(s.dir, name), err
}

// loginKey names one login's files: the pid and the PAM handle's address.
func loginKey(pid int32, handle string) (string, error) {
	if pid <= 0 || handle == "" || len(handle) > 32 || strings.Trim(handle, "0123456789abcdefx") != "" {
		return "", fmt.Errorf("no usable login key (pid %d, handle %q)", pid, handle)
	}
	return fmt.Sprintf("%d-%s", pid, handle), nil
}

func (s *store) save(call protocol.Call, r record) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	s.prune()
	pids := []int32{call.PID}
	if call.PPID > 1 {
		pids = append(pids, call.PPID)
	}
	for _, pid := range pids {
		p, err := s.path(pid, call.Handle)
		if err != nil {
			return err
		}
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	return nil
}

// load finds the record of this login, if one was saved recently for the
// same user, service and remote host.
func (s *store) load(call protocol.Call, user string) (record, bool) {
	for _, pid := range []int32{call.PID, call.PPID} {
		p, err := s.path(pid, call.Handle)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var r record
		if json.Unmarshal(data, &r) != nil {
			continue
		}
		fresh := s.now().Sub(r.At) < decisionTTL && !r.At.After(s.now())
		same := r.User == user && r.Service == call.Service.S && r.RHost == call.RHost.S
		if fresh && same {
			return r, true
		}
	}
	return record{}, false
}

// forget removes the records of a login whose session closed.
func (s *store) forget(call protocol.Call) {
	for _, pid := range []int32{call.PID, call.PPID} {
		if p, err := s.path(pid, call.Handle); err == nil {
			os.Remove(p)
		}
	}
}

// prune removes records too old to be used, so the directory stays small
// whatever logins did not close cleanly.
func (s *store) prune() {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err == nil && s.now().Sub(fi.ModTime()) > decisionTTL {
			err := os.Remove(filepath.Join(s.dir, e.Name()))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return
			}
		}
	}
}
