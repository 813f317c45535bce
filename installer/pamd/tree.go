package pamd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"syscall"
	"time"
)

// Tree is where the PAM configuration lives: the live system, or a scratch
// tree for tests and image builders (Root).
type Tree struct {
	Root      string // "" or "/" for the live system
	PamDir    string // default /etc/pam.d
	BackupDir string // default /var/backups/pam-accesscontrol: never in PamDir, where every file is a service
}

func (t Tree) join(p string) string { return filepath.Join(t.Root, p) }

// Dir is the PAM directory on disk.
func (t Tree) Dir() string {
	if t.PamDir != "" {
		return t.join(t.PamDir)
	}
	return t.join("/etc/pam.d")
}

func (t Tree) backupDir() string {
	if t.BackupDir != "" {
		return t.join(t.BackupDir)
	}
	return t.join("/var/backups/pam-accesscontrol")
}

// Services lists the service files, by name.
func (t Tree) Services() ([]string, error) {
	entries, err := os.ReadDir(t.Dir())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name()[0] != '.' {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// File is one service file as read.
type File struct {
	Service string
	Path    string
	Text    []byte
	info    os.FileInfo
}

// Read reads a service file that may be changed: a regular file (not a
// symbolic link, which could point anywhere) owned by root.
func (t Tree) Read(service string) (*File, error) {
	if service == "" || filepath.Base(service) != service || service[0] == '.' {
		return nil, fmt.Errorf("%q is not a PAM service name", service)
	}
	path := filepath.Join(t.Dir(), service)
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) && t.PamDir == "" {
		vendor := t.join(filepath.Join("/usr/lib/pam.d", service))
		if _, verr := os.Stat(vendor); verr == nil {
			return nil, fmt.Errorf("%s comes from the distribution's %s: copy it to %s first (cp %s %s), then run this again",
				service, filepath.Dir(vendor), t.Dir(), vendor, path)
		}
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link; change the file it points to by hand, or replace the link with a file", path)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
		return nil, fmt.Errorf("%s is not owned by root; refusing to change it", path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return &File{Service: service, Path: path, Text: text, info: fi}, nil
}

// Write replaces f's file with text: under a lock, only if nobody changed
// it since Read, with a backup outside the PAM directory, through a
// temporary file that is synced and renamed over it, keeping mode and
// owner. Either the new file is complete, or the old one is untouched.
func (t Tree) Write(f *File, text []byte) (backup string, err error) {
	if err := os.MkdirAll(t.backupDir(), 0o700); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(t.backupDir(), ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	now, err := os.ReadFile(f.Path)
	if err != nil {
		return "", err
	}
	if !bytes.Equal(now, f.Text) {
		return "", fmt.Errorf("%s changed while this ran; run it again", f.Path)
	}
	backup = filepath.Join(t.backupDir(), fmt.Sprintf("%s.%s", f.Service, time.Now().Format("20060102-150405.000000000")))
	if err := writeSynced(backup, f.Text, 0o600); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(f.Path), "."+f.Service+".pam-accesscontrol.tmp")
	if err := writeSynced(tmp, text, f.info.Mode().Perm()); err != nil {
		os.Remove(tmp)
		return "", err
	}
	st := f.info.Sys().(*syscall.Stat_t)
	if err := os.Chown(tmp, int(st.Uid), int(st.Gid)); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, f.Path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if d, err := os.Open(filepath.Dir(f.Path)); err == nil {
		d.Sync()
		d.Close()
	}
	return backup, nil
}

func writeSynced(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Diff is a unified diff of a change, by diff(1).
func Diff(name string, old, new []byte) (string, error) {
	dir, err := os.MkdirTemp("", "pamd-diff")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, old, 0o600)
	os.WriteFile(b, new, 0o600)
	out, err := exec.Command("diff", "-u", "--label", name, "--label", name, a, b).Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 {
		err = nil // differences found
	}
	return string(out), err
}

// Resolver reads the files that services include from the tree: a name
// is looked up in the PAM directory, then in /usr/lib/pam.d, where libpam
// built with a vendor directory (openSUSE, Fedora's polkit-1) finds what
// /etc/pam.d does not override; an absolute path is read under Root.
func (t Tree) Resolver() Resolver {
	return func(name string) ([]byte, error) {
		if name == "" || name == "." || name == ".." {
			return nil, fmt.Errorf("%q names no file", name)
		}
		if filepath.IsAbs(name) {
			return os.ReadFile(t.join(name))
		}
		text, err := os.ReadFile(filepath.Join(t.Dir(), name))
		if errors.Is(err, fs.ErrNotExist) && t.PamDir == "" && filepath.Base(name) == name {
			if vendor, verr := os.ReadFile(t.join(filepath.Join("/usr/lib/pam.d", name))); verr == nil {
				return vendor, nil
			}
		}
		return text, err
	}
}
