package trust

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"
)

// AppendLog adds lines at the end of the log file at path (an absolute
// path), each in one write(2), creating it with permissions perm when it
// is not there; with mkdir, missing directories above it too (mode 0750).
//
// Root writes logs in directories that others may write to: Ubuntu's
// /var/log is root:syslog 0775. Whoever can write there must not get root
// to write into another file: a link planted as next month's log
// (pam-accesscontrol-YYYY-MM.log -> /root/.bashrc) would get a line with
// a remote user's name in it. So the rule (see the package) is varied:
// the directories may be writable by their group (never by others without
// the sticky bit), and the file is what is checked:
//
//   - it is opened without following a link (O_NOFOLLOW) and without
//     blocking (O_NONBLOCK: a FIFO planted there with no reader fails at
//     once, one with a reader is refused next);
//   - what was opened must be a regular file owned by root with one link
//     (a hard link to another file has two) that group and others cannot
//     write.
//
// The checks are of the file descriptors, not of names, so nothing can be
// swapped between check and write. What someone who can write the
// directory can still do: remove or rename the log (lines are lost or
// land in the renamed file), or put a file of their own there, which is
// refused (lines are lost). Each refusal is an error naming the path and
// the fix; a log that cannot be written never changes a decision.
func AppendLog(path string, perm uint32, mkdir bool, lines ...[]byte) error {
	if !strings.HasPrefix(path, "/") || strings.HasSuffix(path, "/") {
		return fmt.Errorf("%s: not an absolute path to a file", path)
	}
	if name := path[strings.LastIndexByte(path, '/')+1:]; name == "." || name == ".." {
		return fmt.Errorf("%s: not a path to a file", path)
	}
	r := rule{self: true, groupDirs: true, mkdir: mkdir, noFollow: true}
	f, err := r.walk(path)
	if err != nil {
		return err
	}
	defer f.close()
	fd, err := retry(func() (int, error) {
		return unix.Openat(f.dir, f.name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|
			unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, perm)
	})
	switch {
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("%s is a symbolic link: refused, a log is never written through one; remove it", path)
	case errors.Is(err, unix.ENXIO):
		return fmt.Errorf("%s is a FIFO or a socket, not a regular file: refused; remove it", path)
	case err != nil:
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Errorf("%s is not a regular file: refused; remove it", path)
	case !r.owned(st.Uid):
		return fmt.Errorf("%s is owned by uid %d, not root: refused, someone else made it; remove it", path, st.Uid)
	case st.Nlink != 1:
		return fmt.Errorf("%s has %d links: refused, it may be another file's hard link; remove it", path, st.Nlink)
	case st.Mode&0o022 != 0:
		return fmt.Errorf("%s is writable by group or others (%04o): refused; chmod go-w %s", path, st.Mode&0o7777, path)
	}
	for _, line := range lines {
		for len(line) > 0 {
			n, err := unix.Write(fd, line)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return &fs.PathError{Op: "write", Path: path, Err: err}
			}
			line = line[n:]
		}
	}
	return nil
}
