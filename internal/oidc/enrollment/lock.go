package enrollment

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// ErrBusy: another enroll or refresh holds the enrollment.
var ErrBusy = errors.New("another pam-accesscontrol enroll is at work on this enrollment")

// Lock takes the enrollment's lock, an flock on its directory, waiting at
// most wait: the refresh timer and an administrator's --refresh would
// otherwise both spend the same refresh token, and a provider that rotates
// them refuses the second (RFC 6819 5.2.2.3), which would read as a
// revoked enrollment. unlock releases it.
func Lock(dir string, wait time.Duration) (unlock func(), err error) {
	fd, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { unix.Close(fd) }, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			unix.Close(fd)
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			unix.Close(fd)
			return nil, ErrBusy
		}
		time.Sleep(100 * time.Millisecond)
	}
}
