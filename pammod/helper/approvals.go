package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// approval is one SSH login the desktop owner allowed.
type approval struct {
	User       string    `json:"user"`
	RHost      string    `json:"rhost"`
	Service    string    `json:"service"`
	DesktopUID uint32    `json:"desktop_uid"` // who allowed it, to be told when it ends
	Keys       []string  `json:"keys"`        // the login's pid-handle keys
	At         time.Time `json:"at"`
}

// approvals remembers ASK approvals under RunDir/approved, one file each,
// so that a user already let in from a host is not asked about again while
// that session lives, and the desktop owner hears when the last one ends.
// logind does not remember approvals; the records outlive the helper
// process but not the machine (/run).
type approvals struct {
	dir    string
	logind *logind.Client
	now    func() time.Time
}

func newApprovals(runDir string, lc *logind.Client) *approvals {
	return &approvals{dir: filepath.Join(runDir, "approved"), logind: lc, now: time.Now}
}

func (a *approvals) all() (map[string]approval, error) {
	entries, err := os.ReadDir(a.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]approval{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(a.dir, e.Name()))
		if err != nil {
			continue
		}
		var ap approval
		if json.Unmarshal(data, &ap) == nil {
			out[e.Name()] = ap
		}
	}
	return out, nil
}

// Approved implements rules.Approvals: user has an approved login from
// rhost whose sshd session logind still lists. Records of logins that never
// reached a session, or whose session is gone, are dropped here.
func (a *approvals) Approved(ctx context.Context, user, rhost string) (bool, error) {
	recs, err := a.all()
	if err != nil || len(recs) == 0 {
		return false, err
	}
	live, err := a.logind.Sessions(ctx)
	if err != nil {
		return false, err
	}
	hasSession := slices.ContainsFunc(live, func(s rules.Session) bool {
		return s.Live() && s.User == user && s.RHost == rhost && s.Service == "sshd"
	})
	approved := false
	for name, ap := range recs {
		if ap.User != user || ap.RHost != rhost {
			continue
		}
		if !hasSession && a.now().Sub(ap.At) > pendingTTL {
			os.Remove(filepath.Join(a.dir, name)) // its session ended without telling us
			continue
		}
		approved = approved || hasSession
	}
	return approved, nil
}

// add records an approval of this login.
func (a *approvals) add(call protocol.Call, user string, desktopUID uint32) error {
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return err
	}
	var keys []string
	for _, pid := range []int32{call.PID, call.PPID} {
		if k, err := loginKey(pid, call.Handle); err == nil {
			keys = append(keys, k)
		}
	}
	data, _ := json.Marshal(approval{User: user, RHost: call.RHost.S, Service: call.Service.S,
		DesktopUID: desktopUID, Keys: keys, At: a.now()})
	id := make([]byte, 8)
	rand.Read(id)
	path := filepath.Join(a.dir, hex.EncodeToString(id))
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// release forgets this login's approval, when its session closes. It
// returns the approval when it was the last one of that user from that
// host, so the desktop owner can be told.
func (a *approvals) release(call protocol.Call) (approval, bool) {
	recs, err := a.all()
	if err != nil {
		return approval{}, false
	}
	var mine []string
	for _, pid := range []int32{call.PID, call.PPID} {
		if k, err := loginKey(pid, call.Handle); err == nil {
			mine = append(mine, k)
		}
	}
	var released *approval
	for name, ap := range recs {
		if slices.ContainsFunc(ap.Keys, func(k string) bool { return slices.Contains(mine, k) }) {
			os.Remove(filepath.Join(a.dir, name))
			delete(recs, name)
			released = &ap
		}
	}
	if released == nil {
		return approval{}, false
	}
	for _, ap := range recs {
		if ap.User == released.User && ap.RHost == released.RHost {
			return approval{}, false // another approved session of theirs lives on
		}
	}
	return *released, true
}
