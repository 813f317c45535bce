package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	// DefaultPath is the main config file.
	DefaultPath = "/etc/pam-accesscontrol.d/pam-accesscontrol.conf"
	// LegacyPath is the first release's main file, read when DefaultPath
	// does not exist.
	LegacyPath = "/etc/pam-accesscontrol/pam-accesscontrol.conf"
	// DropInDirName and PluginDirName sit beside the main file.
	DropInDirName = "rules.d"
	PluginDirName = "plugins"
)

// LoadOptions say which files make up a config.
type LoadOptions struct {
	// Path is the main file. Empty means DefaultPath, or LegacyPath when
	// DefaultPath does not exist. rules.d/ and plugins/ are looked up beside
	// Path (beside DefaultPath in the legacy case).
	Path string
	// NoDropIns reads the main file alone.
	NoDropIns bool
	// InsecureSkipOwnerCheck trusts files whatever their owner and mode.
	// Only tests that cannot run as root set it; nothing in the product does.
	InsecureSkipOwnerCheck bool
}

// Load reads the main file and its drop-ins. The Config is returned even
// when loading fails, so check-my-config can show every problem; the error
// is non-nil exactly when the config must not decide anything (missing or
// untrusted file), and a login must then be denied.
func Load(opts LoadOptions) (*Config, error) {
	main, base := opts.Path, filepath.Dir(opts.Path)
	if main == "" {
		main, base = DefaultPath, filepath.Dir(DefaultPath)
		if _, err := os.Stat(DefaultPath); errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(LegacyPath); err == nil {
				main = LegacyPath
			}
		}
	}
	p := newParser(ParseOptions{PluginDir: filepath.Join(base, PluginDirName)})
	p.loadFile(main, opts.InsecureSkipOwnerCheck)
	if !opts.NoDropIns {
		p.loadDropIns(filepath.Join(base, DropInDirName), opts.InsecureSkipOwnerCheck)
	}
	if !opts.InsecureSkipOwnerCheck {
		for _, name := range slices.Sorted(maps.Keys(p.cfg.Plugins)) {
			if err := CheckTrusted(p.cfg.Plugins[name]); err != nil {
				p.cfg.problem(Pos{File: p.cfg.Plugins[name]}, Fatal, "plugin not trusted: %v", err)
			}
		}
	}
	if fatal, ok := p.cfg.Fatal(); ok {
		return p.cfg, errors.New(fatal.String())
	}
	return p.cfg, nil
}

func (p *parser) loadFile(path string, skipOwner bool) {
	data, err := readTrusted(path, skipOwner)
	if err != nil {
		p.cfg.Files = append(p.cfg.Files, path)
		p.cfg.problem(Pos{File: path}, Fatal, "%s", describeReadError(path, err))
		return
	}
	p.parseFile(path, data)
}

// loadDropIns reads dir/*.conf in lexical order. A missing directory is
// fine; a drop-in that cannot be read or trusted refuses the whole config,
// since it may hold the CLOSE rule that matters.
func (p *parser) loadDropIns(dir string, skipOwner bool) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		p.cfg.problem(Pos{File: dir}, Fatal, "cannot read drop-in directory: %v", err)
		return
	}
	for _, e := range entries { // ReadDir sorts by name
		name := e.Name()
		if !strings.HasSuffix(name, ".conf") || strings.HasPrefix(name, ".") || e.IsDir() {
			continue
		}
		p.loadFile(filepath.Join(dir, name), skipOwner)
	}
}

func describeReadError(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(pe.Err, fs.ErrNotExist) {
		if path == DefaultPath {
			return fmt.Sprintf("no config file: neither %s nor %s exists", DefaultPath, LegacyPath)
		}
		return "no such file"
	}
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err.Error()
	}
	return err.Error()
}
