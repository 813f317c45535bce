package kubecred

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cache keeps one token per server URL in the user's own cache directory
// ($XDG_CACHE_HOME/pam-accesscontrol, else ~/.cache/pam-accesscontrol,
// 0700), one 0600 file each. A token is the user's Kubernetes identity:
// a file that someone else could have written (not the user's own, open
// to group or others, a symbolic link, in a directory that is not the
// user's alone) is refused with an error, never read and never
// overwritten, so that nobody can make kubectl act as another identity
// (their token) or read the user's.
type cache struct {
	dir string
	// fd is the directory as checked: every file is opened, created and
	// renamed relative to it, so a directory swapped for another after
	// the check (an XDG_CACHE_HOME in a place others can write) is not
	// the one used
	d *os.File
}

func (c *cache) fd() int { return int(c.d.Fd()) }

// entry is one cached token.
type entry struct {
	Server  string    `json:"server"`
	User    string    `json:"user"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expirationTimestamp"`
}

// cacheDir is where the tokens go, by the XDG base directory rules: a
// relative XDG_CACHE_HOME is ignored.
func cacheDir(getenv func(string) string) (string, error) {
	if x := getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "pam-accesscontrol"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("neither XDG_CACHE_HOME nor HOME is an absolute path: no place for the token cache")
	}
	return filepath.Join(home, ".cache", "pam-accesscontrol"), nil
}

// openCache makes the directory (0700) if it is not there and checks it
// is the user's alone.
func openCache(dir string) (*cache, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, fmt.Errorf("token cache: %v", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("token cache: %v", err)
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		fi, lerr := os.Lstat(dir)
		if lerr != nil {
			return nil, fmt.Errorf("token cache: %v", lerr)
		}
		return nil, private(dir, fi, true)
	}
	if err != nil {
		return nil, fmt.Errorf("token cache: %s: %v", dir, err)
	}
	f := os.NewFile(uintptr(fd), dir)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("token cache: %v", err)
	}
	if err := private(dir, fi, true); err != nil {
		f.Close()
		return nil, err
	}
	// f stays open while the cache is used (one run of the plugin)
	return &cache{dir: dir, d: f}, nil
}

// private: fi (of path) is the user's own, not a symbolic link, and
// closed to group and others.
func private(path string, fi os.FileInfo, dir bool) error {
	refuse := func(why, fix string) error {
		return fmt.Errorf("refusing the token cache %s: %s; someone else may have put it there: %s and run this again", path, why, fix)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return refuse("it is a symbolic link", "remove it (rm "+path+")")
	case dir && !fi.IsDir():
		return refuse("it is not a directory", "remove it")
	case !dir && !fi.Mode().IsRegular():
		return refuse("it is not a regular file", "remove it")
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return refuse("its owner cannot be read", "remove it")
	}
	if int(st.Uid) != os.Geteuid() {
		return refuse(fmt.Sprintf("it belongs to uid %d, not to you (uid %d)", st.Uid, os.Geteuid()), "remove it")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		fix := "remove it (rm " + path + ")"
		if dir {
			fix = "check what is in it, then chmod 700 " + path
		}
		return refuse(fmt.Sprintf("group or others may use it (mode %04o)", fi.Mode().Perm()), fix)
	}
	return nil
}

// name is the file of server's token, in the directory.
func name(server string) string {
	sum := sha256.Sum256([]byte(server))
	return "token-" + hex.EncodeToString(sum[:16]) + ".json"
}

// path is the file of server's token, for messages.
func (c *cache) path(server string) string { return filepath.Join(c.dir, name(server)) }

// load reads server's token: found is false when there is none, or what
// is there is not a token for server (a file of the user's own that is
// broken is replaced by the next store). An error refuses the cache.
func (c *cache) load(server string) (e entry, found bool, err error) {
	path := c.path(server)
	fd, err := unix.Openat(c.fd(), name(server), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return entry{}, false, nil
	}
	if errors.Is(err, unix.ELOOP) {
		return entry{}, false, private(path, symlinkInfo{}, false)
	}
	if err != nil {
		return entry{}, false, fmt.Errorf("token cache: %s: %v", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return entry{}, false, fmt.Errorf("token cache: %v", err)
	}
	if err := private(path, fi, false); err != nil {
		return entry{}, false, err
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return entry{}, false, fmt.Errorf("token cache: %v", err)
	}
	if json.Unmarshal(data, &e) != nil || e.Server != server || e.Token == "" {
		return entry{}, false, nil
	}
	return e, true, nil
}

// store writes e through a new 0600 file renamed over the old one: a
// reader sees the old token or the new one, whole.
func (c *cache) store(e entry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".token-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(c.fd(), tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("token cache: %s: %v", c.dir, err)
	}
	f := os.NewFile(uintptr(fd), filepath.Join(c.dir, tmp))
	done := false
	defer func() {
		if !done {
			unix.Unlinkat(c.fd(), tmp, 0)
		}
	}()
	err = f.Chmod(0o600) // whatever the umask
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(c.fd(), tmp, c.fd(), name(e.Server))
	}
	if err != nil {
		return fmt.Errorf("token cache: %v", err)
	}
	done = true
	return nil
}

// close lets the directory go.
func (c *cache) close() { c.d.Close() }

// symlinkInfo stands for a file O_NOFOLLOW found to be a symbolic link.
type symlinkInfo struct{}

func (symlinkInfo) Name() string       { return "" }
func (symlinkInfo) Size() int64        { return 0 }
func (symlinkInfo) Mode() fs.FileMode  { return fs.ModeSymlink | 0o777 }
func (symlinkInfo) ModTime() time.Time { return time.Time{} }
func (symlinkInfo) IsDir() bool        { return false }
func (symlinkInfo) Sys() any           { return nil }
