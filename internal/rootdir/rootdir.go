// Package rootdir checks the directories where pam-accesscontrol keeps
// state between calls (the run directory, the outbox): whoever could write
// there could plant a decision that lets a login in, or events and mails
// that would be sent as ours.
package rootdir

import (
	"fmt"
	"os"
	"syscall"
)

// Check refuses dir unless it is a directory (not a symbolic link to one)
// owned by this process's user (root, outside of tests that run as a user)
// and not writable by group or others. The error names dir and the fix.
func Check(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir() || !ok:
		return fmt.Errorf("%s is not a directory", dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s is not owned by root (uid %d): chown root %s", dir, st.Uid, dir)
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s is writable by group or others (%v): chmod go-w %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}
