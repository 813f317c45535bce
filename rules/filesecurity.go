package rules

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// maxFileSize bounds every file the rules read. A config this large is a
// mistake or an attack, and reading it must not exhaust a login's memory.
const maxFileSize = 16 << 20

// readTrusted reads a file that decides logins. Like sshd's StrictModes, it
// refuses a file that someone other than root could have written: the file
// and every directory above it must be owned by root and not writable by
// group or others (a sticky directory such as /tmp is allowed, since others
// cannot replace root's files there). With skipOwner, only tests relax this.
func readTrusted(path string, skipOwner bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if !skipOwner {
		if err := checkTrusted(path, fi, false); err != nil {
			return nil, err
		}
		if err := checkParents(path); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxFileSize>>20)
	}
	return data, nil
}

// CheckTrusted reports why a file that exists may not be trusted (see
// readTrusted), or nil. Plugins and scripts are checked with it before use.
func CheckTrusted(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := checkTrusted(path, fi, false); err != nil {
		return err
	}
	return checkParents(path)
}

func checkTrusted(path string, fi fs.FileInfo, isDir bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot read its owner", path)
	}
	if st.Uid != 0 {
		return fmt.Errorf("%s is owned by uid %d, not root; fix: chown root %s", path, st.Uid, path)
	}
	if fi.Mode().Perm()&0o022 != 0 && !(isDir && fi.Mode()&fs.ModeSticky != 0) {
		return fmt.Errorf("%s is writable by group or others (mode %04o); fix: chmod go-w %s",
			path, fi.Mode().Perm(), path)
	}
	return nil
}

// checkParents checks every directory above the file, both where it is
// named and, when that is a symbolic link, where it really is.
func checkParents(path string) error {
	named, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(named)
	if err != nil {
		return err
	}
	if err := checkDirsAbove(named); err != nil {
		return err
	}
	if real != named {
		return checkDirsAbove(real)
	}
	return nil
}

func checkDirsAbove(path string) error {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if err := checkTrusted(dir, fi, true); err != nil {
			return err
		}
		if dir == "/" {
			return nil
		}
	}
}

// ReadTrusted reads a file that decides logins, or a key that protects
// them, refusing one that someone other than root could have written.
func ReadTrusted(path string) ([]byte, error) { return readTrusted(path, false) }
