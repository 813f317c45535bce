package serve

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockMemory is mlockall(MCL_CURRENT|MCL_FUTURE), as pam_hook does at
// start: passwords, the signing key and tokens never go to swap. With
// MCL_ONFAULT (Linux 4.4 and later) a page is locked when first touched
// rather than when mapped: every page that ever holds a secret is locked
// all the same, but the Go runtime's reservations (a 64 MB heap arena at
// once) do not all become resident (about 20 MB instead of 135 MB
// measured for an idle service). As in
// pam_hook, a service that cannot lock refuses to start (--disable-mlock
// says to run without); the error says what to change.
//
// It refuses before trying when RLIMIT_MEMLOCK is finite and the process
// lacks CAP_IPC_LOCK: mlockall would succeed while the process is small,
// and with MCL_FUTURE the Go runtime's later mappings would fail and kill
// it under load, long after start. Root has CAP_IPC_LOCK; a service run
// as another user needs LimitMEMLOCK=infinity or AmbientCapabilities=
// CAP_IPC_LOCK in its unit.
func lockMemory() error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim); err != nil {
		return fmt.Errorf("mlockall: RLIMIT_MEMLOCK: %v", err)
	}
	if lim.Cur != unix.RLIM_INFINITY && !hasCapIPCLock() {
		return fmt.Errorf("mlockall: RLIMIT_MEMLOCK is %d bytes and the process lacks CAP_IPC_LOCK: "+
			"give the service LimitMEMLOCK=infinity or CAP_IPC_LOCK, or run it with --disable-mlock", lim.Cur)
	}
	err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT)
	if errors.Is(err, unix.EINVAL) { // a kernel before 4.4: no MCL_ONFAULT
		err = unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
	}
	if err != nil {
		return fmt.Errorf("mlockall: %v (give the service CAP_IPC_LOCK, or run it with --disable-mlock)", err)
	}
	return nil
}

// hasCapIPCLock reads CapEff from /proc/self/status.
func hasCapIPCLock() bool {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<unix.CAP_IPC_LOCK) != 0
		}
	}
	return false
}
