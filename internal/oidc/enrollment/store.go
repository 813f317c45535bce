// Package enrollment keeps what `pam-accesscontrol enroll` got from the
// OpenID Connect provider: the server's tokens, and what is needed to
// refresh them and to show them (issuer, client, scopes, expiry).
//
// It is the one owner of that state, a single file (File) in a directory
// of its own (DefaultDir). Whoever could read the file could act as the
// server at the provider, and whoever could write it could make the
// server use their tokens, so:
//
//   - the directory is root's (this process's uid, for tests run as a
//     user), with every directory above it (internal/trust's StateDir),
//     not a symbolic link, and mode 0700: a wider one is refused, not
//     fixed, since something else may be keeping it that way;
//   - the file is 0600, written whole aside (O_EXCL, O_NOFOLLOW: never
//     through a link planted in its place) and renamed over the old one,
//     with fsync on the file and the directory, so a crash leaves the old
//     or the new record, never half of one;
//   - it is read without following a link, and refused unless it is a
//     regular file of root's, with one link, that nobody else may read;
//   - with a Sealer (systemd-creds, --encrypt) the tokens are kept
//     encrypted in the file, and only what Status shows is in clear.
package enrollment

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/smallfile"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/trust"
)

// DefaultDir is where the enrollment is kept (the packages make it, 0700).
const DefaultDir = "/var/lib/pam-accesscontrol"

// File is the record's name in the directory.
const File = "enrollment.json"

// maxRecord bounds what is read: tokens are a few kilobytes at most.
const maxRecord = 256 << 10

// Record is one enrollment. Tokens are in AccessToken and RefreshToken,
// or, when Encryption names a sealer, encrypted in Sealed.
type Record struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecretFile is the file the client secret was read from (the
	// secret itself is never kept here); "" for a public client.
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// AuthMethod is how the client authenticates (device.AuthMethod).
	AuthMethod    string `json:"auth_method,omitempty"`
	TokenEndpoint string `json:"token_endpoint"`
	// CAFile is the CA bundle the provider's certificate chains to; ""
	// for the system's.
	CAFile string `json:"ca_file,omitempty"`
	// Scope is what the provider granted (what was asked when it did not
	// say).
	Scope       string    `json:"scope"`
	TokenType   string    `json:"token_type,omitempty"`
	EnrolledAt  time.Time `json:"enrolled_at"`
	RefreshedAt time.Time `json:"refreshed_at,omitzero"`
	// ExpiresAt is when the access token expires; zero when the provider
	// did not say.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// HasRefreshToken says there is one, without unsealing.
	HasRefreshToken bool `json:"has_refresh_token"`

	Secrets
	// Encryption is "" (tokens in clear, the file root's alone) or
	// SystemdCreds.
	Encryption string `json:"encryption,omitempty"`
	// Sealed is the Secrets, as JSON, encrypted by the sealer.
	Sealed []byte `json:"sealed,omitempty"`
}

// Secrets are the tokens.
type Secrets struct {
	AccessToken  string `json:"access_token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// Sealer encrypts the tokens (SystemdCreds).
type Sealer interface {
	Name() string
	Seal(plain []byte) ([]byte, error)
	Unseal(sealed []byte) ([]byte, error)
}

// Path is the record's path in dir.
func Path(dir string) string { return filepath.Join(dir, File) }

// ErrNotEnrolled: there is no record.
var ErrNotEnrolled = errors.New("this server is not enrolled (no record)")

// Save writes rec to dir, its tokens sealed by s when s is not nil, as
// the package says. dir is made (0700) when missing.
func Save(dir string, rec Record, s Sealer) error {
	if s != nil {
		plain, err := json.Marshal(rec.Secrets)
		if err != nil {
			return err
		}
		sealed, err := s.Seal(plain)
		if err != nil {
			return fmt.Errorf("encrypting the tokens with %s: %w", s.Name(), err)
		}
		rec.Encryption, rec.Sealed, rec.Secrets = s.Name(), sealed, Secrets{}
	} else {
		rec.Encryption, rec.Sealed = "", nil
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	tmp := "." + File + "." + randomSuffix()
	fd, err := retry(func() (int, error) {
		return unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return &fs.PathError{Op: "create", Path: filepath.Join(dir, tmp), Err: err}
	}
	werr := writeAll(fd, append(data, '\n'))
	if werr == nil {
		// whatever the umask left, and whoever made it: 0600
		werr = unix.Fchmod(fd, 0o600)
	}
	if werr == nil {
		werr = unix.Fsync(fd)
	}
	if cerr := unix.Close(fd); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = unix.Renameat(dfd, tmp, dfd, File)
	}
	if werr != nil {
		unix.Unlinkat(dfd, tmp, 0)
		return fmt.Errorf("writing %s: %w", Path(dir), werr)
	}
	return unix.Fsync(dfd)
}

// CheckDir makes dir (0700) when missing and checks it as Save will, so
// that `enroll` finds a directory the record cannot be kept in before an
// administrator approves anything.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fd, err := openDir(dir)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// Load reads the record in dir (its tokens still sealed, when they are:
// see Unseal). No record is ErrNotEnrolled.
func Load(dir string) (*Record, error) {
	dfd, err := openDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEnrolled
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	path := Path(dir)
	fd, err := retry(func() (int, error) {
		return unix.Openat(dfd, File, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	})
	switch {
	case err == unix.ENOENT:
		return nil, ErrNotEnrolled
	case err == unix.ELOOP:
		return nil, fmt.Errorf("%s is a symbolic link: refused; remove it and enroll again", path)
	case err != nil:
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "fstat", Path: path, Err: err}
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return nil, fmt.Errorf("%s is not a regular file: refused", path)
	case !ownUID(st.Uid):
		return nil, fmt.Errorf("%s is owned by uid %d, not root: refused; remove it and enroll again", path, st.Uid)
	case st.Mode&0o077 != 0:
		return nil, fmt.Errorf("%s may be read or written by others (mode %04o): refused; its tokens may be known, "+
			"revoke them at the provider, remove the file and enroll again", path, st.Mode&0o7777)
	case st.Nlink != 1:
		return nil, fmt.Errorf("%s has %d links (another name for the same file): refused", path, st.Nlink)
	}
	data, err := smallfile.ReadFD(fd, path, maxRecord)
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if rec.Issuer == "" || rec.ClientID == "" {
		return nil, fmt.Errorf("%s: no issuer or client_id in it", path)
	}
	return &rec, nil
}

// Unseal returns the record's tokens, decrypting them with s when they
// were sealed (s must be the sealer Encryption names).
func (r *Record) Unseal(s Sealer) (Secrets, error) {
	if r.Encryption == "" {
		return r.Secrets, nil
	}
	if s == nil || s.Name() != r.Encryption {
		return Secrets{}, fmt.Errorf("the tokens are encrypted with %s, which is not available", r.Encryption)
	}
	plain, err := s.Unseal(r.Sealed)
	if err != nil {
		return Secrets{}, fmt.Errorf("decrypting the tokens with %s: %w", r.Encryption, err)
	}
	var sec Secrets
	if err := json.Unmarshal(plain, &sec); err != nil {
		return Secrets{}, fmt.Errorf("decrypted tokens: %v", err)
	}
	return sec, nil
}

// RefreshMargin is how long before expiry a token is refreshed: half its
// life, and at least 15 minutes (three runs of the 5-minute timer), so a
// refresh that fails once is tried again before the token expires.
func (r *Record) RefreshMargin() time.Duration {
	since := r.RefreshedAt
	if since.IsZero() {
		since = r.EnrolledAt
	}
	return max(r.ExpiresAt.Sub(since)/2, 15*time.Minute)
}

// RefreshDue says whether the access token should be refreshed at now.
// A token without an expiry is never due.
func (r *Record) RefreshDue(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt.Add(-r.RefreshMargin()))
}

// openDir checks dir as the package says and opens it (O_PATH is not
// enough for openat with O_CREAT on every kernel: O_RDONLY|O_DIRECTORY).
func openDir(dir string) (int, error) {
	if _, err := os.Lstat(dir); err != nil {
		return -1, err
	}
	if err := trust.StateDir(dir); err != nil {
		return -1, err
	}
	fd, err := retry(func() (int, error) {
		return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &fs.PathError{Op: "fstat", Path: dir, Err: err}
	}
	if !ownUID(st.Uid) || st.Mode&0o077 != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("%s must be root's with mode 0700, not uid %d mode %04o: refused; fix: chown root %s && chmod 0700 %s",
			dir, st.Uid, st.Mode&0o7777, dir, dir)
	}
	return fd, nil
}

// ownUID: root's, or this process's (tests run as a user; trust's rule).
func ownUID(uid uint32) bool { return uid == 0 || int(uid) == os.Geteuid() }

func randomSuffix() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func retry(f func() (int, error)) (int, error) {
	for {
		fd, err := f()
		if err != unix.EINTR {
			return fd, err
		}
	}
}
