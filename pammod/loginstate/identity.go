// Package loginstate keeps what links the PAM calls of one login: the
// decision of its first phase, the desktop owner's approval of it, its
// place under a NUMBER limit, and the PINs mailed to its user.
//
// The helper runs once per PAM call, so this state lives in files under
// the run directory. Every record names the login that wrote it, and a
// record serves only that login: the same process, or a process one fork
// away from it (docs/architecture.md, "Per-login state"). A sibling that shares
// the writer's parent and PAM handle address, a process that reuses the
// writer's pid, a config that changed since, or a record past its time are
// all strangers to it.
package loginstate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/smallfile"
)

// Process is one process for as long as it lives: a pid is reused once the
// process is gone, its start time (clock ticks after boot) is not, within
// one boot.
type Process struct {
	PID   int32  `json:"pid"`
	Start uint64 `json:"start"`
}

// Known reports whether p names a process at all.
func (p Process) Known() bool { return p.PID > 0 && p.Start > 0 }

func (p Process) String() string { return fmt.Sprintf("%d@%d", p.PID, p.Start) }

// Login is who makes a PAM call: the host process, its parent, and the
// address of the PAM handle (fork copies memory, so a forked child holds
// the handle at the same address).
type Login struct {
	Boot   string  `json:"boot"`
	Self   Process `json:"self"`
	Parent Process `json:"parent"` // not Known when the parent is init or gone
	Handle string  `json:"handle"`
}

// Serves reports whether a record written by owner may be used by caller:
// the same process, caller forked from owner (xrdp authenticates, then
// forks for the session), or owner forked from caller (sshd's
// keyboard-interactive child decides, its monitor opens the session).
// Never two children of one parent, never another boot.
func (owner Login) Serves(caller Login) bool {
	if owner.Boot == "" || owner.Boot != caller.Boot || owner.Handle == "" || owner.Handle != caller.Handle ||
		!owner.Self.Known() || !caller.Self.Known() {
		return false
	}
	return owner.Self == caller.Self ||
		(caller.Parent.Known() && caller.Parent == owner.Self) ||
		(owner.Parent.Known() && owner.Parent == caller.Self)
}

// key names the files of the login of process p with this handle.
func (l Login) key(p Process) string {
	return fmt.Sprintf("%d-%d-%s", p.PID, p.Start, l.Handle)
}

// Identifier reads who a process is from procfs.
type Identifier struct {
	// Proc is where procfs is mounted: "/proc" unless a test says so.
	Proc string
	// Boot is this boot's id when known already (a daemon reads it once:
	// no process outlives its boot); "" reads it at each Identify.
	Boot string
}

// BootID reads this boot's id.
func (id Identifier) BootID() (string, error) {
	boot, err := smallfile.Read(filepath.Join(id.proc(), "sys/kernel/random/boot_id"), maxStat)
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return string(bytes.TrimSpace(boot)), nil
}

func (id Identifier) proc() string {
	if id.Proc == "" {
		return "/proc"
	}
	return id.Proc
}

// Identify returns the login of the process pid calling with the PAM
// handle at address handle. The pid must come from the kernel (the
// helper's parent, or the daemon's peer credentials), not from the call.
func (id Identifier) Identify(pid int32, handle string) (Login, error) {
	if handle == "" || len(handle) > 32 || strings.Trim(handle, "0123456789abcdefx") != "" {
		return Login{}, fmt.Errorf("the module sent no usable PAM handle address (%q)", handle)
	}
	boot := id.Boot
	if boot == "" {
		var err error
		if boot, err = id.BootID(); err != nil {
			return Login{}, err
		}
	}
	self, ppid, err := id.Stat(pid)
	if err != nil {
		return Login{}, err
	}
	l := Login{Boot: boot, Self: self, Handle: handle}
	if ppid > 1 {
		parent, _, err := id.Stat(ppid)
		switch {
		case err == nil:
			l.Parent = parent
		case !errors.Is(err, os.ErrNotExist):
			return Login{}, err
		} // a parent gone meanwhile links to nothing
	}
	return l, nil
}

// maxStat bounds a /proc/PID/stat line, well under a kilobyte (the command
// name is at most 16 bytes).
const maxStat = 1 << 16

// Stat reads a process's start time and parent from /proc/PID/stat.
func (id Identifier) Stat(pid int32) (Process, int32, error) {
	if pid <= 0 {
		return Process{}, 0, fmt.Errorf("no process %d", pid)
	}
	data, err := smallfile.Read(filepath.Join(id.proc(), strconv.Itoa(int(pid)), "stat"), maxStat)
	if err != nil {
		return Process{}, 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return parseStat(pid, data)
}

// Alive reports whether p still runs: the same process (not another at a
// reused pid), and not a zombie, which keeps its /proc entry until its
// parent, or an init that may be slow to, reaps it.
func (id Identifier) Alive(p Process) bool {
	data, err := smallfile.Read(filepath.Join(id.proc(), strconv.Itoa(int(p.PID)), "stat"), maxStat)
	if err != nil {
		return false
	}
	now, _, err := parseStat(p.PID, data)
	if err != nil || now != p {
		return false
	}
	end := bytes.LastIndexByte(data, ')')
	f := strings.Fields(string(data[end+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// parseStat takes ppid (field 4) and starttime (field 22) from a
// /proc/PID/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so fields count from the last ")".
func parseStat(pid int32, data []byte) (Process, int32, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return Process{}, 0, fmt.Errorf("process %d: malformed stat", pid)
	}
	f := strings.Fields(string(data[end+1:])) // f[0] is field 3, state
	if len(f) < 20 {
		return Process{}, 0, fmt.Errorf("process %d: stat has %d fields", pid, len(f)+2)
	}
	ppid, err1 := strconv.ParseInt(f[1], 10, 32)
	start, err2 := strconv.ParseUint(f[19], 10, 64)
	if err1 != nil || err2 != nil || start == 0 {
		return Process{}, 0, fmt.Errorf("process %d: malformed stat", pid)
	}
	return Process{PID: pid, Start: start}, int32(ppid), nil
}
