package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxLinks bounds the symbolic links followed on one path (Linux's
// MAXSYMLINKS).
const maxLinks = 40

// found is where a walk ended: the directory that holds the last name
// (checked, open), the name, and what the name is (not followed).
type found struct {
	dir   int    // O_PATH descriptor of the directory; the caller closes it
	where string // that directory's real path
	name  string // the last name; "." when the path names a directory reached by "..", "." or a trailing "/"
	st    unix.Stat_t
	// stErr: the last name could not be looked at (missing); only
	// AppendLog, which makes the file, goes on without it
	stErr error
}

func (f *found) close() { unix.Close(f.dir) }

// walkExisting is walk for a name that must be there: a last name that
// cannot be looked at is the error, and nothing is left open.
func (r rule) walkExisting(path string) (*found, error) {
	f, err := r.walk(path)
	if err != nil {
		return nil, err
	}
	if f.stErr != nil {
		f.close()
		return nil, f.stErr
	}
	return f, nil
}

// shown is the real path of what was found.
func (f *found) shown() string {
	if f.name == "." {
		return f.where
	}
	return join(f.where, f.name)
}

// walk resolves path for rule r, as the package says: from / one name at a
// time, each directory opened O_PATH without following a link and checked
// on its descriptor, a link followed only where r.linkIn allows it. A
// relative path is taken from the working directory. The last name is
// looked at (fstatat, not followed) and, unless r.noFollow, followed when it
// is a link. A missing directory is made when r.mkdir; one that someone
// else made in the moment between is refused by the owner check.
func (r rule) walk(path string) (f *found, err error) {
	if !filepath.IsAbs(path) {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		path = abs
	}
	root, err := r.openDir(unix.AT_FDCWD, "/", "/")
	if err != nil {
		return nil, err
	}
	// stack holds the descriptors of the directories from / down to the
	// current one, and where each is: ".." goes up the way it came
	r.saw("/")
	stack := []int{root}
	where := []string{"/"}
	defer func() {
		keep := len(stack) - 1 // the result's directory
		if err != nil {
			keep = len(stack)
		}
		for _, fd := range stack[:keep] {
			unix.Close(fd)
		}
	}()
	names := strings.Split(path, "/")
	links := 0
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
		last := !anyName(names)
		top, at := stack[len(stack)-1], where[len(where)-1]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				unix.Close(top)
				stack, where = stack[:len(stack)-1], where[:len(where)-1]
			}
			continue
		}
		shown := join(at, name)
		if last {
			f := &found{dir: top, where: at, name: name}
			f.stErr = fstatat(top, name, &f.st, shown)
			if f.stErr != nil || f.st.Mode&unix.S_IFMT != unix.S_IFLNK || r.noFollow {
				return f, nil
			}
		} else {
			r.saw(shown) // refused or missing, too: its change may change the answer
			fd, err := r.openDir(top, name, shown)
			if errors.Is(err, unix.ENOENT) && r.mkdir {
				if err := unix.Mkdirat(top, name, 0o750); err != nil && !errors.Is(err, unix.EEXIST) {
					return nil, &fs.PathError{Op: "mkdir", Path: shown, Err: err}
				}
				fd, err = r.openDir(top, name, shown)
			}
			if err == nil {
				stack, where = append(stack, fd), append(where, shown)
				continue
			}
			var st unix.Stat_t
			if !(errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR)) ||
				unix.Fstatat(top, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
				return nil, err
			}
		}
		// a symbolic link: followed only where only root could have put it
		var dst unix.Stat_t
		if err := unix.Fstat(top, &dst); err != nil {
			return nil, &fs.PathError{Op: "fstat", Path: at, Err: err}
		}
		if last {
			r.saw(shown) // a link above was seen as a directory
		}
		if err := r.linkIn(&dst, at, shown); err != nil {
			return nil, err
		}
		if links++; links > maxLinks {
			return nil, fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		target, err := readlinkat(top, name)
		if err != nil {
			return nil, &fs.PathError{Op: "readlink", Path: shown, Err: err}
		}
		if strings.HasPrefix(target, "/") {
			for _, fd := range stack[1:] {
				unix.Close(fd)
			}
			stack, where = stack[:1], where[:1]
		}
		names = append(strings.Split(target, "/"), names...)
	}
	// the path ends in a directory reached by "/", "." or "..": it is
	// named "." in itself, and its own directory is where it is
	top := stack[len(stack)-1]
	f = &found{dir: top, where: where[len(where)-1], name: "."}
	f.stErr = fstatat(top, ".", &f.st, f.where)
	return f, nil
}

func (r rule) saw(path string) {
	if r.seen != nil {
		r.seen(path)
	}
}

// anyName: names hold a name that is more than "", "." or "..". Only then
// is the current one not the last.
func anyName(names []string) bool {
	for _, n := range names {
		if n != "" && n != "." {
			return true
		}
	}
	return false
}

// openDir opens the directory name in dirfd, never through a link (a link
// is an error with ELOOP or ENOTDIR, for the caller to look at), and
// checks it by r.checkDir. O_PATH: only looked at, and used to open what
// is in it.
func (r rule) openDir(dirfd int, name, shown string) (int, error) {
	fd, err := retry(func() (int, error) {
		return unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: shown, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &fs.PathError{Op: "fstat", Path: shown, Err: err}
	}
	if err := r.checkDir(&st, shown); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func fstatat(dirfd int, name string, st *unix.Stat_t, shown string) error {
	for {
		err := unix.Fstatat(dirfd, name, st, unix.AT_SYMLINK_NOFOLLOW)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: "lstat", Path: shown, Err: err}
		}
		return nil
	}
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size >= unix.PathMax {
			return "", unix.ENAMETOOLONG
		}
	}
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func retry(open func() (int, error)) (int, error) {
	for {
		fd, err := open()
		if err != unix.EINTR {
			return fd, err
		}
	}
}
