package rootdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
// a remote user's name in it. So, unlike the run directory (Check), the
// directory may be shared, and the file is what is checked:
//
//   - the path is walked from / one name at a time, never through a
//     symbolic link that someone other than root could have put there: a
//     link is followed only in a directory that is root's and not writable
//     by group or others (a root-made /var/log -> /data/log is fine, a
//     link planted in /var/log is not);
//   - every directory on the way is owned by root, and none is writable by
//     others without the sticky bit (group-writable is allowed: /var/log);
//   - the file itself is opened without following a link (O_NOFOLLOW) and
//     without blocking (O_NONBLOCK: a FIFO planted there with no reader
//     fails at once, one with a reader is refused next), and what was
//     opened must be a regular file owned by root with one link (a hard
//     link to another file has two) that group and others cannot write.
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
	i := strings.LastIndexByte(path, '/')
	dir, name := path[:i], path[i+1:]
	if dir == "" {
		dir = "/"
	}
	if name == "." || name == ".." {
		return fmt.Errorf("%s: not a path to a file", path)
	}
	dfd, err := openDir(dir, mkdir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	fd, err := retry(func() (int, error) {
		return unix.Openat(dfd, name, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NOFOLLOW|
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
	case !trustedUID(st.Uid):
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

// maxLinks bounds the symbolic links followed on one path (Linux's
// MAXSYMLINKS).
const maxLinks = 40

// openDir walks the absolute path dir from / one name at a time, as
// AppendLog says, and returns the directory's descriptor. A missing
// directory is made (mode 0750) when mkdir is set; one that someone else
// made in the moment between is refused by the owner check.
func openDir(dir string, mkdir bool) (fd int, err error) {
	root, err := openChecked(unix.AT_FDCWD, "/", "/")
	if err != nil {
		return -1, err
	}
	// stack holds the descriptors of the directories from / down to the
	// current one, and where each is: ".." goes up the way it came
	stack := []int{root}
	where := []string{"/"}
	defer func() {
		keep := len(stack) - 1 // the result
		if err != nil {
			keep = len(stack)
		}
		for _, fd := range stack[:keep] {
			unix.Close(fd)
		}
	}()
	names := strings.Split(dir, "/")
	links := 0
	for len(names) > 0 {
		name := names[0]
		names = names[1:]
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
		fd, err := openChecked(top, name, shown)
		if errors.Is(err, unix.ENOENT) && mkdir {
			if err := unix.Mkdirat(top, name, 0o750); err != nil && !errors.Is(err, unix.EEXIST) {
				return -1, &fs.PathError{Op: "mkdir", Path: shown, Err: err}
			}
			fd, err = openChecked(top, name, shown)
		}
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			var st unix.Stat_t
			if e := unix.Fstatat(top, name, &st, unix.AT_SYMLINK_NOFOLLOW); e == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				if err := linkTrusted(top, at, shown); err != nil {
					return -1, err
				}
				if links++; links > maxLinks {
					return -1, fmt.Errorf("%s: too many levels of symbolic links", dir)
				}
				target, err := readlinkat(top, name)
				if err != nil {
					return -1, &fs.PathError{Op: "readlink", Path: shown, Err: err}
				}
				if strings.HasPrefix(target, "/") {
					for _, fd := range stack[1:] {
						unix.Close(fd)
					}
					stack, where = stack[:1], where[:1]
				}
				names = append(strings.Split(target, "/"), names...)
				continue
			}
		}
		if err != nil {
			return -1, err
		}
		stack, where = append(stack, fd), append(where, shown)
	}
	return stack[len(stack)-1], nil
}

// openChecked opens the directory name in dirfd, never through a link
// (a link is an error with ELOOP or ENOTDIR, for the caller to look at),
// and refuses one that is not root's or that anyone may write to without
// the sticky bit. O_PATH: only looked at, and used to open what is in it.
func openChecked(dirfd int, name, shown string) (int, error) {
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
	switch {
	case !trustedUID(st.Uid):
		err = fmt.Errorf("%s is not owned by root (uid %d): chown root %s", shown, st.Uid, shown)
	case st.Mode&0o002 != 0 && st.Mode&unix.S_ISVTX == 0:
		err = fmt.Errorf("%s is writable by anyone without the sticky bit (%04o): chmod o-w %s", shown, st.Mode&0o7777, shown)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// linkTrusted refuses to follow a link in a directory (fd dirfd, at
// where) that someone other than root could have put it in.
func linkTrusted(dirfd int, where, shown string) error {
	var st unix.Stat_t
	if err := unix.Fstat(dirfd, &st); err != nil {
		return &fs.PathError{Op: "fstat", Path: where, Err: err}
	}
	if !trustedUID(st.Uid) || st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is a symbolic link in %s, which others may write to (%04o): refused; name the directory it points to", shown, where, st.Mode&0o7777)
	}
	return nil
}

// trustedUID: root, or this process's user (tests that run as a user).
func trustedUID(uid uint32) bool { return uid == 0 || int(uid) == os.Geteuid() }

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
