// Package filestate tells whether files changed between two looks, for
// the caches that must see the very next change: the rules' config cache
// (rules.Cache), the helper daemon's TOKEN checkers (OIDC_CA) and serve's
// TLS certificate.
//
// A change to a file's content, owner or mode, or the file replaced,
// shows in its inode's identity or change time, which nobody can set
// back. A directory above a file counts only for what decides whether the
// file is trusted (trust.File): its identity, owner and mode, and a
// symbolic link's target; its times change with every file beside it
// (/etc's do all day).
package filestate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// State is what a change to a path shows in; States compare with ==.
type State struct {
	exists                bool
	dev, ino, nlink       uint64
	mode, uid, gid        uint32
	size                  int64
	mtime, ctime          syscall.Timespec
	targetDev, targetIno  uint64 // a symbolic link's target
	targetCtime           syscall.Timespec
	targetSize            int64
	targetMode, targetUID uint32
}

// Of is the state of path now: a symbolic link's own, and its target's.
func Of(path string) State {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return State{exists: !errors.Is(err, os.ErrNotExist)}
	}
	s := State{exists: true, dev: st.Dev, ino: st.Ino, nlink: st.Nlink, mode: st.Mode, uid: st.Uid, gid: st.Gid,
		size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
	if st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
		var t syscall.Stat_t
		if syscall.Stat(path, &t) == nil {
			s.targetDev, s.targetIno, s.targetCtime, s.targetSize = t.Dev, t.Ino, t.Ctim, t.Size
			s.targetMode, s.targetUID = t.Mode, t.Uid
		}
	}
	return s
}

// trustPart is the part of s that decides whether what lies below it is
// trusted.
func (s State) trustPart() State {
	return State{exists: s.exists, dev: s.dev, ino: s.ino, mode: s.mode, uid: s.uid, gid: s.gid,
		targetDev: s.targetDev, targetIno: s.targetIno, targetMode: s.targetMode, targetUID: s.targetUID}
}

// Dep is a path a cache depends on: all of its state, or (a directory
// above a file) only what trust depends on.
type Dep struct {
	Path string
	All  bool
}

// Files are paths whose whole state counts, as given.
func Files(paths ...string) []Dep {
	out := make([]Dep, len(paths))
	for i, p := range paths {
		out[i] = Dep{Path: p, All: true}
	}
	return out
}

// Trusted lists what root's files at paths depend on, in a fixed order:
// each file, as named and with its links resolved (all of its state), and
// each directory above them and whatever else trust.File looks at (the
// directories of a chain of links: trust.Dependencies), for trust alone.
func Trusted(paths ...string) []Dep {
	all := map[string]bool{} // path -> all of its state counts
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		for _, q := range []string{abs, realPath(abs)} {
			all[q] = true
			for d := parent(q); d != ""; d = parent(d) {
				if _, seen := all[d]; !seen {
					all[d] = false
				}
			}
		}
		for _, d := range trust.Dependencies(abs) {
			if _, seen := all[d]; !seen {
				all[d] = false
			}
		}
	}
	out := make([]Dep, 0, len(all))
	for p, a := range all {
		out = append(out, Dep{p, a})
	}
	slices.SortFunc(out, func(a, b Dep) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Look is the state of each of deps now.
func Look(deps []Dep) []State {
	out := make([]State, len(deps))
	for i, d := range deps {
		out[i] = Of(d.Path)
		if !d.All {
			out[i] = out[i].trustPart()
		}
	}
	return out
}

// parent is the directory above p, "" above "/".
func parent(p string) string {
	if p == "/" {
		return ""
	}
	return filepath.Dir(p)
}

// realPath is p with its symbolic links resolved, or p when it cannot be.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
