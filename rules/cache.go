package rules

import (
	"path/filepath"
	"slices"
	"sync"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/filestate"
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
// says what it looks at: trust.Dependencies; internal/filestate does the
// looking). The very next call after a change loads the config anew. The zero Cache is ready; it is safe for concurrent use, and its
// Configs are shared read-only.
type Cache struct {
	mu      sync.Mutex
	entries map[LoadOptions]*cached
}

type cached struct {
	cfg   *Config
	err   error
	paths []filestate.Dep   // what the config depends on
	stats []filestate.State // their states before it was loaded
}

// Load returns the config opts names: the one loaded before when nothing
// it depends on changed since, else a fresh Load.
func (c *Cache) Load(opts LoadOptions) (*Config, error) {
	c.mu.Lock()
	e := c.entries[opts]
	c.mu.Unlock()
	var paths []filestate.Dep
	if e != nil {
		if slices.Equal(filestate.Look(e.paths), e.stats) {
			return e.cfg, e.err
		}
		paths = e.paths
	}
	// the states are taken before the load, so a change while it reads
	// shows next time; a load that depends on other paths than the states
	// taken (a drop-in added) is done again with theirs
	for range 3 {
		before := filestate.Look(paths)
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
func dependencies(opts LoadOptions, cfg *Config) []filestate.Dep {
	var files []string
	base := filepath.Dir(opts.Path)
	if opts.Path == "" {
		base = filepath.Dir(DefaultPath)
		// which of the two is read depends on whether it exists
		files = append(files, DefaultPath, LegacyPath)
	}
	files = append(files, filepath.Join(base, PluginDirName))
	if !opts.NoDropIns {
		files = append(files, filepath.Join(base, DropInDirName))
	}
	files = append(files, cfg.Files...)
	for _, f := range cfg.Plugins {
		files = append(files, f)
	}
	return filestate.Trusted(files...)
}
