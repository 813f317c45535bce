package trust

import (
	"io/fs"

	"golang.org/x/sys/unix"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/smallfile"
)

// ReadFile returns the content of the regular file at path, at most max
// bytes (a larger one is an error, never a part), refusing it unless root
// may believe it, as File says. What is read is the descriptor that was
// checked. It is looked at before it is opened, so a device is never
// opened (/dev/zero would never end, others do something when opened), and
// opened O_NONBLOCK, so a FIFO put there in between does not hang the
// call (in the helper daemon, strand a thread); it is looked at again
// once open.
//
// With AnyOwner only that remains: a regular file, not blocking, bounded
// (what a Starlark script opens; tests that cannot run as root). Private
// is checked either way.
func ReadFile(path string, max int, opts ...Option) ([]byte, error) {
	r, anyOwner := ruleOf(opts)
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	var fd int
	if anyOwner {
		var st unix.Stat_t
		if err := stat(path, &st, r.noFollow); err != nil {
			return nil, err
		}
		if err := isKind(path, st.Mode, unix.S_IFREG); err != nil {
			return nil, err
		}
		if r.noFollow {
			flags |= unix.O_NOFOLLOW
		}
		var err error
		if fd, err = openat(unix.AT_FDCWD, path, flags, path); err != nil {
			return nil, err
		}
	} else {
		f, err := r.walkExisting(path)
		if err != nil {
			return nil, err
		}
		defer f.close()
		if err := isKind(path, f.st.Mode, unix.S_IFREG); err != nil {
			return nil, err
		}
		// the name is not a link (it was followed, or refused): one put
		// there since is not followed either
		if fd, err = openat(f.dir, f.name, flags|unix.O_NOFOLLOW, path); err != nil {
			return nil, err
		}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	if err := isKind(path, st.Mode, unix.S_IFREG); err != nil {
		return nil, err
	}
	if !anyOwner {
		if err := r.checkOwnerMode(&st, path); err != nil {
			return nil, err
		}
	}
	if r.private && st.Mode&0o077 != 0 {
		return nil, notPrivate(path, st.Mode)
	}
	return smallfile.ReadFD(fd, path, max)
}

func openat(dirfd int, name string, flags int, shown string) (int, error) {
	fd, err := retry(func() (int, error) { return unix.Openat(dirfd, name, flags, 0) })
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: shown, Err: err}
	}
	return fd, nil
}
