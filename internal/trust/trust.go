// Package trust decides whether root may believe a path: a file that
// decides logins (the rules, drop-ins, plugins, scripts, the interpreter,
// mail maps, keys and CA files, what an OPA pull reads), a directory where
// state is kept between calls (the run directory, the outbox), a log that
// root appends to, a socket whose server decides logins. Whoever could
// change one of them could let themselves in, plant a decision, or have
// root write into a file of their choosing.
//
// The rule is sshd's StrictModes, and this package is its one
// implementation:
//
//   - the path is walked from / one name at a time, on descriptors, and a
//     symbolic link is followed only in a directory that is root's and
//     that neither group nor others may write: a root-made /etc/x -> /srv/x
//     is fine, a link planted in /tmp is not;
//   - every directory on the way is root's and writable by neither group
//     nor others, unless it has the sticky bit (/tmp: others cannot remove
//     or rename root's entries there);
//   - what the path names is root's, of the kind asked for (a regular
//     file, a directory, a socket), and writable by neither group nor
//     others; a file is looked at before it is opened (a device is never
//     opened), opened without blocking (a FIFO put there in between does
//     not hang a login), looked at again on its descriptor, and read up to
//     a bound.
//
// Each use varies the rule only through the options of its function:
//
//   - File, Dir, ReadFile: the rule as it stands (NoFollow refuses a link
//     as the last name; AnyOwner skips owners and modes, for Starlark's
//     open() and for tests that cannot run as root; Private, for a
//     secret, closes it to group and others);
//   - StateDir: the directory itself may not be a link, and this
//     process's own uid counts as root's (tests that run as a user);
//     StateSubdir looks at a directory in one StateDir passed, alone;
//   - AppendLog: directories may be writable by their group (Ubuntu's
//     /var/log is root:syslog 0775), the file is never reached through a
//     link and must have one link (not another file's hard link), and this
//     process's uid counts as root's;
//   - Socket: the socket's own mode does not matter (who made it does).
//
// Every refusal is an error that names the path and, where there is one,
// the fix. Dependencies says what File looks at, for a cache to watch.
package trust

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Option varies the rule of File, Dir and ReadFile for one use.
type Option uint8

const (
	// NoFollow refuses a symbolic link as the last name of the path (a
	// path whose links were resolved already: an OPA pull's).
	NoFollow Option = 1 << iota
	// AnyOwner skips the walk and the owner and mode checks: only the
	// kind and, for reads, the bound and the non-blocking open remain.
	// For files that decide nothing (what a Starlark script opens) and
	// for tests that cannot run as root.
	AnyOwner
	// Private (ReadFile): the file holds a secret (a client secret, an
	// HMAC or signing key), so neither group nor others may have any
	// access to it, checked on the descriptor that is read, with
	// AnyOwner too.
	Private
)

// rule is the check of one use: the common rule and its variations.
type rule struct {
	// self: this process's uid is as good as root's (tests that run as a
	// user; in the product the helper is root)
	self bool
	// groupDirs: directories on the way may be writable by their group
	groupDirs bool
	// mkdir: missing directories on the way are made (mode 0750)
	mkdir bool
	// noFollow: the last name may not be a symbolic link
	noFollow bool
	// private: the file is a secret, closed to group and others
	private bool
	// seen, when not nil, is told each directory the walk opens and each
	// symbolic link it follows (Dependencies)
	seen func(path string)
}

func ruleOf(opts []Option) (rule, bool) {
	var r rule
	anyOwner := false
	for _, o := range opts {
		r.noFollow = r.noFollow || o&NoFollow != 0
		r.private = r.private || o&Private != 0
		anyOwner = anyOwner || o&AnyOwner != 0
	}
	return r, anyOwner
}

// owned: uid is root's (or this process's, where the rule says so).
func (r rule) owned(uid uint32) bool {
	return uid == 0 || r.self && int(uid) == os.Geteuid()
}

// checkDir is the rule for a directory on the way (shown is where it
// really is).
func (r rule) checkDir(st *unix.Stat_t, shown string) error {
	mode := st.Mode & 0o7777
	switch {
	case !r.owned(st.Uid):
		return notRoot(shown, st.Uid)
	case st.Mode&unix.S_ISVTX != 0:
		return nil // others may add names, never replace root's
	case r.groupDirs && st.Mode&0o002 != 0:
		return fmt.Errorf("%s is writable by anyone without the sticky bit (mode %04o); fix: chmod o-w %s", shown, mode, shown)
	case !r.groupDirs && st.Mode&0o022 != 0:
		return writable(shown, st.Mode)
	}
	return nil
}

// linkIn refuses to follow a symbolic link (shown) in a directory (st, at
// where) that someone other than root could have put it in: a sticky
// directory is no help, anyone may add a name there.
func (r rule) linkIn(st *unix.Stat_t, where, shown string) error {
	if !r.owned(st.Uid) || st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is a symbolic link in %s, which others may write to (mode %04o): refused; "+
			"name what it points to", shown, where, st.Mode&0o7777)
	}
	return nil
}

// checkOwnerMode is the rule for what the path names: root's, and not
// writable by group or others.
func (r rule) checkOwnerMode(st *unix.Stat_t, path string) error {
	switch {
	case !r.owned(st.Uid):
		return notRoot(path, st.Uid)
	case st.Mode&0o022 != 0:
		return writable(path, st.Mode)
	}
	return nil
}

func notRoot(path string, uid uint32) error {
	return fmt.Errorf("%s is owned by uid %d, not root; fix: chown root %s", path, uid, path)
}

func notPrivate(path string, mode uint32) error {
	return fmt.Errorf("%s is readable by group or others (mode %04o): whoever reads it holds the secret; fix: chmod 600 %s", path, mode&0o7777, path)
}

func writable(path string, mode uint32) error {
	return fmt.Errorf("%s is writable by group or others (mode %04o); fix: chmod go-w %s", path, mode&0o7777, path)
}

// kindOf names what a mode is, for a refusal.
func kindOf(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return "a regular file"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return fmt.Sprintf("mode %#o", mode&unix.S_IFMT)
}

// isKind refuses a mode that is not of the kind want (unix.S_IFREG…),
// naming what it is.
func isKind(path string, mode, want uint32) error {
	if mode&unix.S_IFMT == want {
		return nil
	}
	noun := map[uint32]string{unix.S_IFREG: "a regular file", unix.S_IFDIR: "a directory", unix.S_IFSOCK: "a socket"}[want]
	return fmt.Errorf("%s is not %s (%s)", path, noun, kindOf(mode))
}
