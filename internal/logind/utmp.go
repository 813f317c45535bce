package logind

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/session"
)

// DefaultUtmp is where glibc keeps the current logins.
const DefaultUtmp = "/var/run/utmp"

// utmpRecord is glibc's struct utmp on 64-bit Linux (384 bytes, with the
// 32-bit time fields of its 32-bit-compatible layout).
type utmpRecord struct {
	Type    int16
	_       [2]byte
	PID     int32
	Line    [32]byte
	ID      [4]byte
	User    [32]byte
	Host    [256]byte
	Exit    [2]int16
	Session int32
	TvSec   int32
	TvUsec  int32
	Addr    [4]int32
	_       [20]byte
}

const utmpUserProcess = 7 // USER_PROCESS

// readUtmp lists the logins in a utmp file whose process still lives, as
// sessions of class "user". utmp does not say which PAM service made a
// login, so Service is empty.
func readUtmp(path string) ([]session.Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sessions []session.Session
	for {
		var r utmpRecord
		err := binary.Read(f, binary.LittleEndian, &r)
		if errors.Is(err, io.EOF) {
			return sessions, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if r.Type != utmpUserProcess || r.User[0] == 0 || !alive(r.PID) {
			continue
		}
		sessions = append(sessions, session.Session{
			User:  cString(r.User[:]),
			RHost: cString(r.Host[:]),
			Type:  "tty",
			Class: "user",
			State: "active",
		})
	}
}

// alive reports whether pid runs: a crashed login leaves its utmp entry.
func alive(pid int32) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
