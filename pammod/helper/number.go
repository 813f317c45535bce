package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// pendingTTL bounds how long a login let in by NUMBER is counted before
// logind lists its session: the login finishes within sshd's LoginGraceTime
// (two minutes), or it failed and must stop holding a place.
const pendingTTL = 2 * time.Minute

// numberGuard makes NUMBER decisions atomic. logind learns of a session only
// after the module said yes, so two logins at the same moment would both see
// room. Decisions under NUMBER rules therefore run one at a time (a lock
// file), and each login they let in is counted as a pending session until
// logind lists it, its session closes, or pendingTTL passes.
type numberGuard struct {
	dir string // RunDir
	now func() time.Time
}

func newNumberGuard(runDir string) *numberGuard {
	return &numberGuard{dir: runDir, now: time.Now}
}

// lock takes the NUMBER lock, waiting until ctx ends.
func (g *numberGuard) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(g.dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(g.dir, "number.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the NUMBER lock: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

type pendingLogin struct {
	User    string    `json:"user"`
	Service string    `json:"service"`
	At      time.Time `json:"at"`
}

func (g *numberGuard) pendingDir() string { return filepath.Join(g.dir, "pending") }

// pending returns the logins let in but not yet known to logind, as
// sessions, and removes the expired ones and those whose user logind now
// lists.
func (g *numberGuard) pending(live []rules.Session) ([]rules.Session, error) {
	known := map[string]bool{}
	for _, s := range live {
		if s.Live() {
			known[s.User] = true
		}
	}
	entries, err := os.ReadDir(g.pendingDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []rules.Session
	for _, e := range entries {
		path := filepath.Join(g.pendingDir(), e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			continue // removed meanwhile
		}
		var p pendingLogin
		if json.Unmarshal(data, &p) != nil || g.now().Sub(p.At) > pendingTTL || p.At.After(g.now()) || known[p.User] {
			os.Remove(path)
			continue
		}
		out = append(out, rules.Session{User: p.User, Service: p.Service, Class: "user", State: "pending"})
	}
	return out, nil
}

// add counts this login until its session is known.
func (g *numberGuard) add(call protocol.Call, user string) error {
	if err := os.MkdirAll(g.pendingDir(), 0o700); err != nil {
		return err
	}
	name, err := loginKey(call.PID, call.Handle)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(pendingLogin{User: user, Service: call.Service.S, At: g.now()})
	path := filepath.Join(g.pendingDir(), name)
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// remove stops counting this login: its session closed.
func (g *numberGuard) remove(call protocol.Call) {
	for _, pid := range []int32{call.PID, call.PPID} {
		if name, err := loginKey(pid, call.Handle); err == nil {
			os.Remove(filepath.Join(g.pendingDir(), name))
		}
	}
}

// liveSessions is the helper's rules.Sessions: logind's sessions (or utmp's)
// and the pending logins.
type liveSessions struct {
	logind *logind.Client
	guard  *numberGuard
}

func (s liveSessions) Sessions(ctx context.Context) ([]rules.Session, error) {
	live, err := s.logind.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	pending, err := s.guard.pending(live)
	if err != nil {
		return nil, fmt.Errorf("pending logins: %w", err)
	}
	return append(live, pending...), nil
}

// hasNumber reports whether a NUMBER rule applies to the login's service.
func hasNumber(cfg *rules.Config, login rules.Login) bool {
	for _, r := range cfg.Rules {
		if r.Option == rules.OptNumber && r.Service.Matches(login) {
			return true
		}
	}
	return false
}
