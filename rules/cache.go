package rules

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Cache keeps the configs a long-running process (the helper daemon) has
// loaded, so that a call parses nothing when no file of its config
// changed. Every call still looks at every file and directory the config
// depends on: the main file, drop-ins and plugins, and the drop-in and
// plugin directories, whose every change (content, owner, mode, a file
// replaced, added or removed) shows in the inode's change time or identity,
// which nobody can set back; and each directory above them, and symbolic
// links with their targets and the directories they are in, whose owner,
// mode and identity decide whether the files are trusted (their times
// change with every file beside them: /etc's do all day; the trust check
// says what it looks at: trust.Dependencies). The very next call after a
// change loads the config anew. The zero Cache is ready; it is safe for concurrent use, and its
// Configs are shared read-only.
type Cache struct {
	mu      sync.Mutex
	entries map[LoadOptions]*cached
}

type cached struct {
	cfg   *Config
	err   error
	paths []dependency // what the config depends on
	stats []fileState  // their states before it was loaded
}

// dependency is a path a config depends on: all of its state, or, for a
// directory above it, what makes it trusted.
type dependency struct {
	path string
	all  bool
}

// fileState is what a change to a path shows in.
type fileState struct {
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

// Load returns the config opts names: the one loaded before when nothing
// it depends on changed since, else a fresh Load.
func (c *Cache) Load(opts LoadOptions) (*Config, error) {
	c.mu.Lock()
	e := c.entries[opts]
	c.mu.Unlock()
	var paths []dependency
	if e != nil {
		if slices.Equal(statAll(e.paths), e.stats) {
			return e.cfg, e.err
		}
		paths = e.paths
	}
	// the states are taken before the load, so a change while it reads
	// shows next time; a load that depends on other paths than the states
	// taken (a drop-in added) is done again with theirs
	for range 3 {
		before := statAll(paths)
		cfg, err := Load(opts)
		now := dependencies(opts, cfg)
		if slices.Equal(now, paths) {
			c.mu.Lock()
			if c.entries == nil {
				c.entries = map[LoadOptions]*cached{}
			}
			c.entries[opts] = &cached{cfg: cfg, err: err, paths: paths, stats: before}
			c.mu.Unlock()
			return cfg, err
		}
		paths = now
	}
	return Load(opts) // still moving: not kept
}

// dependencies lists every path whose change may change what Load returns
// for opts, given what it returned last, in a fixed order.
func dependencies(opts LoadOptions, cfg *Config) []dependency {
	all := map[string]bool{} // path -> all of its state counts
	add := func(p string) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return
		}
		for _, q := range []string{abs, realPath(abs)} {
			all[q] = true
			for d := parent(q); d != ""; d = parent(d) {
				if _, seen := all[d]; !seen {
					all[d] = false
				}
			}
		}
		// and whatever else the trust check of it looks at: the
		// directories of a chain of links
		for _, d := range trust.Dependencies(abs) {
			if _, seen := all[d]; !seen {
				all[d] = false
			}
		}
	}
	base := filepath.Dir(opts.Path)
	if opts.Path == "" {
		base = filepath.Dir(DefaultPath)
		add(DefaultPath) // which of the two is read depends on whether it exists
		add(LegacyPath)
	}
	add(filepath.Join(base, PluginDirName))
	if !opts.NoDropIns {
		add(filepath.Join(base, DropInDirName))
	}
	for _, f := range cfg.Files {
		add(f)
	}
	for _, f := range cfg.Plugins {
		add(f)
	}
	out := make([]dependency, 0, len(all))
	for p, a := range all {
		out = append(out, dependency{p, a})
	}
	slices.SortFunc(out, func(a, b dependency) int { return strings.Compare(a.path, b.path) })
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

func statAll(deps []dependency) []fileState {
	out := make([]fileState, len(deps))
	for i, d := range deps {
		out[i] = stat(d.path)
		if !d.all { // a directory above: what trust depends on
			out[i] = fileState{exists: out[i].exists, dev: out[i].dev, ino: out[i].ino, mode: out[i].mode,
				uid: out[i].uid, gid: out[i].gid, targetDev: out[i].targetDev, targetIno: out[i].targetIno,
				targetMode: out[i].targetMode, targetUID: out[i].targetUID}
		}
	}
	return out
}

func stat(p string) fileState {
	var st syscall.Stat_t
	if err := syscall.Lstat(p, &st); err != nil {
		return fileState{exists: !errors.Is(err, os.ErrNotExist)}
	}
	s := fileState{exists: true, dev: st.Dev, ino: st.Ino, nlink: st.Nlink, mode: st.Mode, uid: st.Uid, gid: st.Gid,
		size: st.Size, mtime: st.Mtim, ctime: st.Ctim}
	if st.Mode&syscall.S_IFMT == syscall.S_IFLNK {
		var t syscall.Stat_t
		if syscall.Stat(p, &t) == nil {
			s.targetDev, s.targetIno, s.targetCtime, s.targetSize = t.Dev, t.Ino, t.Ctim, t.Size
			s.targetMode, s.targetUID = t.Mode, t.Uid
		}
	}
	return s
}
