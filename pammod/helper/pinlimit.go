package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// At most pinsPerWindow PINs are mailed to one user in pinWindow: whoever
// knows a user name could otherwise fill that user's mailbox, one login
// attempt a PIN.
const (
	pinsPerWindow = 5
	pinWindow     = 15 * time.Minute
)

// pinLimit counts the PINs mailed per user, in files under the run
// directory (the helper of one call forgets everything when it exits).
type pinLimit struct{ dir string }

func newPinLimit(runDir string) *pinLimit { return &pinLimit{dir: filepath.Join(runDir, "pins")} }

// take reserves one PIN for user, holding the user's lock until done is
// called with whether the PIN went out. Over the limit, it returns an
// error that says until when.
func (l *pinLimit) take(user string, now time.Time) (done func(mailed bool), err error) {
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return nil, err
	}
	// the name is hex: a user name may hold any byte but "/" and NUL
	f, err := os.OpenFile(filepath.Join(l.dir, hex.EncodeToString([]byte(user))), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		f.Close()
		return nil, err
	}
	var recent []time.Time
	for _, field := range strings.Fields(string(data)) {
		if n, err := strconv.ParseInt(field, 10, 64); err == nil {
			if t := time.Unix(n, 0); now.Sub(t) < pinWindow {
				recent = append(recent, t)
			}
		}
	}
	if len(recent) >= pinsPerWindow {
		f.Close()
		return nil, fmt.Errorf("%d PINs were mailed to this user in the last %v; the next one after %s",
			len(recent), pinWindow, recent[0].Add(pinWindow).Format("15:04:05"))
	}
	return func(mailed bool) {
		defer f.Close()
		if mailed {
			recent = append(recent, now)
		}
		var b strings.Builder
		for _, t := range recent {
			fmt.Fprintf(&b, "%d\n", t.Unix())
		}
		if err := f.Truncate(0); err == nil {
			f.WriteAt([]byte(b.String()), 0)
		}
	}, nil
}
