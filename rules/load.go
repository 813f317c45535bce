package rules

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
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

// MaxFileSize bounds every file the rules read, and the keys settings
// name. A config this large is a mistake or an attack, and reading it must
// not exhaust a login's memory.
const MaxFileSize = 16 << 20

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
	fp := sha256.New()
	p.loadFile(main, opts.InsecureSkipOwnerCheck, fp)
	if !opts.NoDropIns {
		p.loadDropIns(filepath.Join(base, DropInDirName), opts.InsecureSkipOwnerCheck, fp)
	}
	p.finish()
	for _, name := range slices.Sorted(maps.Keys(p.cfg.Plugins)) {
		path := p.cfg.Plugins[name]
		if !opts.InsecureSkipOwnerCheck {
			if err := trust.File(path); err != nil {
				p.cfg.problem(Pos{File: path}, Fatal, "plugin not trusted: %v", err)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			data = []byte(err.Error()) // the plugin fails when run; the print still changes with it
		}
		fingerprint(fp, path, data)
	}
	p.cfg.Fingerprint = hex.EncodeToString(fp.Sum(nil))
	if fatal, ok := p.cfg.Fatal(); ok {
		return p.cfg, errors.New(fatal.String())
	}
	return p.cfg, nil
}

func (p *parser) loadFile(path string, skipOwner bool, fp hash.Hash) {
	data, err := readTrusted(path, skipOwner)
	if err != nil {
		p.cfg.Files = append(p.cfg.Files, path)
		p.cfg.problem(Pos{File: path}, Fatal, "%s", describeReadError(path, err))
		return
	}
	fingerprint(fp, path, data)
	p.parseFile(path, data)
}

// fingerprint adds one file to a config's fingerprint: its name and its
// content, each length-prefixed so that no two file sets print alike.
func fingerprint(fp hash.Hash, path string, data []byte) {
	var n [8]byte
	for _, b := range [][]byte{[]byte(path), data} {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		fp.Write(n[:])
		fp.Write(b)
	}
}

// loadDropIns reads dir/*.conf in lexical order. A missing directory is
// fine; a drop-in that cannot be read or trusted refuses the whole config,
// since it may hold the CLOSE rule that matters.
func (p *parser) loadDropIns(dir string, skipOwner bool, fp hash.Hash) {
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
		p.loadFile(filepath.Join(dir, name), skipOwner, fp)
	}
}

// readTrusted reads a file that decides logins: like sshd's StrictModes,
// it refuses one that someone other than root could have written
// (trust.ReadFile). With skipOwner, which only tests set, any regular file
// will do.
func readTrusted(path string, skipOwner bool) ([]byte, error) {
	if skipOwner {
		return trust.ReadFile(path, MaxFileSize, trust.AnyOwner)
	}
	return trust.ReadFile(path, MaxFileSize)
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
