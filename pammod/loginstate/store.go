package loginstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/smallfile"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// Store is the run directory and what lives in it. All state between PAM
// calls goes through a Store: one identity (Login), one atomic write, one
// pruning routine, one clock.
type Store struct {
	dir string
	now func() time.Time
	// wallClock: now is time.Now, so a file's own mtime is the store's
	// time already, and need not be set (two syscalls a record)
	wallClock bool
}

// DefaultDir is the run directory of an installed module (rundir=).
const DefaultDir = "/run/pam-accesscontrol"

// The kinds of state, one subdirectory each.
const (
	decisionsDir = "decisions"
	approvedDir  = "approved"
	pendingDir   = "pending"
	pinsDir      = "pins"
	grantsDir    = "granted"
	lockSuffix   = ".lock"
	numberLock   = "number" + lockSuffix
)

// Open checks the run directory, making it (0700) when it does not exist,
// and returns its Store. A run directory that root does not own, or that
// its group or others may write, is refused: whoever can write there could
// plant a decision.
func Open(dir string, now func() time.Time) (*Store, error) {
	wallClock := now == nil
	if now == nil {
		now = time.Now
	}
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("run directory %q is not an absolute path", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("run directory: %w", err)
	}
	s := &Store{dir: dir, now: now, wallClock: wallClock}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return s, nil
}

// Dir is the run directory.
func (s *Store) Dir() string { return s.dir }

// checkDir refuses a run directory that others could write to, or any
// directory above it (trust.StateDir).
func checkDir(dir string) error {
	if err := trust.StateDir(dir); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	return nil
}

// sub returns the subdirectory of one kind of state, made and checked.
func (s *Store) sub(kind string) (string, error) {
	dir := filepath.Join(s.dir, kind)
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	if err := trust.StateSubdir(dir); err != nil { // Open checked the run directory
		return "", fmt.Errorf("run directory: %w", err)
	}
	return dir, nil
}

// write puts v, as JSON, at dir/name atomically (a reader sees the old
// file or the new one, never a part), with the store's clock as its mtime
// so that prune ages it by the same clock. More names get the same record,
// a link each: the same file for the same state.
func (s *Store) write(dir, name string, v any, at time.Time, more ...string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, tempPrefix+name+"."+randomName())
	err = smallfile.Create(tmp, data, 0o600)
	if err == nil && !s.wallClock {
		err = os.Chtimes(tmp, at, at)
	}
	for _, other := range more {
		if err != nil {
			break
		}
		// linked under a name of its own, then renamed: a reader of
		// dir/other sees the old record or the new one
		otherTmp := filepath.Join(dir, tempPrefix+other+"."+randomName())
		if err = os.Link(tmp, otherTmp); err == nil {
			if err = smallfile.Rename(otherTmp, filepath.Join(dir, other)); err != nil {
				os.Remove(otherTmp)
			}
		}
	}
	if err == nil {
		err = smallfile.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// tempPrefix starts the name of a record being written: readers that list
// a directory skip such files, which are not records yet.
const tempPrefix = "."

// records lists the names of the records in dir, without files being
// written.
func records(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), tempPrefix) && !strings.HasSuffix(e.Name(), lockSuffix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// maxRecord bounds what read takes for a record. Records are small (a
// decision is half a kilobyte) and only root writes them; the bound keeps
// a damaged file from costing a call its memory.
const maxRecord = 1 << 20

// read decodes dir/name into v. A file that is gone is fs.ErrNotExist; one
// that does not decode is an error too, and never a record.
func read(dir, name string, v any) error {
	data, err := smallfile.Read(filepath.Join(dir, name), maxRecord)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// pruneEvery is how often a directory is scanned for stale records: a busy
// server keeps thousands, and scanning them on every call cost a login
// milliseconds. A stale record is never read as valid (each kind checks its
// TTL when it reads), so pruning only keeps the directory small.
const pruneEvery = time.Minute

// pruneMarker's modification time, by the store's clock, says when dir was
// last pruned, for every helper process alike. Its name makes it a file
// being written to readers (records skips it), and prune removes it as a
// leftover once older than the TTL, to make it anew.
const pruneMarker = tempPrefix + "pruned"

// prune removes the files of dir older than ttl by the store's clock, and
// those dated in the future, so the directory stays small whatever logins
// never closed; at most once per pruneEvery. Lock files stay: one removed
// while held would let a second holder lock a new file of the same name.
func (s *Store) prune(dir string, ttl time.Duration) {
	now := s.now()
	marker := filepath.Join(dir, pruneMarker)
	if fi, err := os.Lstat(marker); err == nil {
		if since := now.Sub(fi.ModTime()); since >= 0 && since < pruneEvery {
			return
		}
	}
	if f, err := os.OpenFile(marker, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o600); err == nil {
		f.Close()
		os.Chtimes(marker, now, now)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil || strings.HasSuffix(e.Name(), lockSuffix) || e.Name() == pruneMarker {
			continue
		}
		age := now.Sub(fi.ModTime())
		// a file still being written has no date of ours yet: only an
		// old one is a leftover
		future := age < -time.Minute && !strings.HasPrefix(e.Name(), tempPrefix)
		if age > ttl || future {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// fresh reports whether a record made at `at` is still within ttl.
func (s *Store) fresh(at time.Time, ttl time.Duration) bool {
	age := s.now().Sub(at)
	return age >= 0 && age < ttl
}

// lock takes an exclusive lock on the file at path, waiting until ctx
// ends. The lock holds until the returned function is called. A lock on a
// file that was removed and made anew meanwhile is taken again, so two
// holders never lock two different files of one name.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, err
		}
		if err := flockWait(ctx, f); err != nil {
			f.Close()
			return nil, err
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &now) == nil &&
			held.Ino == now.Ino && held.Dev == now.Dev {
			return func() { f.Close() }, nil // closing releases the lock
		}
		f.Close()
	}
}

func flockWait(ctx context.Context, f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the lock %s: %w", filepath.Base(f.Name()), ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func randomName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
