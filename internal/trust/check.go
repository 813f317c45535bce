package trust

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// File refuses a path that is not a regular file root may believe, with
// every directory above it (see the package): the rules' plugins, scripts,
// the interpreter, and the files settings name (CA bundles, keys) are
// checked with it before use. A link is followed where only root could
// have put it.
func File(path string, opts ...Option) error {
	return check(path, unix.S_IFREG, opts)
}

// Dir is File for a directory (an OPA_PULL_FILES entry): root's, and
// writable by neither group nor others, sticky or not.
func Dir(path string, opts ...Option) error {
	return check(path, unix.S_IFDIR, opts)
}

func check(path string, kind uint32, opts []Option) error {
	r, anyOwner := ruleOf(opts)
	if anyOwner {
		var st unix.Stat_t
		if err := stat(path, &st, r.noFollow); err != nil {
			return err
		}
		return isKind(path, st.Mode, kind)
	}
	f, err := r.walkExisting(path)
	if err != nil {
		return err
	}
	defer f.close()
	if err := isKind(path, f.st.Mode, kind); err != nil {
		return err
	}
	return r.checkOwnerMode(&f.st, path)
}

// Dependencies lists what File's answer for path depends on besides the
// file itself: each directory File's walk opens and each symbolic link it
// follows, as far as it gets, in the order met. The rules' config cache
// (rules.Cache) watches them, so that a change to any of them is seen by
// the very next call.
func Dependencies(path string) []string {
	var out []string
	r := rule{seen: func(p string) { out = append(out, p) }}
	if f, err := r.walk(path); err == nil {
		f.close()
	}
	return out
}

// StateDir refuses a directory where state is kept between calls (the
// run directory and its subdirectories, the outbox) unless it and every
// directory above it are root's (or this process's: tests that run as a
// user) and writable by neither group nor others (a sticky directory
// above is fine, the state directory itself may not be). The directory
// itself may not be a symbolic link. Whoever could write there could plant
// a decision that lets a login in, or events and mails that would be sent
// as ours.
func StateDir(dir string) error {
	r := rule{self: true, noFollow: true}
	f, err := r.walkExisting(dir)
	if err != nil {
		return err
	}
	defer f.close()
	return r.stateDir(&f.st, dir)
}

// StateSubdir is StateDir for a directory whose parent StateDir passed (a
// kind's subdirectory of the run directory, checked at each use): only dir
// itself is looked at, since nobody but root can change what is in a
// directory StateDir passed. The walk from / costs a dozen system calls
// a level, the look one.
func StateSubdir(dir string) error {
	r := rule{self: true, noFollow: true}
	var st unix.Stat_t
	if err := stat(dir, &st, true); err != nil {
		return err
	}
	return r.stateDir(&st, dir)
}

func (r rule) stateDir(st *unix.Stat_t, dir string) error {
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("%s is a symbolic link, not a directory: refused; name the directory it points to", dir)
	}
	if err := isKind(dir, st.Mode, unix.S_IFDIR); err != nil {
		return err
	}
	return r.checkOwnerMode(st, dir)
}

// Socket refuses a unix socket that root did not make (its owner is who
// bound it), or that is in a directory others could write to (they could
// put their own in its place), with every directory above it. The
// socket's own mode does not matter: only who answers on it does.
func Socket(path string) error {
	r := rule{}
	f, err := r.walkExisting(path)
	if err != nil {
		return err
	}
	defer f.close()
	if err := isKind(path, f.st.Mode, unix.S_IFSOCK); err != nil {
		return err
	}
	if !r.owned(f.st.Uid) {
		return fmt.Errorf("%s is owned by uid %d, not root: a process of that user answers on it", path, f.st.Uid)
	}
	return nil
}

// stat looks at path for AnyOwner: followed unless noFollow.
func stat(path string, st *unix.Stat_t, noFollow bool) error {
	flags, op := 0, "stat"
	if noFollow {
		flags, op = unix.AT_SYMLINK_NOFOLLOW, "lstat"
	}
	for {
		err := unix.Fstatat(unix.AT_FDCWD, path, st, flags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &fs.PathError{Op: op, Path: path, Err: err}
		}
		return nil
	}
}
