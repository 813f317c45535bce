// Package smallfile reads and writes the small files a PAM call touches
// (/proc/PID/stat, the run directory's records, and, under internal/trust's
// checks, what the rules, scripts and OPA pulls read) with plain system
// calls.
//
// os.Open registers every file with the runtime's poller: two fcntl and an
// epoll_ctl that a regular file refuses, then two fcntl more; os.ReadFile
// adds an fstat and os.Rename an lstat. That is 7 of the 10 system calls a
// record costs, and in the daemon they were a fifth of a call's time.
package smallfile

import (
	"fmt"
	"io/fs"
	"syscall"
)

// Read returns the content of the file at path, which must be at most
// limit bytes: a larger one is an error, never a part.
func Read(path string, limit int) ([]byte, error) {
	fd, err := open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	return ReadFD(fd, path, limit)
}

// ReadFD reads the open file fd to its end, at most limit bytes: a
// larger one is an error, never a part. path names it in errors.
func ReadFD(fd int, path string, limit int) ([]byte, error) {
	buf := make([]byte, min(limit+1, 4096))
	n := 0
	for {
		if n == len(buf) {
			if n > limit {
				return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
			}
			buf = append(buf, make([]byte, min(len(buf), limit+1-len(buf)))...)
		}
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return buf[:n], nil
		}
		n += m
	}
}

// Create makes a new file at path holding data, with permissions perm. A
// file or link already there is an error (O_EXCL, O_NOFOLLOW): nobody can
// have it write through a planted link.
func Create(path string, data []byte, perm uint32) error {
	fd, err := open(path, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, perm)
	if err != nil {
		return err
	}
	return writeClose(fd, path, data)
}

// Rename moves oldpath to newpath, replacing a file there, as rename(2)
// does (os.Rename stats newpath first).
func Rename(oldpath, newpath string) error {
	if err := syscall.Rename(oldpath, newpath); err != nil {
		return &fs.PathError{Op: "rename", Path: oldpath + " to " + newpath, Err: err}
	}
	return nil
}

func open(path string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, perm)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}

func writeClose(fd int, path string, data []byte) error {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "write", Path: path, Err: err}
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: path, Err: err}
	}
	return nil
}
